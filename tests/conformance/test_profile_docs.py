"""The profile reference page and the JSON Schema are generated from the models, and the committed
page is current."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from conformance import profile_docs
from conformance.cli import main
from conformance.profile import CAPABILITIES, OPERATION_CAPABILITY, json_schema

PAGE = Path(__file__).parents[2] / "docs" / "profile-reference.md"


def test_the_committed_reference_is_what_the_schema_generates() -> None:
    assert PAGE.read_text() == profile_docs.render_reference(), \
        "docs/profile-reference.md is stale: python -m conformance.profile_docs > docs/profile-reference.md"


def test_every_field_capability_and_operation_is_documented() -> None:
    page = profile_docs.render_reference()
    titles = [title for title, _cls in profile_docs.tables()]
    assert {"[tokens]", "[client]", "[[users.accounts]]", "[operations.NAME]", "[[routes]]"} <= set(titles)
    for title, cls in profile_docs.tables():
        assert f"### {title}" in page and cls.__doc__, title
        for name, item in cls.model_fields.items():
            if name == "source":
                continue
            assert f"| `{name}` |" in page, f"{title}.{name}"
            assert profile_docs._is_model(item.annotation) or item.description, f"{title}.{name} has no doc(...)"
    for name in [*CAPABILITIES, *OPERATION_CAPABILITY]:
        assert f"`{name}`" in page


def test_the_check_mode_reports_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "page.md"
    stale.write_text("# old\n")
    assert profile_docs.main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    stale.write_text(profile_docs.render_reference())
    assert profile_docs.main(["--check", str(stale)]) == 0


def test_dry_run_groups_capabilities_by_section_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--target", "http://127.0.0.1:9", "--set", 'capabilities=["signup"]']) == 0
    out = capsys.readouterr().out
    assert "§2 refresh, logout, revocation  none  (not declared: refresh, logout" in out
    assert "REV-LOGOUT-ACCESS                not applicable: needs capability 'logout'" in out
    assert "are not applicable (never a pass)" in out


def test_the_json_schema_describes_every_table_and_refuses_unknown_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(json.dumps(json_schema()))
    assert schema["additionalProperties"] is False and "source" not in schema["properties"]
    operation = schema["$defs"]["Operation"]
    assert operation["additionalProperties"] is False and "required" not in operation  # extends may keep a path
    assert operation["properties"]["auth"]["enum"] == ["access", "none", "basic"]
    assert set(schema["properties"]["capabilities"]["items"]["enum"]) == set(CAPABILITIES)
    assert set(schema["properties"]["credentials"]["properties"]) == {"password_min", "password_max"}
    assert "verify" in schema["$defs"]["TargetSection"]["properties"]
    for _title, cls in profile_docs.tables():
        assert cls is profile_docs.Profile or cls.__name__ in schema["$defs"], cls.__name__


def test_the_committed_json_schema_is_what_the_models_generate() -> None:
    committed = PAGE.with_name("profile.schema.json").read_text()
    assert committed == json.dumps(json_schema(), indent=2) + "\n", \
        "docs/profile.schema.json is stale: authconform profile schema > docs/profile.schema.json"


def test_every_bundled_and_example_profile_satisfies_the_schema_and_a_typo_does_not() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    files = [PAGE.parents[1] / "conformance" / "profiles" / "reference.toml",
             *sorted((PAGE.parents[1] / "examples" / "profiles").glob("*.toml"))]
    for file in files:
        errors = [error.message for error in validator.iter_errors(tomllib.loads(file.read_text()))]
        assert not errors, f"{file.name}: {errors}"
    typo = {"tokens": {"acess_ttl": 60}, "operations": {"login": {"auth": "bearer"}}}
    assert len(list(validator.iter_errors(typo))) == 2
