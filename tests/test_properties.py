"""Property-based tests: random valid courses build and score right; random damage to the
seed course ends in located errors, never a traceback or a partial package.

Profiles (see conftest): `ci` by default, `large` with HYPOTHESIS_PROFILE=large.
"""

from __future__ import annotations

import io
import random
import shutil
import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image

from qtiexport.build import TARGETS, build_course
from qtiexport.diagnostics import ContentError
from qtiexport.markdown import markdown_to_text
from qtiexport.package import TEMP_PREFIX
from qtiexport.qti import assessment_test_href, item_href
from qtiexport.questions.text import normalise_answer
from qtiexport.validate import validate_course

from conftest import CONTENT
from test_qti import run_pyslet

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
TRICKY = [
    "]]>",
    "&amp;",
    "a & b < c > d",
    "\"quoted\" 'single'",
    "مرحبا بالعالم",  # right-to-left
    "e\u0301 a\u0308",  # combining marks
    "🦴🩻",
    "</script><script>alert(1)</script>",
    "x" * 3000,  # a very long line
    "{{ jinja }} {% raw %}",
]
# Printable text: no control characters, surrogates, private-use or unassigned code
# points (YAML itself refuses some of those, with a located error).
characters = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))
plain = st.one_of(st.text(characters, min_size=1, max_size=60), st.sampled_from(TRICKY)).filter(
    lambda s: s.strip() and len(s) <= 3000
)
MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!<>&|~\"'=:;/")


def as_markdown(text: str) -> str:
    """Markdown whose rendered text is exactly `text`: every punctuation mark escaped."""
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


def words(text: str) -> str:
    return " ".join(text.split())


@st.composite
def questions(draw, number: int, image_ids: list[str]) -> dict:
    qtype = draw(st.sampled_from(["single", "multiple", "true_false", "text"]))
    stem = draw(plain)
    question = {"id": f"q{number}", "type": qtype, "stem": as_markdown(stem), "_stem": stem}
    if image_ids and draw(st.booleans()):
        question["images"] = [draw(st.sampled_from(image_ids))]
    if qtype in ("single", "multiple"):
        texts = draw(
            st.lists(plain, min_size=2, max_size=8, unique_by=lambda s: words(s).casefold())
        )
        keys = "abcdefghijklmnopqrstuvwxyz"[: len(texts)]
        question["choices"] = {k: as_markdown(t) for k, t in zip(keys, texts, strict=True)}
        if qtype == "single":
            question["answer"] = draw(st.sampled_from(keys))
        else:
            question["answer"] = sorted(draw(st.sets(st.sampled_from(keys), min_size=1)))
            question["scoring"] = draw(st.sampled_from(["all_or_nothing", "partial"]))
        question["shuffle"] = draw(st.booleans())
    elif qtype == "true_false":
        question["answer"] = draw(st.booleans())
    else:
        answers = draw(
            st.lists(
                # Accepted answers are compared as `normalise_answer` has them: one that
                # is only punctuation, or the same as another there, is an author error.
                plain.filter(lambda s: len(s) <= 80 and s == s.strip() and normalise_answer(s)),
                min_size=1,
                max_size=3,
                unique_by=normalise_answer,
            )
        )
        question["answer"] = answers
        question["max_length"] = 200
    question["points"] = draw(st.sampled_from([1, 2, 0.5, 3]))
    return question


@st.composite
def courses(draw) -> dict:
    cases = []
    for c in range(draw(st.integers(1, 2))):
        images = [
            (f"img{i}", draw(st.integers(1, 300)), draw(st.integers(1, 300)))
            for i in range(draw(st.integers(0, 2)))
        ]
        # Every case numbers its questions q1, q2…, as authors do.
        case_questions = [
            draw(questions(number, [i for i, _, _ in images]))
            for number in range(1, draw(st.integers(1, 4)) + 1)
        ]
        title, history = draw(plain), draw(plain)
        cases.append(
            {
                "id": f"case-{c}",
                "title": title,
                "history": history,
                "images": images,
                "questions": case_questions,
            }
        )
    return {"title": draw(plain), "cases": cases}


def write_course(spec: dict, root: Path) -> None:
    course = {
        "id": "random",
        "title": spec["title"],
        "mastery_score": 50,
        "cases": [c["id"] for c in spec["cases"]],
    }
    root.mkdir(parents=True)
    dump = {"allow_unicode": True, "sort_keys": False, "width": 10**6}
    (root / "course.yaml").write_text(yaml.safe_dump(course, **dump), encoding="utf-8")
    for case in spec["cases"]:
        folder = root / "cases" / case["id"]
        (folder / "images").mkdir(parents=True)
        images = []
        for image_id, width, height in case["images"]:
            out = io.BytesIO()
            Image.new("RGB", (width, height), (width % 256, height % 256, 90)).save(out, "PNG")
            (folder / "images" / f"{image_id}.png").write_bytes(out.getvalue())
            images.append(
                {
                    "id": image_id,
                    "file": f"images/{image_id}.png",
                    "caption": as_markdown(case["title"]),
                    "alt": case["title"],
                }
            )
        document = {
            "id": case["id"],
            "title": case["title"],
            "history": as_markdown(case["history"]),
            "images": images,
        }
        (folder / "case.yaml").write_text(yaml.safe_dump(document, **dump), encoding="utf-8")
        entries = [{k: v for k, v in q.items() if not k.startswith("_")} for q in case["questions"]]
        (folder / "questions.yaml").write_text(
            yaml.safe_dump({"questions": entries}, **dump), encoding="utf-8"
        )


def keyed_response(question: dict):
    if question["type"] == "true_false":
        return "true" if question["answer"] else "false"
    if question["type"] == "text":
        return question["answer"][0]
    return question["answer"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=courses())
def test_random_valid_courses_build_valid_and_score_full_marks(spec, tmp_path_factory, schema_set):
    root = tmp_path_factory.mktemp("course") / "content"
    write_course(spec, root)
    course = validate_course(root)
    out = root.parent / "build"
    built = build_course(course, out, TARGETS, schema_set)  # raises on any schema violation
    assert [b.target for b in built] == list(TARGETS)
    with zipfile.ZipFile(out / "random-qti21.zip") as archive:
        for case in spec["cases"]:
            for question in case["questions"]:
                item = archive.read(item_href(*course.question(f"{case['id']}/{question['id']}")))
                score, feedback = run_pyslet(item, keyed_response(question))
                assert score == question["points"] or abs(score - question["points"]) < 1e-9
                assert "correct" in feedback
                body = etree.fromstring(item).find(f"{QTI}itemBody/{QTI}div[@class='stem']")
                assert words("".join(body.itertext())) == words(question["_stem"])
                if question["type"] in ("single", "multiple"):
                    shown = [
                        words("".join(c.itertext()))
                        for c in etree.fromstring(item).iter(f"{QTI}simpleChoice")
                    ]
                    written = [words(markdown_to_text(t)) for t in question["choices"].values()]
                    assert shown == written
            cases = {c.id: c for c in course.cases}
            test = etree.fromstring(archive.read(assessment_test_href(cases[case["id"]])))
            assert test.get("title") == case["title"]


# --- random damage to the seed course -----------------------------------------------------

FILES = [
    "course.yaml",
    "cases/tumoral-calcinosis/case.yaml",
    "cases/tumoral-calcinosis/questions.yaml",
]


def mutate(data: bytes, operation: str, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    if operation == "delete-line":
        del lines[rng.randrange(len(lines))]
    elif operation == "swap-lines":
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif operation == "truncate":
        return data[: rng.randrange(len(data))]
    elif operation == "random-bytes":
        at = rng.randrange(len(data))
        return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[at:]
    elif operation == "change-type":
        candidates = [i for i, line in enumerate(lines) if b": " in line]
        i = rng.choice(candidates)
        key = lines[i].split(b": ", 1)[0]
        lines[i] = key + b": " + rng.choice([b"[1, 2]", b"{x: 1}", b"true", b"12", b"~", b'""'])
    elif operation == "duplicate-line":
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif operation == "indent":
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([b"  ", b"\t", b" "]) + lines[i]
    return b"\n".join(lines)


OPERATIONS = [
    "delete-line",
    "swap-lines",
    "truncate",
    "random-bytes",
    "change-type",
    "duplicate-line",
    "indent",
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    target=st.sampled_from(FILES),
    operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_damaged_seed_fails_cleanly_or_builds(target, operations, seed, tmp_path_factory, run_cli):
    work = tmp_path_factory.mktemp("damaged")
    root = work / "content"
    shutil.copytree(CONTENT, root)
    rng = random.Random(seed)
    path = root / target
    data = path.read_bytes()
    for operation in operations:
        if data:
            data = mutate(data, operation, rng)
    path.write_bytes(data)
    out = work / "build"
    result = run_cli("build", str(root), "-o", str(out))
    assert "Traceback" not in result.output + result.stderr
    if result.exit_code == 0:  # the damage may even have renamed the course
        names = sorted(p.name for p in out.glob("*.zip"))
        assert len(names) == 2, names
        assert names[0].endswith("-qti21.zip") and names[1].endswith("-scorm12.zip")
    else:
        assert result.exit_code == 1, result.output + result.stderr
        lines = result.stderr.splitlines()
        assert lines[-1].endswith(("error", "errors"))
        for line in lines[:-1]:
            path, position, message = line.partition(": error: ")[0].split(":", 1) + [line]
            assert path.removeprefix(f"{root}/") in FILES, line
            assert ": error: " in message and position.replace(":", "").isdigit(), line
        # Nothing was written, not even a temporary file.
        assert not out.exists() or not any(out.rglob(TEMP_PREFIX + "*"))
        assert not list(out.glob("*.zip")) if out.exists() else True
    try:
        validate_course(root)
    except ContentError as error:
        assert error.diagnostics
