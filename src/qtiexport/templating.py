"""The Jinja environment over `templates/`: templates render, Python decides."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
import markupsafe
from markupsafe import Markup


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    """Templates ship inside the wheel; in a source checkout they sit at the top level.
    Found once per process: a build asks for every case's page and manifest resource."""
    installed = Path(__file__).resolve().parent / "templates"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "templates"


# markupsafe's own escaping of a str, without the Markup constructor's Python-level checks.
_ESCAPE_TEXT: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
_new_str = str.__new__


def escape(value: Any, /) -> Markup:
    """`markupsafe.escape`, the same Markup for every value, made faster for the two
    values a page outputs thousands of times: a str (escaped by markupsafe's own
    function, wrapped without the constructor's checks) and Markup (already safe: as
    markupsafe.escape would, it is returned unchanged in content)."""
    kind = type(value)
    if kind is str and _ESCAPE_TEXT is not None:
        return _new_str(Markup, _ESCAPE_TEXT(value))
    if kind is Markup:
        return value
    return markupsafe.escape(value)


class _Template(jinja2.Template):
    """A template whose output expressions escape with `escape` above. Jinja's compiled
    code looks `escape` up among the template module's globals on every `{{ … }}`; a
    build writes some 600,000 of them for 5,000 questions, and markupsafe's escape
    spends most of its time constructing Markup in Python. Should a Jinja release name
    it otherwise, this changes nothing (tests/test_render_shortcuts.py notices)."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = escape
        return template


class _Environment(jinja2.Environment):
    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ChainMap over the
        environment's: every `{% import %}` compares the importer's globals with the
        imported template's, which over a ChainMap takes Python-level set operations
        (some 15,000 imports for 5,000 questions). The same names and values: the
        environment's globals are never changed once templates are loaded."""
        return {**self.globals, **(d or {})}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # author text is data: every value is escaped unless marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # A build renders thousands of documents: checking each time whether the
        # template file changed on disk would cost a stat per document (and per import).
        auto_reload=False,
    )
    env.template_class = _Template
    return env


def render_template(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
