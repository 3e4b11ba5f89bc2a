"""What an image file really is, read from its bytes rather than its name."""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from collections.abc import Callable
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


_NOT_AN_IMAGE = "the file is not a PNG, JPEG, GIF, SVG or WebP image, whatever its name says"


def _sniff(head: bytes) -> str | None:
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # Anything that starts like markup goes to the XML parser, which decides: an SVG may
    # open with a comment or a DOCTYPE longer than `head`.
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if text.startswith(b"<"):
        return "image/svg+xml"
    return None


# ---------------------------------------------------------------------------- SVG
#
# An SVG is a document, not a picture: opened on its own (a link, an LMS file preview) it
# runs script in the origin that serves it. So it is shipped only when everything in it is
# described by the allowlists below, checked on the bytes that ship, with libxml2 (through
# lxml): the XML parser Chromium itself uses for SVG documents. What is allowed is static
# SVG 1.1 drawing: shapes, text, gradients, patterns, markers, clipping, masks and filters,
# and references to `#id` in the same file. Nothing can load another resource, run script,
# animate, or bring in another namespace's elements.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_STRUCTURE = {"svg", "g", "defs", "title", "desc", "metadata", "symbol", "use"}
_SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon"}
_TEXT = {"text", "tspan", "textPath"}
_PAINT = {"linearGradient", "radialGradient", "stop", "pattern", "marker", "clipPath", "mask"}
# Filter primitives compute pixels from the element they apply to; feImage, the one that
# loads a resource, is left out.
_FILTERS = {
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feFuncR",
    "feFuncG",
    "feFuncB",
    "feFuncA",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "fePointLight",
    "feSpotLight",
    "feFlood",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "feSpecularLighting",
    "feTile",
    "feTurbulence",
}
# Everything else is refused, notably script, style, foreignObject, a, image, feImage,
# the animation elements (animate, set, animateMotion, animateTransform, animateColor,
# discard, mpath), the font elements (font-face-uri loads a file), cursor, tref, switch.
SVG_ELEMENTS = frozenset(_STRUCTURE | _SHAPES | _TEXT | _PAINT | _FILTERS)

# Presentation attributes, read by the browser as CSS values; also the properties a
# `style` attribute may set. cursor, color-profile and src-like properties are left out.
PRESENTATION_ATTRIBUTES = _words(
    """
    alignment-baseline baseline-shift clip clip-path clip-rule color color-interpolation
    color-interpolation-filters color-rendering direction display dominant-baseline
    enable-background fill fill-opacity fill-rule filter flood-color flood-opacity font
    font-family font-size font-size-adjust font-stretch font-style font-variant font-weight
    glyph-orientation-horizontal glyph-orientation-vertical image-rendering kerning
    letter-spacing lighting-color marker marker-end marker-mid marker-start mask opacity
    overflow pointer-events shape-rendering stop-color stop-opacity stroke stroke-dasharray
    stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity
    stroke-width text-anchor text-decoration text-rendering unicode-bidi visibility
    word-spacing writing-mode paint-order vector-effect mix-blend-mode isolation
    transform-origin
    """
)
# Further properties a `style` attribute may set: what drawing programs write there.
_STYLE_ONLY = _words(
    """
    line-height text-align text-indent text-transform text-orientation white-space
    font-feature-settings font-variation-settings font-variant-ligatures font-variant-caps
    font-variant-numeric font-variant-east-asian font-variant-position
    text-decoration-line text-decoration-style text-decoration-color solid-color
    solid-opacity inline-size shape-inside shape-padding transform
    -inkscape-font-specification -inkscape-stroke
    """
)
STYLE_PROPERTIES = PRESENTATION_ATTRIBUTES | _STYLE_ONLY
_GEOMETRY_ATTRIBUTES = _words(
    """
    id class x y x1 y1 x2 y2 cx cy r rx ry fx fy fr width height d points transform viewBox
    preserveAspectRatio version baseProfile pathLength dx dy rotate textLength
    lengthAdjust startOffset method spacing side gradientUnits gradientTransform
    spreadMethod offset clipPathUnits maskUnits maskContentUnits patternUnits
    patternContentUnits patternTransform markerUnits markerWidth markerHeight refX refY
    orient filterUnits primitiveUnits filterRes in in2 result mode type values tableValues
    slope intercept amplitude exponent operator k1 k2 k3 k4 order kernelMatrix divisor
    bias targetX targetY edgeMode kernelUnitLength preserveAlpha surfaceScale
    diffuseConstant specularConstant specularExponent scale xChannelSelector
    yChannelSelector stdDeviation radius baseFrequency numOctaves seed stitchTiles azimuth
    elevation z pointsAtX pointsAtY pointsAtZ limitingConeAngle href style
    role aria-label aria-labelledby aria-describedby aria-hidden
    """
)
SVG_ATTRIBUTES = PRESENTATION_ATTRIBUTES | _GEOMETRY_ATTRIBUTES
# Attributes in other namespaces: the XLink reference (checked like `href`) and xml:space
# and xml:lang. xml:base is refused: it would change what a reference points to.
_NAMESPACED_ATTRIBUTES = {
    f"{{{XLINK_NS}}}href": "xlink:href",
    f"{{{XML_NS}}}space": "xml:space",
    f"{{{XML_NS}}}lang": "xml:lang",
}
# Text for people, never read as CSS or as a URL.
_PLAIN_TEXT_ATTRIBUTES = frozenset({"aria-label"})

_LOCAL_REFERENCE = re.compile(r"#[^\s#()'\"\\]+")
# CSS functions a value may call; any other (url() to anything but `#id`, image-set(),
# image(), cross-fade(), src()…) could load a resource.
_ALLOWED_FUNCTIONS = frozenset(
    {"rgb", "rgba", "hsl", "hsla", "matrix", "translate", "scale", "rotate", "skewx", "skewy"}
)
# The lookbehind makes each name be tried once, from its start: linear on any value.
_FUNCTION = re.compile(r"(?<![\w-])([\w-]+)\(")
_LOCAL_URL = re.compile(r"""url\(\s*(['"]?)#[^\s#()'"\\]+\1\s*\)""", re.IGNORECASE)
_SCRIPT_SCHEME = re.compile(r"(java|vb)script:", re.IGNORECASE)
_DECLARATION = re.compile(r"\s*([A-Za-z-]+)\s*:(.*)", re.DOTALL)
_MESSAGE_LIMIT = 5
_IN_SVG = f"{{{SVG_NS}}}"
_COMMENT_OR_CDATA = re.compile(rb"<!--|<!\[CDATA\[")
# Attributes whose value is safe at a glance when it holds no function call, escape or
# scheme; the others (href, style, namespaced ones) always get the full check.
_PLAIN_VALUES = SVG_ATTRIBUTES - {"href", "style"}
_NEEDS_A_LOOK = re.compile(r"[(\\:]")
# Parsing an SVG costs time per element and attribute; this bounds it (about 2 s).
MAX_SVG_PARTS = 500_000


class _StopReading(Exception):
    """Enough problems are found to tell the author."""


# A line number, or how to find it when it is shown.
_Line = int | None | Callable[[], int | None]
_ENCODING_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]*?encoding\s*=\s*['\"]([^'\"]*)")


def _shown(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


class _SvgReader:
    """Reads one SVG's bytes; collects every reason to refuse it, each with its line.

    The document is read as a stream (lxml's iterparse) and each element is dropped once
    checked, so that a 50 MB file of tiny elements costs no more memory than its bytes.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.problems: list[str] = []
        self.root_attributes: dict[str, str] = {}
        self.more = False  # there are problems beyond those in `problems`
        self.parts = 0  # elements, attributes, style declarations, comments and PIs read

    # ------------------------------------------------------------------ lines
    # Lines are looked up only for the few problems shown, by counting in C: no table of
    # line starts, which for a 50 MB file of short lines would be large.
    def line_of(self, offset: int) -> int:
        return self.data.count(b"\n", 0, offset) + 1

    def end_of_line(self, line: int) -> int:
        """The offset just past the end of a line (1-based)."""
        seen, at, step = 1, 0, 1 << 16
        while at < len(self.data):
            count = self.data.count(b"\n", at, at + step)
            if seen + count >= line:
                break
            seen, at = seen + count, at + step
        while at < len(self.data) and seen < line:
            found = self.data.find(b"\n", at)
            at = len(self.data) if found < 0 else found + 1
            seen += 1
        found = self.data.find(b"\n", at)
        return len(self.data) if found < 0 else found

    def start_line(self, element: etree._Element, shown_name: str) -> int | None:
        """The line where an element's start tag begins (libxml2 gives the line it ends on)."""
        line = element.sourceline
        if not line:
            return None
        begin = self.data.rfind(b"<" + shown_name.encode("utf-8"), 0, self.end_of_line(line))
        return self.line_of(begin) if begin >= 0 else line

    def refuse(self, what: str, line: _Line) -> None:
        if len(self.problems) == _MESSAGE_LIMIT:
            # Enough to act on; reading on would only cost time.
            self.more = True
            raise _StopReading
        if callable(line):  # finding a start tag's line can cost a scan
            line = line()
        self.problems.append(f"{what} (line {line})" if isinstance(line, int) else what)

    # -------------------------------------------------------------- the bytes
    def check_encoding(self) -> None:
        # Any ASCII-compatible reading of UTF-8 sees the same markup, whatever charset a
        # server announces; with another encoding a browser could read other markup.
        declaration = _ENCODING_DECLARATION.match(self.data)
        if declaration and declaration[1].lower() not in (b"utf-8", b"utf8"):
            encoding = _shown(declaration[1].decode("ascii", "replace"))
            raise ImageProblem(f"the SVG declares the encoding `{encoding}`; save it as UTF-8")

    def check_cdata(self) -> None:
        """CDATA sections, which lxml turns into text; one pass over the bytes."""
        # `<` cannot stand in an attribute value or in text, so outside comments (and the
        # DOCTYPEs and processing instructions refused anyway) these strings are markup.
        at = 0
        while found := _COMMENT_OR_CDATA.search(self.data, at):
            if found[0] == b"<![CDATA[":
                self.refuse(
                    "the SVG may not contain a CDATA section",
                    functools.partial(self.line_of, found.start()),
                )
            close = self.data.find(b"-->" if found[0] == b"<!--" else b"]]>", found.end())
            at = len(self.data) if close < 0 else close + 3

    # ------------------------------------------------------------ the document
    def read(self) -> None:
        """Parses and checks everything; raises XMLSyntaxError on XML that is not well-formed."""
        # No DTD is loaded, no entity is expanded, nothing is fetched. An entity reference
        # needs a DOCTYPE to declare it, and a DOCTYPE is refused before the first element.
        events = etree.iterparse(
            io.BytesIO(self.data),
            events=("start", "end", "comment", "pi"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=False,
            remove_pis=False,
        )
        root: etree._Element | None = None
        try:
            self.check_cdata()
            for event, node in events:
                if event == "end":
                    self.forget(node, root)
                    continue
                if event == "start":
                    if root is None:
                        root = node
                        self.check_root(node)
                    self.count(1 + len(node.attrib))
                    self.check_element(node)
                else:
                    self.count(1)
                    self.check_node(node)
        except _StopReading:
            pass

    def count(self, parts: int) -> None:
        self.parts += parts
        if self.parts > MAX_SVG_PARTS:
            raise ImageProblem(
                f"the SVG has more than {MAX_SVG_PARTS:,} elements, attributes and style "
                "declarations; simplify it or export it as PNG"
            )

    def check_root(self, root: etree._Element) -> None:
        info = root.getroottree().docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            # Nothing after a DOCTYPE can be trusted to mean what it seems: stop here.
            at = self.data.find(b"<!DOCTYPE")
            line = f" (line {self.line_of(at)})" if at >= 0 else ""
            raise ImageProblem(
                f"the SVG may not contain a DOCTYPE{line}: no DTD and no entities; remove it"
            )
        name = etree.QName(root)
        if name.localname != "svg":
            raise ImageProblem(_NOT_AN_IMAGE)
        if name.namespace != SVG_NS:
            raise ImageProblem(f'the SVG\'s root element lacks xmlns="{SVG_NS}"; add it')
        self.root_attributes = dict(root.attrib)

    @staticmethod
    def forget(element: etree._Element, root: etree._Element | None) -> None:
        """Drops what is checked, keeping the root's attributes."""
        if element is not root:
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]

    def check_node(self, node: etree._Element) -> None:
        line = node.sourceline
        if node.tag is etree.PI:
            self.refuse(
                f"the SVG may not contain the processing instruction <?{_shown(node.target)}?>",
                line,
            )
        # HTML ends a comment at `<!-->`, `<!--->` or `--!>`, XML does not: a file read as
        # HTML could see markup here. A comment without < or > means the same to both.
        elif node.tag is etree.Comment and re.search(r"[<>]", node.text or ""):
            self.refuse("the SVG may not contain a comment with `<` or `>` in it", line)

    def check_element(self, element: etree._Element) -> None:
        tag: str = element.tag
        local = tag[len(_IN_SVG) :] if tag.startswith(_IN_SVG) else None
        if local in SVG_ELEMENTS and all(
            key in _PLAIN_VALUES and not _NEEDS_A_LOOK.search(value)
            for key, value in element.attrib.items()
        ):
            return  # the common case, decided without building any message
        name = etree.QName(element)
        shown = f"{element.prefix}:{name.localname}" if element.prefix else name.localname
        line = lambda: self.start_line(element, shown)  # noqa: E731 - computed only if shown
        if name.namespace != SVG_NS:
            where = f"namespace `{name.namespace}`" if name.namespace else "no namespace"
            self.refuse(f"the SVG may not contain <{_shown(shown)}> of {where}", line)
            return
        if name.localname not in SVG_ELEMENTS:
            self.refuse(f"the SVG may not contain <{_shown(shown)}>", line)
            return
        for key, value in element.attrib.items():
            self.check_attribute(element, shown, line, key, value)

    def check_attribute(
        self, element: etree._Element, element_name: str, line: _Line, key: str, value: str
    ) -> None:
        if key.startswith("{"):
            attribute = _NAMESPACED_ATTRIBUTES.get(key)
            if attribute is None:
                namespace, local = key[1:].split("}", 1)
                prefix = "xml" if namespace == XML_NS else None
                prefix = prefix or next(
                    (p for p, u in element.nsmap.items() if u == namespace), None
                )
                shown = f"{prefix}:{local}" if prefix else local
                self.refuse(
                    f"the SVG may not contain the attribute `{_shown(shown)}` of namespace "
                    f"`{namespace}` on <{element_name}>",
                    line,
                )
                return
        else:
            attribute = key
            if attribute not in SVG_ATTRIBUTES:
                kind = "event attribute" if attribute.lower().startswith("on") else "attribute"
                self.refuse(
                    f"the SVG may not contain the {kind} `{_shown(attribute)}` on <{element_name}>",
                    line,
                )
                return
        on = f"`{attribute}` on <{element_name}>"
        if attribute in ("href", "xlink:href"):
            if not _LOCAL_REFERENCE.fullmatch(value):
                self.refuse(f"the SVG may not contain {on} pointing to `{_shown(value)}`", line)
            return
        if attribute in _PLAIN_TEXT_ATTRIBUTES:
            self.check_scheme(on, line, value)
            return
        if attribute == "style":
            self.check_style(on, line, value)
        else:
            self.check_value(on, line, value)

    def check_style(self, on: str, line: _Line, value: str) -> None:
        # A `style` attribute is CSS; only declarations of the properties above are
        # accepted, with the same values as presentation attributes. Splitting at every
        # `;`, even one in quotes, can only refuse more than CSS would read.
        declarations = value.split(";")
        self.count(len(declarations))
        for declaration in declarations:
            if not declaration.strip():
                continue
            parsed = _DECLARATION.fullmatch(declaration)
            if parsed is None or parsed[1].lower() not in STYLE_PROPERTIES:
                self.refuse(
                    f"the SVG may not contain the style `{_shown(declaration.strip())}` in {on}",
                    line,
                )
                continue
            if re.search(r"[{}@<>]|/\*", parsed[2]):
                self.refuse(
                    f"the SVG may not contain the style `{_shown(declaration.strip())}` in {on}",
                    line,
                )
                continue
            self.check_value(on, line, parsed[2])

    def check_scheme(self, on: str, line: _Line, value: str) -> bool:
        """Refuses a script URL scheme, even split by spaces or controls; True if refused."""
        scheme = _SCRIPT_SCHEME.search(re.sub(r"[\x00-\x20]", "", value))
        if scheme:
            self.refuse(f"the SVG may not contain `{scheme[0].lower()}` in {on}", line)
        return scheme is not None

    def check_value(self, on: str, line: _Line, value: str) -> None:
        # Browsers read presentation attributes as CSS, where a backslash escape can spell
        # any function name; no SVG value needs one.
        if "\\" in value:
            self.refuse(f"the SVG may not contain a backslash in {on}", line)
            return
        if self.check_scheme(on, line, value):
            return
        rest = _LOCAL_URL.sub("", value)
        for function in _FUNCTION.finditer(rest):
            if function[1].lower() not in _ALLOWED_FUNCTIONS:
                if function[1].lower() == "url":
                    at = function.start()
                    shown = _shown(rest[at : rest.find(")", at) + 1 or len(rest)])
                    what = f"`{shown}`"
                else:
                    what = f"the function `{_shown(function[1])}()`"
                self.refuse(f"the SVG may not contain {what} in {on}", line)
                return


# Lengths of the outermost <svg>: CSS absolute units, converted at 96 pixels per inch as
# browsers do. em, ex and the like depend on fonts and are refused; % (or nothing) means
# "take the size from the viewBox".
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_LENGTH = re.compile(rf"\s*({_NUMBER})\s*([A-Za-z%]*)\s*")
_PIXELS_PER_UNIT = {
    "": 1.0,
    "px": 1.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
    "pt": 96 / 72,
    "pc": 16.0,
}


def _length(name: str, value: str | None, problems: list[str]) -> float | None:
    """An attribute of the root <svg> in pixels; None when absent or a percentage."""
    if value is None:
        return None
    shown = f"the SVG's `{name}` `{_shown(value)}`"
    match = _LENGTH.fullmatch(value)
    if match is None:
        problems.append(f'{shown} is not a number of pixels; write it as `{name}="640"`')
        return None
    unit = match[2].lower()
    if unit == "%":
        return None
    if unit not in _PIXELS_PER_UNIT:
        problems.append(
            f"{shown} uses the unit `{match[2]}`, which is not supported; give pixels "
            "(or mm, cm, in, pt, pc)"
        )
        return None
    number = float(match[1]) * _PIXELS_PER_UNIT[unit]
    if not math.isfinite(number):
        problems.append(f"{shown} is too large; give its size in pixels")
        return None
    if number <= 0:
        problems.append(f"{shown} is not above 0; give its size in pixels")
        return None
    return number


def _view_box(value: str | None, problems: list[str]) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(",", " ").split()
    numbers = [float(p) for p in parts if re.fullmatch(_NUMBER, p)]
    usable = (
        len(parts) == 4
        and len(numbers) == 4
        and all(math.isfinite(n) for n in numbers)
        and numbers[2] > 0
        and numbers[3] > 0
    )
    if not usable:
        problems.append(
            f"the SVG's `viewBox` `{_shown(value)}` is not four numbers `min-x min-y width "
            "height` with a width and height above 0"
        )
        return None
    return numbers[2], numbers[3]


def _svg_size(root: dict[str, str], problems: list[str]) -> tuple[int, int] | None:
    """The picture's size in pixels, as a browser lays it out in an <img> of no set size."""
    count = len(problems)
    width = _length("width", root.get("width"), problems)
    height = _length("height", root.get("height"), problems)
    box = _view_box(root.get("viewBox"), problems)
    if len(problems) > count:
        return None
    if width is None and height is None and box is None:
        problems.append(
            "the SVG has neither a width and height nor a viewBox; add a viewBox such as "
            '`viewBox="0 0 640 480"`'
        )
        return None
    if box is not None:
        if width is None and height is None:
            width, height = box
        elif width is None:
            width = height * box[0] / box[1]
        elif height is None:
            height = width * box[1] / box[0]
    if width is None or height is None:
        problems.append(
            "the SVG gives only one of width and height and no viewBox; give both, or a viewBox"
        )
        return None
    if width * height > MAX_PIXELS:
        problems.append(
            f"the SVG is {_size(width)}×{_size(height)} pixels; images are limited to "
            f"{MAX_PIXELS:,} pixels (make its width and height smaller)"
        )
        return None
    if round(width) < 1 or round(height) < 1:
        problems.append(
            f"the SVG is {_size(width)}×{_size(height)} pixels, less than one pixel; "
            "give its size in pixels"
        )
        return None
    return round(width), round(height)


def _size(value: float) -> str:
    return f"{value:,.0f}" if 1 <= value < 1e9 else f"{value:.3g}"


def _svg_facts(path: Path) -> ImageFacts:
    reader = _SvgReader(path.read_bytes())
    reader.check_encoding()
    try:
        reader.read()
    except etree.XMLSyntaxError as exc:
        if not re.search(rb"<svg[\s>]", reader.data):
            raise ImageProblem(_NOT_AN_IMAGE) from None
        line = f" (line {exc.lineno})" if exc.lineno else ""
        reason = re.sub(r", line \d+, column \d+$", "", exc.msg or "")
        raise ImageProblem(
            f"the SVG is not well-formed XML: {_shown(reason, 80)}{line}; export it again"
        ) from None
    size_problems: list[str] = []
    size = _svg_size(reader.root_attributes, size_problems)
    problems = list(reader.problems)
    if reader.more:
        problems.append("and more")
    if problems:
        problems.append(
            "keep only shapes, text, gradients and references to `#id` in the same file "
            "(save it as plain SVG), or export it as PNG"
        )
    problems += size_problems
    if problems or size is None:
        raise ImageProblem("; ".join(problems))
    return ImageFacts("image/svg+xml", *size)


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
        raise ImageProblem(_NOT_AN_IMAGE)
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
