"""The question types: one module per kind, registered here in the order authors see
them listed. Adding a type is its module, one line in REGISTRY, its templates
(templates/qti/questions/, templates/scorm/questions/), its player script
(templates/scorm/assets/question-<name>.js) and its tests."""

from __future__ import annotations

from qtiexport.questions.base import QuestionKind
from qtiexport.questions.essay import Essay
from qtiexport.questions.hotspot import Hotspot
from qtiexport.questions.match import Match
from qtiexport.questions.multiple import Multiple
from qtiexport.questions.numeric import Numeric
from qtiexport.questions.order import Order
from qtiexport.questions.point import Point
from qtiexport.questions.single import Single
from qtiexport.questions.text import Text
from qtiexport.questions.true_false import TrueFalse

REGISTRY: tuple[QuestionKind, ...] = (
    Single(),
    Multiple(),
    TrueFalse(),
    Text(),
    Numeric(),
    Order(),
    Match(),
    Essay(),
    Hotspot(),
    Point(),
)
NAMES: tuple[str, ...] = tuple(kind.name for kind in REGISTRY)
_BY_NAME = {kind.name: kind for kind in REGISTRY}


def kind_of(name: str) -> QuestionKind:
    """The kind of a question type; KeyError for a name no kind has."""
    return _BY_NAME[name]


def owners_of(key: str) -> tuple[str, ...]:
    """The names of the kinds that declare `key`."""
    return tuple(kind.name for kind in REGISTRY if any(k.name == key for k in kind.keys))


# Every key some kind declares, in registry order.
KIND_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(key.name for kind in REGISTRY for key in kind.keys)
)
