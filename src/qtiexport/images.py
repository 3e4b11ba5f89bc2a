"""What an image file really is, read from its bytes rather than its name."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image as PILImage

# Pillow reads only the header for the size; this bound stops a crafted header from
# claiming a picture no learner's browser could decode.
MAX_PIXELS = 100_000_000
MAX_IMAGE_BYTES = 50 * 1024 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class ImageFacts:
    media_type: str
    width: int
    height: int


class ImageProblem(Exception):
    """The file is not an image we can publish; the message says why."""


def _sniff(head: bytes) -> str | None:
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<") and re.search(rb"<svg[\s>]", head):
        return "image/svg+xml"
    return None


_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(px)?\s*$")


def _svg_facts(path: Path) -> ImageFacts:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise ImageProblem(f"the SVG does not parse: {exc}") from None
    if etree.QName(root).localname != "svg":
        raise ImageProblem("the file is XML but not SVG")
    for element in root.iter():
        name = etree.QName(element).localname if isinstance(element.tag, str) else ""
        if name in ("script", "foreignObject") or any(
            a.lower().startswith("on") for a in element.attrib
        ):
            raise ImageProblem("the SVG contains script or event handlers; remove them")
    width = _LENGTH.match(root.get("width", ""))
    height = _LENGTH.match(root.get("height", ""))
    if width and height:
        return ImageFacts("image/svg+xml", round(float(width[1])), round(float(height[1])))
    box = root.get("viewBox", "").replace(",", " ").split()
    if len(box) == 4:
        try:
            return ImageFacts("image/svg+xml", round(float(box[2])), round(float(box[3])))
        except ValueError:
            pass
    raise ImageProblem("the SVG has neither width and height in pixels nor a viewBox")


def read_image_facts(path: Path) -> ImageFacts:
    """Media type and pixel size of an image, checked against its actual bytes."""
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        raise ImageProblem(
            f"the image is {size / 1048576:.0f} MB; images are limited to "
            f"{MAX_IMAGE_BYTES // 1048576} MB (export it smaller)"
        )
    with path.open("rb") as handle:
        head = handle.read(512)
    media_type = _sniff(head)
    if media_type is None:
        raise ImageProblem(
            "the file is not a PNG, JPEG, GIF, SVG or WebP image, whatever its name says"
        )
    if media_type == "image/svg+xml":
        return _svg_facts(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as image:
                width, height = image.size
    except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
        raise ImageProblem(
            f"the image claims more than {MAX_PIXELS:,} pixels (a decompression bomb?); "
            "scale it down"
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageProblem("the image is damaged or truncated; export it again") from None
    if width * height > MAX_PIXELS:
        raise ImageProblem(
            f"the image is {width}×{height} pixels; images are limited to "
            f"{MAX_PIXELS:,} pixels (scale it down)"
        )
    return ImageFacts(media_type, width, height)


_EXTENSIONS = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/svg+xml": (".svg",),
}


def extension_matches(path: Path, media_type: str) -> bool:
    return path.suffix.lower() in _EXTENSIONS[media_type]
