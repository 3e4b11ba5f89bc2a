"""The SCORM 1.2 package: manifest, files, determinism, and what the pages are made of."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urljoin

import lxml.html
import pytest
from lxml import etree

from lms.radiology_course import CASE_ID, SERIES_SLICES, make_radiology_course
from qtiexport.model import Course
from qtiexport.package import PackageEntry
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import (
    MANIFEST_NAME,
    inline_json,
    manifest_title,
    player_data,
    render_scorm_package,
)
from qtiexport.validate import validate_course

from conftest import CONTENT, SEED_TEXT
from seed_text import normalise, read_seed

FIXTURES = Path(__file__).resolve().parent / "fixtures"
QTI_CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
NS = {
    "cp": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2",
    "md": "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1",
}
COURSES = {
    "seed": None,  # the seed course from conftest
    "types": FIXTURES / "player-types",
    "long": FIXTURES / "player-long",
    "injection": FIXTURES / "player-injection",
    "radiology": None,  # made by tests/lms/radiology_course.py
}


@pytest.fixture(scope="module")
def radiology(tmp_path_factory: pytest.TempPathFactory) -> Course:
    return validate_course(make_radiology_course(tmp_path_factory.mktemp("radiology")))


@pytest.fixture(scope="module", params=list(COURSES))
def course(request: pytest.FixtureRequest, seed_course: Course) -> Course:
    if request.param == "radiology":
        return request.getfixturevalue("radiology")
    folder = COURSES[request.param]
    return seed_course if folder is None else validate_course(folder)


@pytest.fixture(scope="module")
def entries(course: Course) -> dict[str, PackageEntry]:
    return {entry.name: entry for entry in render_scorm_package(course)}


def manifest_of(entries: dict[str, PackageEntry]) -> etree._Element:
    return etree.fromstring(entries[MANIFEST_NAME].read())


def test_manifest_is_valid_against_the_official_schemas(
    entries: dict[str, PackageEntry], schema_set: SchemaSet
) -> None:
    manifest = entries[MANIFEST_NAME]
    assert manifest.schema == "scorm-manifest"
    assert schema_set.problems(MANIFEST_NAME, "scorm-manifest", manifest.read()) == []


def test_manifest_declares_scorm_12_and_one_item_per_case(
    course: Course, entries: dict[str, PackageEntry]
) -> None:
    root = manifest_of(entries)
    assert root.findtext("cp:metadata/cp:schema", namespaces=NS) == "ADL SCORM"
    assert root.findtext("cp:metadata/cp:schemaversion", namespaces=NS) == "1.2"
    organizations = root.findall("cp:organizations/cp:organization", NS)
    assert len(organizations) == 1
    assert root.find("cp:organizations", NS).get("default") == organizations[0].get("identifier")
    items = organizations[0].findall("cp:item", NS)
    assert [i.findtext("cp:title", namespaces=NS) for i in items] == [
        manifest_title(c.title) for c in course.cases
    ]
    for item, case in zip(items, course.cases, strict=True):
        mastery = item.findtext("adlcp:masteryscore", namespaces=NS)
        expected = None if course.mastery_score is None else str(course.mastery_score)
        assert mastery == expected
        resource = root.find(
            f"cp:resources/cp:resource[@identifier='{item.get('identifierref')}']", NS
        )
        assert resource.get(f"{{{NS['adlcp']}}}scormtype") == "sco"
        assert resource.get("href") == f"cases/{case.id}/index.html"


def test_lom_metadata_names_the_course(course: Course, entries: dict[str, PackageEntry]) -> None:
    general = manifest_of(entries).find("cp:metadata/md:lom/md:general", NS)
    assert general.findtext("md:title/md:langstring", namespaces=NS) == course.title
    assert general.findtext("md:language", namespaces=NS) == course.language
    assert general.findtext("md:description/md:langstring", namespaces=NS)
    keywords = general.findall("md:keyword/md:langstring", NS)
    assert [k.text for k in keywords] == list(
        dict.fromkeys(k for case in course.cases for k in case.keywords)
    )


def loaded_files(page: str, html: bytes) -> set[str]:
    """Every package file a SCO page loads: scripts, styles, images, viewer images."""
    document = lxml.html.fromstring(html)
    urls = [
        *document.xpath("//script/@src"),
        *document.xpath("//link[@rel='stylesheet']/@href"),
        *document.xpath("//img/@src"),
    ]
    data = json.loads(document.get_element_by_id("player-data").text)
    for image in data["images"].values():
        urls += [image["src"], image["thumb"]["src"]]
        if image["annotated"]:
            urls.append(image["annotated"]["src"])
        urls += [slice_["src"] for slice_ in image["series"] or ()]
    if data["findingsScript"]:
        urls.append(data["findingsScript"])
    base = f"http://package/{page}"
    return {unquote(urljoin(base, url)).removeprefix("http://package/") for url in urls}


def test_every_file_a_sco_loads_is_listed_in_its_resource(
    course: Course, entries: dict[str, PackageEntry]
) -> None:
    root = manifest_of(entries)
    for case in course.cases:
        resource = root.find(f"cp:resources/cp:resource[@identifier='SCO-{case.id}']", NS)
        listed = {unquote(f.get("href")) for f in resource.findall("cp:file", NS)}
        page = f"cases/{case.id}/index.html"
        loads = loaded_files(page, entries[page].read())
        assert loads - listed == set()
        assert page in listed
        assert all(name in entries for name in listed)


def test_every_package_file_belongs_to_a_resource(entries: dict[str, PackageEntry]) -> None:
    assert_every_file_in_a_resource(entries)


def assert_every_file_in_a_resource(entries: dict[str, PackageEntry]) -> None:
    root = manifest_of(entries)
    listed = {unquote(f.get("href")) for f in root.iterfind(".//cp:file", NS)}
    assert set(entries) - {MANIFEST_NAME} == listed
    identifiers = {r.get("identifier") for r in root.iterfind(".//cp:resource", NS)}
    dependencies = {d.get("identifierref") for d in root.iterfind(".//cp:dependency", NS)}
    assert dependencies <= identifiers


def test_the_qti_items_travel_along_as_assets(
    course: Course, entries: dict[str, PackageEntry]
) -> None:
    from qtiexport.qti import render_qti_package

    qti = [e for e in render_qti_package(course) if e.name != MANIFEST_NAME]
    assert qti, "the QTI renderer gave no files"
    for entry in qti:
        assert entries[f"qti/{entry.name}"].read() == entry.read()
    assert "qti/imsmanifest.xml" not in entries
    root = manifest_of(entries)
    qti_resources = [
        r for r in root.iterfind(".//cp:resource", NS) if r.get("identifier").startswith("QTI-")
    ]
    assert qti_resources
    assert {r.get(f"{{{NS['adlcp']}}}scormtype") for r in qti_resources} == {"asset"}


def test_rendering_is_deterministic(course: Course, entries: dict[str, PackageEntry]) -> None:
    again = list(render_scorm_package(course))
    assert [e.name for e in again] == list(entries)
    assert [e.read() for e in again] == [e.read() for e in entries.values()]
    assert list(entries)[0] == MANIFEST_NAME


def test_inline_json_cannot_close_its_script_element() -> None:
    text = str(inline_json({"title": "</script><!-- & ]]> \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text
    assert json.loads(text) == {"title": "</script><!-- & ]]> \u2028"}


def test_long_titles_are_shortened_for_the_manifest_only() -> None:
    assert manifest_title("x" * 200) == "x" * 200
    shortened = manifest_title("word " * 60)
    assert len(shortened) == 200 and shortened.endswith("…")


def test_build_command_writes_the_scorm_zip_next_to_the_qti_zip(
    run_cli, tmp_path: Path, schema_set: SchemaSet
) -> None:
    arguments = ("build", str(FIXTURES / "player-types"), "-o", str(tmp_path))
    arguments += ("--schemas", str(schema_set.folder))
    result = run_cli(*arguments)
    assert result.exit_code == 0, result.output
    scorm = tmp_path / "player-types-scorm12.zip"
    assert scorm.is_file() and (tmp_path / "player-types-qti21.zip").is_file()
    with zipfile.ZipFile(scorm) as archive:
        names = archive.namelist()
    assert names[0] == MANIFEST_NAME
    assert "cases/types/index.html" in names
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no unzipped tree without --tree
        ".qtiexport-cache",
        "player-types-qti21.zip",
        "player-types-scorm12.zip",
    ]
    first = scorm.read_bytes()
    again = run_cli(*arguments, "--target", "scorm12")
    assert again.exit_code == 0, again.output
    assert scorm.read_bytes() == first  # byte-identical for identical input


def test_pages_have_unique_ids_and_every_control_is_labelled(
    course: Course, entries: dict[str, PackageEntry]
) -> None:
    for case in course.cases:
        document = lxml.html.fromstring(entries[f"cases/{case.id}/index.html"].read())
        ids = document.xpath("//@id")
        assert len(ids) == len(set(ids)), "duplicate ids"
        for attribute in ("for", "aria-labelledby", "aria-describedby"):
            for value in document.xpath(f"//@{attribute}"):
                assert set(value.split()) <= set(ids), f"{attribute}={value!r} names no element"
        labelled = set(document.xpath("//label/@for"))
        for control in document.xpath("//input"):
            assert (
                control.get("id") in labelled
                or control.get("aria-label")
                or control.xpath("ancestor::label")  # a label around it names it too
            ), control.attrib
        for button in document.xpath("//button"):
            assert button.text_content().strip() or button.get("aria-label"), button.attrib
        for image in document.xpath("//img"):
            assert image.get("alt") is not None
        assert document.get("lang") == course.language


def test_the_seed_case_comes_through_complete_in_its_sco(seed_course: Course) -> None:
    entries = {e.name: e for e in render_scorm_package(seed_course)}
    page = lxml.html.fromstring(entries["cases/tumoral-calcinosis/index.html"].read())
    text = normalise(" ".join(page.xpath("//body//text()")))
    seed = read_seed(SEED_TEXT)
    missing = [line for line in seed.other_lines if line not in text]
    missing += [stem for stem in seed.questions.values() if stem not in text]
    missing += [c for choices in seed.choices.values() for c in choices.values() if c not in text]
    missing += [answer for _, answer in seed.answers.values() if answer not in text]
    assert missing == []


def test_weightings_stay_within_what_scorm_12_accepts(seed_course: Course) -> None:
    case = seed_course.cases[0]
    heavy = [replace(q, points=400 if i == 0 else 2) for i, q in enumerate(case.questions)]
    data = player_data(seed_course, replace(case, questions=tuple(heavy)))
    assert [q["weighting"] for q in data["questions"]] == ["100", "0.5", "0.5", "0.5", "0.5"]


def test_images_are_stored_once(seed_course: Course) -> None:
    entries = {e.name: e for e in render_scorm_package(seed_course)}
    images = [n for n in entries if n.endswith(".png")]
    assert len(images) == 4  # shared by the SCO and the QTI items
    assert all(n.startswith("qti/media/tumoral-calcinosis/images/") for n in images)
    assert_every_file_in_a_resource(entries)


# ------------------------------------------------------------ series and findings


@pytest.fixture(scope="module")
def radiology_zips(
    radiology: Course, tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet
) -> dict[str, Path]:
    from click.testing import CliRunner

    from qtiexport.cli import cli

    out = tmp_path_factory.mktemp("out")
    arguments = ["build", str(radiology.root), "-o", str(out), "--schemas", str(schema_set.folder)]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {target: out / f"{radiology.id}-{target}.zip" for target in ("scorm12", "qti21")}


def listed_files(manifest: bytes, namespace: str, resource_id: str) -> list[str]:
    root = etree.fromstring(manifest)
    resource = root.find(f".//{{{namespace}}}resource[@identifier='{resource_id}']")
    return [unquote(f.get("href")) for f in resource.findall(f"{{{namespace}}}file")]


def test_every_slice_of_a_series_is_in_both_packages_once_and_listed(
    radiology: Course, radiology_zips: dict[str, Path]
) -> None:
    series = next(i for i in radiology.cases[0].images if i.id == "t2").series
    assert [s.href for s in series] == [f"images/t2/slice-{n}.png" for n in range(1, 25)]
    slices = [f"media/{CASE_ID}/{s.href}" for s in series]
    with zipfile.ZipFile(radiology_zips["qti21"]) as qti:
        names = qti.namelist()
        assert [n for n in names if "/t2/" in n] == slices  # each once, in order
        for name, slice_ in zip(slices, series, strict=True):
            assert qti.read(name) == slice_.file.read_bytes()
        qti_media = listed_files(qti.read(MANIFEST_NAME), QTI_CP_NS, f"media-{CASE_ID}")
    assert [f for f in qti_media if "/t2/" in f] == slices
    with zipfile.ZipFile(radiology_zips["scorm12"]) as scorm:
        names = scorm.namelist()
        assert [n for n in names if "/t2/" in n] == [f"qti/{n}" for n in slices]
        for name, slice_ in zip(slices, series, strict=True):
            assert scorm.read(f"qti/{name}") == slice_.file.read_bytes()
        sco_files = listed_files(scorm.read(MANIFEST_NAME), NS["cp"], f"SCO-{CASE_ID}")
    assert [f for f in sco_files if "/t2/" in f] == [f"qti/{n}" for n in slices]


def test_the_player_data_describes_images_series_thumbnails_and_findings(
    radiology: Course,
) -> None:
    data = player_data(radiology, radiology.cases[0])
    images = data["images"]
    assert data["imageOrder"] == ["radiograph", "axial", "panorama", "t2"]
    assert data["findingsScript"] == "findings.js"
    assert {i: images[i]["hasFindings"] for i in images} == {
        "radiograph": True,
        "axial": False,
        "panorama": False,
        "t2": True,
    }
    alt = "Axial T2-weighted MR slice through the mass."
    assert images["t2"]["series"] == [
        {
            "src": f"../../qti/media/{CASE_ID}/images/t2/slice-{n}.png",
            "width": 512,
            "height": 512,
            "alt": f"{alt} (slice {n} of {SERIES_SLICES})",
        }
        for n in range(1, SERIES_SLICES + 1)
    ]
    assert images["t2"]["src"] == images["t2"]["series"][0]["src"]
    assert images["radiograph"]["series"] is None
    assert images["radiograph"]["annotated"]["src"].endswith("images/radiograph-annotated.png")
    assert images["radiograph"]["thumb"] == {
        "src": f"../../thumbs/{CASE_ID}/radiograph.webp",
        "width": 320,
        "height": 400,
    }
    assert images["radiograph"]["caption"] == "Fig. 1 Frontal radiograph"  # plain text


def findings_of_script(script: bytes) -> dict:
    """What `window.qtiexportFindings` holds once a JavaScript engine has run the file."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run findings.js")
    program = (
        "const vm = require('vm'); const context = {window: {}};"
        "vm.runInNewContext(require('fs').readFileSync(0, 'utf8'), context);"
        "process.stdout.write(JSON.stringify(context.window.qtiexportFindings));"
    )
    result = subprocess.run(
        [node, "-e", program], input=script, capture_output=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def test_findings_stay_out_of_the_page_until_findings_js_is_loaded(
    radiology: Course, radiology_zips: dict[str, Path]
) -> None:
    page_name, script_name = (f"cases/{CASE_ID}/{name}" for name in ("index.html", "findings.js"))
    with zipfile.ZipFile(radiology_zips["scorm12"]) as scorm:
        page, script = scorm.read(page_name).decode(), scorm.read(script_name)
        sco_files = listed_files(scorm.read(MANIFEST_NAME), NS["cp"], f"SCO-{CASE_ID}")
    assert script_name in sco_files
    text = " ".join(lxml.html.fromstring(page).xpath("//text()"))
    for words in ("calcified mass in the soft tissue", "High signal rim"):
        assert words not in page and words not in text
    findings = findings_of_script(script)
    assert findings["radiograph"] == (
        "<p>A round, well-defined calcified mass in the soft tissue.</p>"
    )
    assert findings["t2"].startswith("<p>High signal rim on the middle slices.</p>")
    table = lxml.html.fragment_fromstring(findings["t2"], create_parent="div")
    assert table.xpath("//div[@class='table-scroll']/table/thead/tr/th/@scope") == ["col"] * 3


def test_findings_js_is_data_whatever_the_author_wrote(tmp_path: Path) -> None:
    folder = make_radiology_course(tmp_path / "course")
    case_file = folder / "cases" / CASE_ID / "case.yaml"
    hostile = "`</script><script>alert(1)</script><!-- ]]>` & \"quotes\" 'too'"
    case_file.write_text(
        case_file.read_text().replace(
            "findings: A round, well-defined calcified mass in the soft tissue.",
            f"findings: {json.dumps(hostile)}",
        )
    )
    course = validate_course(folder)
    entries = {e.name: e for e in render_scorm_package(course)}
    script = entries[f"cases/{CASE_ID}/findings.js"].read()
    assert b"<" not in script and b">" not in script and b"&" not in script
    shown = findings_of_script(script)["radiograph"]
    assert shown == course.cases[0].images[0].findings.html
    assert lxml.html.fragment_fromstring(shown).text_content().startswith("</script><script>")
    assert b"alert(1)" not in entries[f"cases/{CASE_ID}/index.html"].read()


def test_a_case_without_findings_has_no_findings_script(seed_course: Course) -> None:
    entries = {e.name: e for e in render_scorm_package(seed_course)}
    assert not [name for name in entries if name.endswith("findings.js")]
    assert player_data(seed_course, seed_course.cases[0])["findingsScript"] is None


def test_player_files_ship_minified_every_one_listed_and_still_valid(tmp_path: Path) -> None:
    from qtiexport.scorm import player_assets, render_scorm_course_files
    from qtiexport.templating import templates_dir

    sources = templates_dir() / "scorm" / "assets"
    course = validate_course(FIXTURES / "player-types")
    names = player_assets(course)
    assert {"player.js", "player.css", "viewer.js", "viewer.css"} <= set(names)
    # A kind's own script ships only with a course that asks a question of that kind.
    every = sorted(p.name for p in sources.iterdir() if p.suffix in (".js", ".css"))
    assert "question-essay.js" in every and "question-essay.js" not in names
    entries = {e.name: e.read() for e in render_scorm_course_files(course)}
    shipped = {name: entries[f"player/{name}"] for name in names}
    listed = listed_files(entries[MANIFEST_NAME], NS["cp"], "PLAYER")
    assert listed == [f"player/{name}" for name in names]
    for name, data in shipped.items():
        source = (sources / name).read_bytes()
        assert len(data) < 0.9 * len(source), name  # comments and indentation gone
        assert b"/*" not in data and b"\n  " not in data, name
    node = shutil.which("node")
    assert node is not None, "node is needed to parse the shipped scripts"
    for name, data in shipped.items():
        if name.endswith(".js"):
            (tmp_path / name).write_bytes(data)
            checked = subprocess.run([node, "--check", str(tmp_path / name)], capture_output=True)
            assert checked.returncode == 0, checked.stderr.decode()
    again = {e.name: e.read() for e in render_scorm_course_files(course)}
    assert again == entries  # minifying is deterministic


def test_a_title_written_on_two_lines_keeps_its_text_in_the_manifests_metadata() -> None:
    """The LOM block is laid out line by line in the template: a line break inside an
    author's title or course licence stays as written, with no indentation slipped in."""
    from qtiexport.scorm import render_manifest

    course = validate_course(CONTENT)
    title = "Hand mass:\nfifteen years"
    licence = "CC BY 4.0\nRadiopaedia case, adapted"
    case = replace(course.cases[0], title=title)
    course = replace(course, cases=(case, *course.cases[1:]), license=licence)
    manifest = etree.fromstring(render_manifest(course))
    sco = manifest.find(f"cp:resources/cp:resource[@identifier='SCO-{case.id}']", NS)
    assert sco.findtext("cp:metadata/md:lom/md:general/md:title/md:langstring", None, NS) == title
    rights = manifest.find("cp:metadata/md:lom/md:rights", NS)
    assert rights.findtext("md:description/md:langstring", None, NS) == licence
