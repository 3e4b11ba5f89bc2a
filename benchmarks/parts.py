"""The parts of a build that tuning our code cannot remove, timed alone in one process.

    python benchmarks/parts.py                 # a 5,000-question course
    python benchmarks/parts.py --questions 500

On a generated course, after one full build (so that imports, caches and the page cache
are warm, and to have the documents), each part runs again by itself, and its best time
of three is kept:
- yaml: libyaml composing every YAML file of the course (no conversion, no checks);
- jinja: the Jinja templates rendering every document, from views made beforehand;
- xsd: lxml parsing every XML document of both packages and checking it against its
  official schema (the streaming check for the large manifests, as the build does);
- zlib: deflating every distinct file of both packages once, for the zips;
- trees: writing those files into fresh folders, the unzipped trees `build --tree` adds;
  timed for reference, and left out of the sum, as a build writes no trees by default.
Two more are paid once per build, in one process, whatever the cores:
- start-up: a fresh Python process importing qtiexport's command line, and exiting;
- schemas: compiling the three official schemas the check uses.
It prints each part's seconds, the sum of the first four spread over the machine's cores
plus the two paid once, beside text2qti's median time on the same questions: a bound below
which no build that loads YAML, renders through templates and checks against the schemas
can go, whatever else it does (validating, turning Markdown into XHTML, writing the zips).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import yaml
from lxml import etree

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate_course import generate_course, text2qti_quiz  # noqa: E402
from benchmarks.sweep import IMAGES_PER_CASE, QUESTIONS_PER_CASE, measure_text2qti  # noqa: E402
from qtiexport import qti, scorm, templating  # noqa: E402
from qtiexport.build import TARGETS, build_course  # noqa: E402
from qtiexport.package import COMPRESS_LEVEL  # noqa: E402
from qtiexport.schemas import SCHEMA_FILES, SchemaSet  # noqa: E402
from qtiexport.validate import validate_course  # noqa: E402

REPEAT = 3  # each part's best of this many runs: a lower bound wants the best
KINDS = ("qti", "qti-manifest", "scorm-manifest")  # the schemas a build compiles


def timed(work) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        # Objects made before are frozen, so that the collector does not walk this
        # script's large heap while the part runs, as it would not in a process doing
        # only this part.
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def compile_schema(folder: Path, kind: str) -> etree.XMLSchema:
    """What the build does once per schema (its own result is remembered per process)."""
    return etree.XMLSchema(etree.parse(str(folder / SCHEMA_FILES[kind])))


def startup_seconds() -> float:
    """The best of a few fresh processes that import the command line and exit."""
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import qtiexport.cli"], check=True)
        best = min(best, time.perf_counter() - started)
    return best


def captured_renders(course) -> list[tuple[str, dict]]:
    """Every template call a build makes, with its arguments, captured from one render."""
    calls: list[tuple[str, dict]] = []
    real = templating.render_template

    def capture(name: str, **values):
        calls.append((name, values))
        return real(name, **values)

    for module in (qti, scorm):
        module.render_template = capture
    try:
        for case in course.cases:
            scorm.render_sco(course, case)
            qti.render_test(course, case)
            for question in case.questions:
                qti.render_item(course, case, question)
        qti.render_manifest(course)
        scorm.render_manifest(course)
    finally:
        for module in (qti, scorm):
            module.render_template = real
    return calls


def xml_documents(out: Path, course_id: str) -> list[tuple[str, bytes]]:
    """(schema kind, bytes) of every XML document the build checks: the QTI package's,
    and the SCORM manifest (the SCORM package's QTI files are the same documents)."""
    tree = out / course_id / "qti21"
    documents = [
        ("qti-manifest" if path.name == "imsmanifest.xml" else "qti", path.read_bytes())
        for path in sorted(tree.rglob("*.xml"))
    ]
    scorm_manifest = out / course_id / "scorm12" / "imsmanifest.xml"
    return documents + [("scorm-manifest", scorm_manifest.read_bytes())]


def package_files(out: Path, course_id: str) -> list[tuple[str, bytes]]:
    """Every distinct file of both packages (the SCORM package's QTI files are links to
    the QTI package's), as (path in the trees, bytes)."""
    files = []
    for path in sorted((out / course_id).rglob("*")):
        name = path.relative_to(out / course_id).as_posix()
        if path.is_file() and not name.startswith("scorm12/qti/"):
            files.append((name, path.read_bytes()))
    return files


def write_trees(files: list[tuple[str, bytes]], root: Path) -> None:
    """The unzipped trees, written as plainly as Python can: one open and write per file."""
    for name, data in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)


def text2qti_seconds(quiz: Path) -> float:
    """The peer's median, not its best: the bound must not flatter us."""
    runs = sorted(measure_text2qti(quiz)["wall"] for _ in range(REPEAT))
    return runs[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument(
        "--schemas",
        type=Path,
        default=Path(os.environ.get("QTIEXPORT_SCHEMAS", REPO.parent / "shared" / "schemas")),
    )
    args = parser.parse_args()
    cases = max(1, args.questions // QUESTIONS_PER_CASE)
    per_case = args.questions // cases
    schemas = SchemaSet(args.schemas)
    for kind in KINDS:
        schemas.schema(kind)
    with tempfile.TemporaryDirectory(prefix="qtiexport-parts-") as work:
        work = Path(work)
        generated = generate_course(work / "course", cases, per_case, IMAGES_PER_CASE, seed=1)
        quiz = work / "quiz" / "quiz.txt"
        quiz.parent.mkdir()
        quiz.write_text(text2qti_quiz(generated), encoding="utf-8")
        course = validate_course(generated.root)
        build_course(course, work / "out", TARGETS, schemas, trees=True)  # to read the files
        texts = [p.read_bytes() for p in sorted(generated.root.rglob("*.yaml"))]
        calls = captured_renders(course)
        documents = xml_documents(work / "out", course.id)
        files = package_files(work / "out", course.id)
        parts = {
            "yaml": timed(lambda: [yaml.compose(t, Loader=yaml.CSafeLoader) for t in texts]),
            "jinja": timed(lambda: [templating.render_template(n, **v) for n, v in calls]),
            "xsd": timed(lambda: [schemas.problems("", k, d) for k, d in documents]),
            "zlib": timed(lambda: [zlib.compress(data, COMPRESS_LEVEL) for _, data in files]),
            "trees": timed(lambda: write_trees(files, Path(tempfile.mkdtemp(dir=work)))),
        }
        once = {
            "start-up": startup_seconds(),
            "schemas": timed(lambda: [compile_schema(args.schemas, kind) for kind in KINDS]),
        }
        peer = text2qti_seconds(quiz)
    cores = os.cpu_count() or 1
    total = sum(seconds for name, seconds in parts.items() if name != "trees")
    print(f"{course.id}: {args.questions} questions, {len(documents)} XML documents")
    for name, seconds in parts.items():
        aside = "  (with --tree only; not in the sum)" if name == "trees" else ""
        print(f"  {name:<6} {seconds:6.2f} s{aside}")
    print(f"  sum    {total:6.2f} s, over {cores} cores at best {total / cores:.2f} s")
    for name, seconds in once.items():
        print(f"  {name:<8} {seconds:4.2f} s  (once per build, in one process)")
    floor = total / cores + sum(once.values())
    print(f"  floor  {floor:6.2f} s: the sum over the cores, with start-up and schemas")
    print(f"text2qti: {peer:.2f} s, so 3x faster than text2qti would be {peer / 3:.2f} s")


if __name__ == "__main__":
    main()
