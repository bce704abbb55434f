"""Every check says how to fix its failure (conformance/data/remediation.toml), and docs/contract.md
is what the contract's sections and the registry generate."""

from __future__ import annotations

import tomllib

from conformance import registry
from conformance.devtools import contract_doc


def test_every_registered_check_has_a_remediation_and_no_stray_ids() -> None:
    table = registry.remediation_table()
    ids = {c.id for c in registry.all_checks()}
    assert sorted(ids - table.keys()) == [], "checks without a remediation"
    assert sorted(table.keys() - ids) == [], "remediations for checks that do not exist"
    for check_id, text in table.items():
        assert 40 <= len(text) <= 600, check_id


def test_a_check_describes_its_remediation() -> None:
    described = registry.get("TOK-ALG-NONE").describe()
    assert "algorithms=" in described["remediation"]


def test_the_contract_doc_is_generated_and_in_sync() -> None:
    assert contract_doc.OUTPUT.read_text() == contract_doc.render(), (
        f"docs/contract.md is out of date: run {contract_doc.COMMAND}")


def test_the_contract_doc_names_every_check_and_the_mfa_section() -> None:
    text = contract_doc.render()
    for check in registry.all_checks():
        assert f"| `{check.id}` |" in text
    assert "## 9. Multi-factor authentication" in text
    assert "Optional features" in text and "Protections every JWT API owes" in text


def test_every_area_section_is_in_the_contract() -> None:
    sections = {s["number"] for s in tomllib.loads(contract_doc.SOURCE.read_text())["section"]}
    assert {c.section for c in registry.all_checks()} <= sections


def test_no_doc_points_outside_the_repository_for_the_contract() -> None:
    root = contract_doc.OUTPUT.parents[1]
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        assert "shared/CONTRACT.md" not in path.read_text(), path
