"""`qtiexport schema`: editor schemas that agree with the validator and the seed."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from qtiexport import validate

from conftest import CONTENT

FILES = {
    "course": [CONTENT / "course.yaml"],
    "case": sorted(CONTENT.glob("cases/*/case.yaml")),
    "questions": sorted(CONTENT.glob("cases/*/questions.yaml")),
}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_seed_files_conform_to_the_printed_schema(run_cli, kind: str) -> None:
    result = run_cli("schema", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    for path in FILES[kind]:
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_what_the_validator_rejects(run_cli) -> None:
    schema = json.loads(run_cli("schema", "questions").stdout)
    document = yaml.safe_load((CONTENT / "cases/tumoral-calcinosis/questions.yaml").read_text())
    document["questions"][0]["anwser"] = "a"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_schema_keys_are_the_validator_keys(run_cli) -> None:
    course = json.loads(run_cli("schema", "course").stdout)
    case = json.loads(run_cli("schema", "case").stdout)
    questions = json.loads(run_cli("schema", "questions").stdout)
    question = questions["properties"]["questions"]["items"]
    assert tuple(course["properties"]) == validate.COURSE_KEYS
    assert set(case["properties"]) == set(validate.CASE_KEYS)
    assert set(case["properties"]["images"]["items"]["properties"]) == set(validate.IMAGE_KEYS)
    assert set(question["properties"]) == set(validate.QUESTION_KEYS)
    assert set(question["properties"]["feedback"]["properties"]) == set(validate.FEEDBACK_KEYS)


def test_output_dir_writes_three_files(run_cli, tmp_path) -> None:
    result = run_cli("schema", "--output-dir", str(tmp_path))
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "case.schema.json",
        "course.schema.json",
        "questions.schema.json",
    ]


def test_schema_without_kind_is_a_usage_error(run_cli) -> None:
    assert run_cli("schema").exit_code == 2
