"""The seed case comes through complete and faithful in the loaded model."""

from __future__ import annotations

from qtiexport.markdown import markdown_to_text
from qtiexport.model import Course

from conftest import CONTENT, SEED_TEXT
from seed_text import normalise, read_seed


def model_text(course: Course) -> str:
    """All words of the course, Markdown source and rendered text alike."""
    parts: list[str] = [course.title]
    for case in course.cases:
        diagnosis = case.diagnosis.source if case.diagnosis else ""
        parts += [case.title, case.history.source, diagnosis]
        for image in case.images:
            parts += [image.caption.source, image.alt]
        for section in case.teaching:
            parts += [section.title, section.body.source, markdown_to_text(section.body)]
        for question in case.questions:
            parts += [question.stem.source] + [c.text.source for c in question.choices]
            explanation = question.feedback.explanation
            parts += [explanation.source if explanation else ""]
    return normalise(" ".join(parts))


def test_seed_course_validates(seed_course: Course) -> None:
    assert seed_course.id == "msk-teaching-cases"
    assert [case.id for case in seed_course.cases] == ["tumoral-calcinosis"]


def test_every_seed_line_is_in_the_model(seed_course: Course) -> None:
    seed = read_seed(SEED_TEXT)
    text = model_text(seed_course)
    missing = [line for line in seed.other_lines if line not in text]
    assert not missing


def test_questions_choices_and_keys_match_the_seed(seed_course: Course) -> None:
    seed = read_seed(SEED_TEXT)
    case = seed_course.cases[0]
    questions = {q.id: q for q in case.questions}
    assert list(questions) == ["q1", "q2", "q3", "q4", "q5"]
    assert len(seed.answers) == 5
    for qid, stem in seed.questions.items():
        question = questions[qid]
        assert normalise(question.stem.source) == stem
        assert {c.key: normalise(c.text.source) for c in question.choices} == seed.choices[qid]
        key, text = seed.answers[qid]
        assert question.correct == (key,)
        assert normalise(question.correct_choices[0].text.source) == text
        assert question.feedback.explanation, f"{qid} has no explanation"


def test_seed_images_and_teaching_sections(seed_course: Course) -> None:
    case = seed_course.cases[0]
    assert [(i.caption.source, i.modality) for i in case.images] == [
        ("Lateral Radiograph", "XR"),
        ("Coronal T2 Fat Sat", "MR"),
    ]
    for image in case.images:
        assert image.alt.startswith("Placeholder for")
        assert image.annotated is not None
        assert (image.width, image.height) == (960, 720)
    assert [s.title for s in case.teaching] == [
        "Differential Diagnosis of Soft Tissue Masses in or about the Joints",
        "Tumoral Calcinosis Clinical Features",
        "Tumoral Calcinosis Radiography",
        "Tumoral Calcinosis MRI",
        "Differential Diagnosis of Periarticular Calcification Includes",
        "Tumoral Calcinosis Treatment",
    ]
    treatment = case.teaching[-1].body.source
    assert "- (a) Aluminum hydroxide" in treatment and "- (b) Acetazolamide" in treatment


def test_placeholder_images_are_labelled_and_reproducible(tmp_path, monkeypatch) -> None:
    import importlib.util

    script = CONTENT.parent / "scripts" / "make_placeholder_images.py"
    spec = importlib.util.spec_from_file_location("make_placeholder_images", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path)
    module.main()
    images = CONTENT / "cases" / "tumoral-calcinosis" / "images"
    for made in sorted(tmp_path.iterdir()):
        assert made.read_bytes() == (images / made.name).read_bytes(), made.name
    assert len(list(tmp_path.iterdir())) == 4
