"""The shortcuts that make a large build fast give what the long way gives, for any input.

Each shortcut skips or repeats no work whose result could differ: these tests compare it
with the long way on generated inputs, and show that the shortcut is taken where it is
meant to be. tests/test_packages_unchanged.py proves the packages' bytes unchanged.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from PIL import Image as PILImage

from qtiexport import markdown, scorm, templating, thumbnails
from qtiexport.markdown import _rendered, is_plain_line, render_markdown
from qtiexport.questions import REGISTRY
from qtiexport.questions.text import answer_pattern, attribute_text
from qtiexport.validate import validate_course

from conftest import CONTENT

ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def attribute_text_one_character_at_a_time(pattern: str) -> str:
    """attribute_text as first written: each character escaped, or referenced by number
    when it cannot be seen."""
    return "".join(
        f"&#x{ord(c):X};"
        if c != " " and unicodedata.category(c)[0] in "ZMC"
        else str(markupsafe.escape(c))
        for c in pattern
    )


@given(ANY_TEXT)
def test_attribute_text_is_each_character_escaped_or_referenced(text: str) -> None:
    assert attribute_text(text) == attribute_text_one_character_at_a_time(text)
    assert isinstance(attribute_text(text), Markup)


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
def test_answer_patterns_are_the_same_made_again(answer: str) -> None:
    """A pattern made from remembered pieces is the pattern made the first time."""
    first = attribute_text(answer_pattern(answer))
    assert attribute_text(answer_pattern(answer)) == first
    assert attribute_text(answer_pattern(answer + " ")) == first  # spaces at the end go


@given(
    st.one_of(
        ANY_TEXT,
        st.builds(Markup, ANY_TEXT),
        st.integers(),
        st.floats(allow_nan=False),
        st.none(),
        st.booleans(),
    )
)
def test_the_templates_escape_exactly_as_markupsafe(value: object) -> None:
    escaped = templating.escape(value)
    expected = markupsafe.escape(value)
    assert type(escaped) is Markup
    assert str(escaped) == str(expected)


def test_every_template_escapes_with_the_fast_escape() -> None:
    """Were a Jinja release to look escaping up elsewhere, the templates would still
    escape, only slower: this says so."""
    environment = templating.environment()
    for name in ("qti/item.xml", "qti/imsmanifest.xml", "scorm/sco.html"):
        template = environment.get_template(name)
        assert template.root_render_func.__globals__["escape"] is templating.escape


def test_a_template_still_escapes_author_text() -> None:
    template = templating.environment().from_string("<p title='{{ a }}'>{{ a }}{{ b }}</p>")
    assert template.render(a="<b>&'\"", b=Markup("<em>x</em>")) == (
        "<p title='&lt;b&gt;&amp;&#39;&#34;'>&lt;b&gt;&amp;&#39;&#34;<em>x</em></p>"
    )


@given(
    st.one_of(
        ANY_TEXT,
        st.from_regex(r"[A-Za-z(][A-Za-z0-9 ,.:;'\"()+%=#*_`<>&|-]{0,60}", fullmatch=True),
        st.sampled_from(["*a*", "<b>x</b>", "<script>x</script>", "a | b\n--|--\n1 | 2"]),
    ),
    st.sampled_from(["inline", "block"]),
)
def test_a_remembered_rendering_is_the_rendering(source: str, mode: str) -> None:
    """The second rendering of a text, from memory, is the first: XHTML and problems."""
    once = render_markdown(source, mode)
    assert once == _rendered(source, mode) or is_plain_line(source)
    again = render_markdown(source, mode)
    assert again == once
    again[1].append("changed by a caller")  # a caller's list is its own
    assert render_markdown(source, mode) == once


def test_a_text_written_again_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "A reference cited in every case: *Radiology* 2020, [doi](https://example.org/x)"
    calls = []
    real = markdown._render_parsed

    def counted(text, mode):
        calls.append(text)
        return real(text, mode)

    monkeypatch.setattr(markdown, "_render_parsed", counted)
    markdown._remembered_rendering.cache_clear()
    first = [render_markdown(source, "inline") for _ in range(3)]
    assert calls == [source]
    assert first[0] == first[2]


def test_long_texts_are_not_remembered() -> None:
    markdown._remembered_rendering.cache_clear()
    render_markdown("*x* " * markdown.MAX_REMEMBERED_SOURCE, "block")
    assert markdown._remembered_rendering.cache_info().currsize == 0


def test_the_player_files_follow_the_question_types_asked() -> None:
    """Found once per course, the types asked still decide which scripts ship."""
    course = validate_course(CONTENT)
    asked = {q.type for case in course.cases for q in case.questions}
    assert course.question_types == asked
    shipped = scorm.player_assets(course)
    folder = templating.templates_dir() / "scorm" / "assets"
    assert shipped == sorted(
        p.name
        for p in folder.iterdir()
        if p.suffix in (".js", ".css")
        and not any(
            p.name == kind.player_script and kind.name not in asked
            for kind in REGISTRY
            if not kind.script_in_every_package
        )
        and not any(
            p.name == Path(kind.player_script).stem + ".css" and kind.name not in asked
            for kind in REGISTRY
            if not kind.script_in_every_package
        )
    )
    # Without a course, only the files every package carries.
    assert set(scorm.player_assets(None)) < set(shipped) or set(asked) <= {
        kind.name for kind in REGISTRY if kind.script_in_every_package
    }


def test_an_image_met_again_gets_the_same_thumbnail(tmp_path: Path) -> None:
    course = validate_course(CONTENT)
    image = next(
        i for case in course.cases for i in case.images if thumbnails.has_thumbnail_file(i)
    )
    thumbnails._made.clear()
    made = thumbnails.make_thumbnail(image)
    assert made == thumbnails._thumbnail(
        image.file.read_bytes(), thumbnails.thumbnail_size(image.width, image.height)
    )
    assert len(thumbnails._made) == 1
    # The same bytes under another name: remembered; other bytes: made anew.
    copy = tmp_path / "copy.png"
    copy.write_bytes(image.file.read_bytes())
    assert thumbnails.make_thumbnail(_with_file(image, copy)) == made
    assert len(thumbnails._made) == 1
    other = tmp_path / "other.png"
    PILImage.new("RGB", (image.width, image.height), "white").save(other)
    assert thumbnails.make_thumbnail(_with_file(image, other)) != made
    assert len(thumbnails._made) == 2


def _with_file(image, path: Path):
    import dataclasses

    return dataclasses.replace(image, file=path)


def test_templates_see_the_environment_globals_and_their_own() -> None:
    environment = templating.environment()
    assert environment.from_string("{{ range(3) | list }}").render() == "[0, 1, 2]"
    own = environment.from_string("{{ greeting }} {{ range(1) | list }}", {"greeting": "hi"})
    assert own.render() == "hi [0]"
    assert "greeting" not in environment.globals


PATH_CHARACTERS = st.sampled_from(list("abcXYZ019/-._~ #%+?&é中\u00a0\n"))


@given(st.text(PATH_CHARACTERS, max_size=40) | ANY_TEXT)
def test_a_path_of_url_safe_characters_is_its_own_url_and_any_other_is_quoted(path: str) -> None:
    from urllib.parse import quote

    from qtiexport.qti import url

    assert url(path) == quote(path, safe="/-._~")


def test_the_manifests_include_no_template_per_resource(monkeypatch) -> None:
    """The LOM of each resource comes from a macro imported once per manifest, not from an
    include per resource (a template lookup and a copy of the context each)."""
    from qtiexport import qti

    course = validate_course(CONTENT)
    looked_up: list[str] = []
    environment = templating.environment()
    real = environment.get_template

    def counting(name, *args, **kwargs):
        looked_up.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(environment, "get_template", counting)
    qti.render_manifest(course)
    scorm.render_manifest(course)
    assert looked_up.count("qti/lom.xml") <= 1
    assert len(course.cases[0].questions) > 1  # several resources, each with its LOM
