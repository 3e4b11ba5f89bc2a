"""A course the size of real radiology teaching, for the player's layout and viewer tests.

Radiographs are 2,000–3,000 px, MR/CT slices 512–1,024 px and come in series; each
test image is a drawn circle on a grid, so any distortion shows as an ellipse and
uneven squares in a screenshot, and the files are deterministic.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

CASE_ID = "big-images"
# id: (file, width, height)
IMAGES = {
    "radiograph": ("images/radiograph.png", 2048, 2560),
    "axial": ("images/axial.png", 1024, 1024),
    "panorama": ("images/panorama.png", 3000, 1000),
}
ANNOTATED = ("images/radiograph-annotated.png", 2048, 2560)
SERIES_SLICES = 24
SERIES_SIZE = 512

TABLE = """\
| Phase | Weeks | Radiograph |
|:------|------:|:-----------|
| Early | 0–2 | Normal or soft-tissue swelling |
| Intermediate | 3–8 | Peripheral rim calcification |
| Mature | > 8 | Well-defined ossified mass with zoning |
"""


def draw_test_image(path: Path, width: int, height: int, *, label: str = "", mark: int = 0) -> None:
    """A grid of squares with a circle in the middle: true shape is easy to measure."""
    image = Image.new("L", (width, height), 20)
    draw = ImageDraw.Draw(image)
    step = max(16, min(width, height) // 16)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=90, width=max(1, step // 32))
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=90, width=max(1, step // 32))
    radius = min(width, height) * 0.4
    cx, cy = width / 2, height / 2
    draw.ellipse(
        [cx - radius, cy - radius, cx + radius, cy + radius],
        outline=235,
        width=max(2, step // 8),
    )
    if mark:  # a slice number drawn as a bar, so slices differ visibly
        draw.rectangle([8, 8, 8 + mark * 12, 28], fill=235)
    if label:
        draw.text((step // 2, step // 2), label, fill=255)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=False)


def make_radiology_course(folder: Path) -> Path:
    """Write the course into `folder` (created) and return it."""
    case = folder / "cases" / CASE_ID
    for _, (file, width, height) in IMAGES.items():
        draw_test_image(case / file, width, height)
    draw_test_image(case / ANNOTATED[0], ANNOTATED[1], ANNOTATED[2], label="->")
    for n in range(1, SERIES_SLICES + 1):
        draw_test_image(
            case / f"images/t2/slice-{n}.png", SERIES_SIZE, SERIES_SIZE, mark=n % 20 + 1
        )
    (folder / "course.yaml").write_text(
        "id: big-images-course\n"
        "title: Real-size images\n"
        "mastery_score: 60\n"
        "cases:\n"
        f"  - {CASE_ID}\n",
        encoding="utf-8",
    )
    indented_table = "".join(f"  {line}\n" for line in TABLE.splitlines())
    teaching_table = "".join(f"      {line}\n" for line in TABLE.splitlines())
    (case / "case.yaml").write_text(
        f"id: {CASE_ID}\n"
        "title: A mass seen at every size\n"
        "history: |\n"
        "  A 40-year-old man with a painful mass. Staged phases:\n"
        "\n"
        f"{indented_table}"
        "images:\n"
        "  - id: radiograph\n"
        f"    file: {IMAGES['radiograph'][0]}\n"
        f"    annotated: {ANNOTATED[0]}\n"
        "    caption: '**Fig. 1** Frontal radiograph'\n"
        "    alt: Frontal radiograph of the forearm with a round calcified mass.\n"
        "    modality: XR\n"
        "    findings: A round, well-defined calcified mass in the soft tissue.\n"
        "  - id: axial\n"
        f"    file: {IMAGES['axial'][0]}\n"
        "    caption: Axial CT\n"
        "    alt: Axial CT slice through the mass.\n"
        "    modality: CT\n"
        "  - id: panorama\n"
        f"    file: {IMAGES['panorama'][0]}\n"
        "    caption: Long-leg radiograph\n"
        "    alt: Long-leg radiograph, wide and short.\n"
        "    modality: XR\n"
        "  - id: t2\n"
        "    series: images/t2/*.png\n"
        "    caption: Axial T2, 24 slices\n"
        "    alt: Axial T2-weighted MR slice through the mass.\n"
        "    modality: MR\n"
        "    findings: |\n"
        "      High signal rim on the middle slices.\n"
        "\n"
        f"{teaching_table}"
        "diagnosis: Myositis ossificans\n"
        "teaching:\n"
        "  - title: Phases\n"
        "    body: |\n"
        f"{teaching_table}"
        "references:\n"
        "  - '[A review](https://example.org/review). Journal. 2001;1:1-10.'\n",
        encoding="utf-8",
    )
    (case / "questions.yaml").write_text(
        "questions:\n"
        "  - id: q1\n"
        "    type: single\n"
        "    stem: Which is the most likely diagnosis?\n"
        "    images: [radiograph]\n"
        "    choices: {a: Myositis ossificans, b: Osteosarcoma, c: Synovial sarcoma}\n"
        "    answer: a\n"
        "    feedback:\n"
        "      explanation: Zoning is the key sign.\n"
        "  - id: q2\n"
        "    type: multiple\n"
        "    stem: Which images show the mass?\n"
        "    images: [axial, t2]\n"
        "    choices: {a: The CT, b: The MR series, c: Neither}\n"
        "    answer: [a, b]\n"
        "  - id: q3\n"
        "    type: true_false\n"
        "    stem: The panorama is 3 times wider than high.\n"
        "    images: [panorama]\n"
        "    answer: true\n",
        encoding="utf-8",
    )
    return folder
