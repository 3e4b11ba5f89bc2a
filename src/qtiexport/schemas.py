"""Check generated XML against the official 1EdTech and ADL schemas.

The package ships a copy of the schemas (`xsd/`, see its NOTICE.md); `--schemas DIR` or
`QTIEXPORT_SCHEMAS` names another folder of the same layout. Each schema is compiled once
per process, because compiling the QTI schema alone takes about half a second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_FILES = {
    "qti": "qti21/qtiv2p1/imsqti_v2p1.xsd",
    "qti-manifest": "qti21/qti21_package.xsd",
    "scorm-manifest": "scorm12/scorm12.xsd",
}
ENVIRONMENT_VARIABLE = "QTIEXPORT_SCHEMAS"
BUNDLED_FOLDER = Path(__file__).resolve().parent / "xsd"
STREAMING_ABOVE = 1024 * 1024  # bytes


class SchemaFolderError(Exception):
    """The schema folder is missing a file or a schema does not compile."""


def schema_folder(option: Path | None) -> Path:
    """The folder from the option, else from QTIEXPORT_SCHEMAS, else the bundled copy."""
    if option is not None:
        return option
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return Path(value) if value else BUNDLED_FOLDER


@cache
def _compile(path: Path) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise SchemaFolderError(f"{path} does not compile: {exc}") from None


@cache
def _resolved(folder: Path, kind: str) -> Path:
    return (folder / SCHEMA_FILES[kind]).resolve()


@dataclass(frozen=True)
class SchemaSet:
    folder: Path

    def __post_init__(self) -> None:
        missing = [f for f in SCHEMA_FILES.values() if not (self.folder / f).is_file()]
        if missing:
            raise SchemaFolderError(
                f"{self.folder} is not a schema folder: {', '.join(missing)} not found"
            )

    def schema(self, kind: str) -> etree.XMLSchema:
        # Resolving the path costs a system call per folder: done once per kind, since
        # the build asks for a schema once per document.
        return _compile(_resolved(self.folder, kind))

    def problems(self, name: str, kind: str, data: bytes) -> list[str]:
        """Every schema violation in one document, as `name:line: message`.

        A large document (the manifest of a big question bank) is first checked while it
        is parsed, dropping each element once read, so that memory stays flat when it is
        valid; only an invalid one is read whole, to report every violation and its line.
        """
        if len(data) > STREAMING_ABOVE and self._valid_when_streamed(kind, data):
            return []
        # Small, or invalid: the whole tree gives every violation with its line.
        try:
            document = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            return [f"{name}:{exc.lineno}: not well-formed XML: {exc.msg}"]
        schema = self.schema(kind)
        if schema.validate(document):
            return []
        return [f"{name}:{e.line}: {e.message}" for e in schema.error_log]

    def _valid_when_streamed(self, kind: str, data: bytes) -> bool:
        parser = etree.XMLPullParser(
            events=("end",), schema=self.schema(kind), resolve_entities=False
        )
        try:
            for chunk in range(0, len(data), 65536):
                parser.feed(data[chunk : chunk + 65536])
                for _, element in parser.read_events():
                    element.clear(keep_tail=True)
            parser.close()
        except etree.XMLSyntaxError:
            return False
        return True
