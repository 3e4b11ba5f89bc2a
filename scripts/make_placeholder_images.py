"""Regenerate the seed case's placeholder images.

The seed text names two images but carries no image files. These placeholders say
what the real image shows and that they are placeholders; the annotated versions add
the green arrows the history refers to. Run: python scripts/make_placeholder_images.py
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from qtiexport.scaffold import draw_arrow

OUT = Path(__file__).resolve().parent.parent / "content/cases/tumoral-calcinosis/images"
SIZE = (960, 720)

IMAGES = {
    "lateral-radiograph": (
        "Lateral Radiograph",
        "A real lateral radiograph of the left hand and wrist would show a lobulated, "
        "densely calcified soft-tissue mass beside the wrist, divided by thin radiolucent "
        "septa (the chicken wire sign), with the neighbouring bones intact.",
        [((610, 330), (470, 400)), ((650, 520), (500, 470))],
    ),
    "coronal-t2-fat-sat": (
        "Coronal T2 Fat Sat",
        "A real coronal fat-saturated T2-weighted MR image of the left wrist would show a "
        "multilobulated periarticular mass with high signal at its periphery and along its "
        "septa, around low-signal calcium.",
        [((300, 330), (430, 400)), ((280, 540), (430, 480))],
    ),
}


def make(name: str, caption: str, description: str, arrows, annotated: bool) -> Image.Image:
    image = Image.new("RGB", SIZE, (24, 24, 28))
    draw = ImageDraw.Draw(image)
    big = ImageFont.load_default(size=44)
    small = ImageFont.load_default(size=26)
    draw.rectangle([12, 12, SIZE[0] - 12, SIZE[1] - 12], outline=(200, 200, 200), width=4)
    draw.text((48, 40), "PLACEHOLDER IMAGE", font=big, fill=(255, 210, 60))
    draw.text(
        (48, 100), caption + (" (annotated)" if annotated else ""), font=big, fill=(255, 255, 255)
    )
    # A soft grey blob stands where the mass would be.
    draw.ellipse([420, 320, 640, 530], fill=(120, 120, 120), outline=(200, 200, 200), width=3)
    for x in (470, 520, 570):
        draw.line([(x, 330), (x + 10, 520)], fill=(60, 60, 60), width=4)
    y = 566
    for line in textwrap.wrap(description, 66):
        draw.text((48, y), line, font=small, fill=(235, 235, 235))
        y += 29
    if annotated:
        for tail, head in arrows:
            draw_arrow(draw, tail, head)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (caption, description, arrows) in IMAGES.items():
        for annotated in (False, True):
            image = make(name, caption, description, arrows, annotated)
            suffix = "-annotated" if annotated else ""
            image.save(OUT / f"{name}{suffix}.png", optimize=True)
            print(OUT / f"{name}{suffix}.png")


if __name__ == "__main__":
    main()
