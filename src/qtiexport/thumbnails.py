"""Thumbnails made at build time: what the player shows in its gallery and beside questions.

A full radiograph (2,000–3,000 px, megabytes) shown in a 200 px box costs a phone its
data plan and its memory; the player loads the full image only when the viewer opens.
Each thumbnail fits within 400×400 px (twice the CSS box, for high-density screens),
is never larger than its image, keeps the image's shape, and is a WebP: a quarter of a
PNG's bytes for the same picture. The bytes depend on the pixels alone (no metadata,
fixed encoder settings), so a rebuild gives the same file.

An SVG is its own thumbnail: it is drawn at any size from the same small file.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from typing import NamedTuple

from PIL import Image as PILImage

from qtiexport.model import Image

THUMBNAIL_BOX = 400  # px: twice the 200 px CSS box the player shows thumbnails in
THUMBNAIL_MEDIA_TYPE = "image/webp"
THUMBNAIL_SUFFIX = ".webp"
SVG = "image/svg+xml"
# Lossy WebP at this quality shows no artefact at thumbnail size. Method 2 encodes in
# about half the time of libwebp's default (4), for files some 3% larger; a course of
# 2,000 radiographs makes 2,000 thumbnails on a cold build. Every setting gives the same
# bytes each run.
WEBP_QUALITY = 80
WEBP_METHOD = 2
# Shrink by a whole factor first (a box average, fast) while the image stays at least this
# many times the thumbnail, then resample with Lanczos: Pillow's own default for
# thumbnails. With method 2, a thumbnail takes 0.78-0.84 of the time of method 4 and a gap
# of 3.0, and lies 0.1-1.0 dB further from the exact resize (benchmarks/thumbnails.py).
REDUCING_GAP = 2.0
# Thumbnails made in this process, by the digest of their image's bytes and their size:
# an image file used again (the same scan in several cases) is decoded, resized and
# encoded once. A thumbnail is some 10-30 KB; the oldest go first past this many.
REMEMBERED_THUMBNAILS = 256
_made: OrderedDict[tuple[bytes, ThumbnailSize], bytes] = OrderedDict()


class ThumbnailSize(NamedTuple):
    width: int
    height: int


def thumbnail_size(width: int, height: int, box: int = THUMBNAIL_BOX) -> ThumbnailSize:
    """The largest size within `box`×`box` with the image's aspect ratio, never larger
    than the image. Decided from the size the validator read, so the page can name it
    before the thumbnail exists."""
    scale = min(1.0, box / width, box / height)
    return ThumbnailSize(max(1, round(width * scale)), max(1, round(height * scale)))


def has_thumbnail_file(image: Image) -> bool:
    """Whether the build writes a thumbnail file for the image (rasters do; an SVG is
    shown as it is)."""
    return image.media_type != SVG


def _displayable(picture: PILImage.Image) -> PILImage.Image:
    """The picture in a mode WebP stores (RGB or RGBA), its grey levels kept visible."""
    if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit medical images rarely use the whole range: stretch what they use to
        # 8 bits, or a thumbnail of a CT slice would be black.
        picture = picture.convert("I") if picture.mode != "F" else picture
        low, high = picture.getextrema()
        spread = (high - low) or 1
        picture = picture.point(lambda value: (value - low) * 255 / spread).convert("L")
    if picture.mode in ("1", "L", "P", "PA", "LA", "CMYK", "YCbCr", "LAB", "HSV", "RGBa"):
        transparent = picture.mode in ("PA", "LA") or "transparency" in picture.info
        picture = picture.convert("RGBA" if transparent else "RGB")
    return picture


def make_thumbnail(image: Image) -> bytes:
    """The WebP thumbnail of a raster image, at `thumbnail_size(image.width, image.height)`.
    The bytes depend on the image's bytes and the size alone, so an image met again in
    this process gets the thumbnail made the first time."""
    size = thumbnail_size(image.width, image.height)
    data = image.file.read_bytes()
    key = (hashlib.sha256(data).digest(), size)
    made = _made.get(key)
    if made is None:
        made = _thumbnail(data, size)
        _made[key] = made
        if len(_made) > REMEMBERED_THUMBNAILS:
            _made.popitem(last=False)
    return made


def _thumbnail(data: bytes, size: ThumbnailSize) -> bytes:
    with PILImage.open(io.BytesIO(data)) as source:
        # Only the first frame of an animated GIF or WebP: a thumbnail is a still.
        source.seek(0)
        if source.format == "JPEG":
            source.draft("RGB", (size.width, size.height))  # decode at a fraction of the size
        picture = _displayable(source)
        if picture.size != (size.width, size.height):
            # The same result for the same pixels every time.
            picture = picture.resize(
                (size.width, size.height), PILImage.Resampling.LANCZOS, reducing_gap=REDUCING_GAP
            )
        else:
            picture = picture.copy()
    # No EXIF, ICC profile or XMP from the source: the bytes depend on the pixels only.
    picture.info = {}
    out = io.BytesIO()
    picture.save(
        out,
        format="WEBP",
        quality=WEBP_QUALITY,
        method=WEBP_METHOD,
        exact=False,
        exif=b"",
        icc_profile=None,
        xmp=b"",
    )
    return out.getvalue()
