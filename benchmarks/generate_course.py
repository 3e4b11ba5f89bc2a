"""Generate a large course of ordinary course YAML, deterministic from a seed.

    python benchmarks/generate_course.py OUT --cases 10 --questions 50 --images 3 --seed 1

N cases × M questions of mixed types (single, multiple with both scorings, true_false,
text) with K small images each. The same questions can be written as a text2qti quiz
(`text2qti_quiz`), so that both tools are timed on equal work.
"""

from __future__ import annotations

import argparse
import io
import random
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image

# fmt: off
WORDS = (
    "calcified", "periarticular", "mass", "septa", "radiolucent", "extensor", "bursa",
    "signal", "marrow", "cortex", "lesion", "synovial", "sarcoma", "tendon", "ligament",
    "fluid", "sclerosis", "erosion", "oedema", "fracture", "callus", "cartilage", "joint",
    "effusion", "tumour", "benign", "malignant", "matrix", "osteoid", "chondroid",
)
# fmt: on
TYPES = ("single", "multiple", "true_false", "text")


@dataclass(frozen=True)
class GeneratedCourse:
    root: Path
    questions: list[dict]  # every question in order, as written to questions.yaml


def _phrase(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _image_bytes(rng: random.Random, width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _question(rng: random.Random, qid: str, image_ids: list[str]) -> dict:
    qtype = TYPES[rng.randrange(len(TYPES))]
    question: dict = {"id": qid, "type": qtype, "stem": f"{_phrase(rng, 8, 20)}?"}
    if image_ids and rng.random() < 0.3:
        question["images"] = [rng.choice(image_ids)]
    if qtype in ("single", "multiple"):
        count = rng.randint(4, 6)
        keys = "abcdefghijklmnopqrstuvwxyz"[:count]
        question["choices"] = {k: f"{k.upper()} {_phrase(rng, 2, 6)}" for k in keys}
        if qtype == "single":
            question["answer"] = rng.choice(keys)
        else:
            question["answer"] = sorted(rng.sample(keys, rng.randint(1, count - 1)))
            if rng.random() < 0.5:
                question["scoring"] = "partial"
        question["shuffle"] = rng.random() < 0.5
    elif qtype == "true_false":
        question["answer"] = rng.random() < 0.5
    else:
        question["answer"] = [_phrase(rng, 1, 3) + f" {i}" for i in range(rng.randint(1, 3))]
        question["max_length"] = 60
    question["feedback"] = {"explanation": _phrase(rng, 10, 30) + "."}
    return question


def generate_course(
    root: Path, cases: int, questions: int, images: int = 2, seed: int = 1
) -> GeneratedCourse:
    """Write a course of `cases` × `questions` questions with `images` images per case."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    case_ids = [f"case-{n:04d}" for n in range(1, cases + 1)]
    course = {
        "id": f"bench-{cases}x{questions}",
        "title": f"Benchmark course, {cases * questions} questions",
        "mastery_score": 70,
        "cases": case_ids,
    }
    (root / "course.yaml").write_text(yaml.safe_dump(course, sort_keys=False))
    every_question = []
    for number, case_id in enumerate(case_ids, 1):
        folder = root / "cases" / case_id
        (folder / "images").mkdir(parents=True, exist_ok=True)
        image_entries = []
        for k in range(1, images + 1):
            name = f"images/figure-{k}.png"
            size = (rng.randint(40, 120), rng.randint(30, 90))
            (folder / name).write_bytes(_image_bytes(rng, *size))
            image_entries.append(
                {"id": f"fig{k}", "file": name, "caption": f"Figure {k}", "alt": _phrase(rng, 4, 8)}
            )
        case = {
            "id": case_id,
            "title": f"Case {number}: {_phrase(rng, 2, 5)}",
            "history": _phrase(rng, 30, 60) + ".",
            "images": image_entries,
            "teaching": [{"title": "Teaching", "body": f"1. {_phrase(rng, 8, 16)}\n2. Done.\n"}],
        }
        (folder / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False, allow_unicode=True))
        ids = [e["id"] for e in image_entries]
        case_questions = [_question(rng, f"c{number}q{n}", ids) for n in range(1, questions + 1)]
        (folder / "questions.yaml").write_text(
            yaml.safe_dump({"questions": case_questions}, sort_keys=False, allow_unicode=True)
        )
        every_question.extend(case_questions)
    return GeneratedCourse(root, every_question)


def text2qti_quiz(generated: GeneratedCourse) -> str:
    """The same questions as a text2qti plain-text quiz (text2qti writes QTI 1.2)."""
    lines = ["Quiz title: Benchmark", "Quiz description: The same questions as the course.", ""]
    for number, question in enumerate(generated.questions, 1):
        lines.append(f"{number}.  {question['stem']}")
        # text2qti takes a question's general feedback right after its stem.
        lines.append(f"... {question['feedback']['explanation']}")
        qtype = question["type"]
        if qtype == "single":
            for key, text in question["choices"].items():
                mark = "*" if key == question["answer"] else ""
                lines.append(f"{mark}{key})".ljust(4) + f" {text}")
        elif qtype == "multiple":
            for key, text in question["choices"].items():
                lines.append(f"[{'*' if key in question['answer'] else ' '}] {text}")
        elif qtype == "true_false":
            lines.append(f"{'*' if question['answer'] else ''}a)".ljust(4) + " True")
            lines.append(f"{'' if question['answer'] else '*'}b)".ljust(4) + " False")
        else:
            lines.extend(f"*   {answer}" for answer in question["answer"])
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--questions", type=int, default=50, help="questions per case")
    parser.add_argument("--images", type=int, default=2, help="images per case")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generated = generate_course(args.out, args.cases, args.questions, args.images, args.seed)
    print(f"wrote {len(generated.questions)} questions to {args.out}")


if __name__ == "__main__":
    main()
