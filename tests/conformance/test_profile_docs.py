"""The profile reference page is generated from the schema, and the committed page is current."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from conformance import profile_docs
from conformance.cli import main
from conformance.profile import CAPABILITIES, OPERATION_CAPABILITY

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
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            if item.name == "source":
                continue
            assert f"| `{item.name}` |" in page, f"{title}.{item.name}"
            assert dataclasses.is_dataclass(hints[item.name]) or item.metadata.get("doc"), \
                f"{title}.{item.name} has no doc(...)"
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
