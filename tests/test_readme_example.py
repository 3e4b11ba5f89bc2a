"""The complete example in the README is a valid course."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from qtiexport.validate import validate_course

from conftest import REPO


def test_readme_example_validates(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# (\S+)\n(.*?)```", readme, re.S)
    assert [name for name, _ in blocks] == [
        "course.yaml",
        "cases/tumoral-calcinosis/case.yaml",
        "cases/tumoral-calcinosis/questions.yaml",
    ]
    for name, text in blocks:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    images = tmp_path / "cases/tumoral-calcinosis/images"
    images.mkdir()
    (images / "t2").mkdir()
    for name in (
        "lateral-radiograph.png",
        "lateral-radiograph-annotated.png",
        "t2/slice-1.png",
        "t2/slice-2.png",
    ):
        Image.new("RGB", (8, 6)).save(images / name)
    course = validate_course(tmp_path)
    assert [len(image.series) for image in course.cases[0].images] == [0, 2]
    types = [q.type for q in course.cases[0].questions]
    assert types == [
        "single",
        "multiple",
        "true_false",
        "text",
        "numeric",
        "order",
        "match",
        "essay",
    ]
