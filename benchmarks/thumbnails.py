"""What one build-time thumbnail costs, beside the encoder settings used before.

    python benchmarks/thumbnails.py              # 25 runs of each, medians
    python benchmarks/thumbnails.py --runs 5

For two radiographs, the seed's 960×720 PNG and a 2,048×2,560 one (the seed's, enlarged,
with film-like noise so that it decodes and encodes like a scan, not like a drawing), it
times decoding alone, then the whole thumbnail (decode, resize, WebP encode) with the
settings the build uses and with the earlier ones (WebP method 4, reducing gap 3.0), in
turn, in this one process, and prints the medians, their ratio, the thumbnail's bytes and
its distance from an exact Lanczos resize in dB (higher is closer).
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from qtiexport import thumbnails  # noqa: E402

SEED_RADIOGRAPH = REPO / "content" / "cases" / "tumoral-calcinosis" / "images"
SEED_RADIOGRAPH = SEED_RADIOGRAPH / "lateral-radiograph.png"
LARGE = (2048, 2560)
EARLIER = {"WEBP_METHOD": 4, "REDUCING_GAP": 3.0}


def large_radiograph() -> bytes:
    """The seed's radiograph at 2,048×2,560 with grain: the size of a real one."""
    with Image.open(SEED_RADIOGRAPH) as seed:
        enlarged = seed.convert("L").resize(LARGE, Image.Resampling.BICUBIC)
    scan = Image.blend(enlarged, Image.effect_noise(LARGE, 24), 0.12)
    out = io.BytesIO()
    scan.save(out, format="PNG")
    return out.getvalue()


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()


def with_settings(settings: dict[str, float], work: Callable[[], bytes]) -> bytes:
    saved = {name: getattr(thumbnails, name) for name in settings}
    for name, value in settings.items():
        setattr(thumbnails, name, value)
    try:
        return work()
    finally:
        for name, value in saved.items():
            setattr(thumbnails, name, value)


def distance_db(data: bytes, thumbnail: bytes, size: thumbnails.ThumbnailSize) -> float:
    with Image.open(io.BytesIO(data)) as source:
        exact = source.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(thumbnail)) as made:
        difference = ImageChops.difference(exact, made.convert("RGB"))
    mean_square = sum(rms**2 for rms in ImageStat.Stat(difference).rms) / 3
    return 10 * math.log10(255**2 / mean_square) if mean_square else math.inf


def report(label: str, data: bytes, runs: int) -> str:
    """One image's line: decoding alone, then the thumbnail now and before, interleaved
    so that a slow spell of the machine hits both alike."""
    with Image.open(io.BytesIO(data)) as picture:
        size = thumbnails.thumbnail_size(*picture.size)
    decoding = statistics.median(seconds(lambda: decode(data)) for _ in range(runs))
    made: dict[str, bytes] = {}

    def make_now() -> None:
        made["now"] = thumbnails._thumbnail(data, size)

    def make_earlier() -> None:
        made["earlier"] = with_settings(EARLIER, lambda: thumbnails._thumbnail(data, size))

    runs_now, runs_earlier = [], []
    for _ in range(runs):
        runs_now.append(seconds(make_now))
        runs_earlier.append(seconds(make_earlier))
    now, earlier = statistics.median(runs_now), statistics.median(runs_earlier)
    return (
        f"{label}: decode {decoding * 1000:.1f} ms; thumbnail {now * 1000:.1f} ms "
        f"(method {thumbnails.WEBP_METHOD}, gap {thumbnails.REDUCING_GAP}) against "
        f"{earlier * 1000:.1f} ms before (method 4, gap 3.0): {now / earlier:.2f} of it; "
        f"{len(made['now']):,} against {len(made['earlier']):,} bytes; "
        f"{distance_db(data, made['now'], size):.1f} against "
        f"{distance_db(data, made['earlier'], size):.1f} dB from the exact resize"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    print(f"medians of {args.runs} runs, one process, the two settings taken in turn")
    print(report("seed radiograph 960x720", SEED_RADIOGRAPH.read_bytes(), args.runs))
    print(report("radiograph 2048x2560", large_radiograph(), args.runs))


if __name__ == "__main__":
    main()
