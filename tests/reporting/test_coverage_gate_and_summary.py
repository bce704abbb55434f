"""What a CI gate and a person read besides verdicts: lost coverage in diff and baseline, compare's
filter, and summary.md's fixes and stateful steps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance import exitcodes
from conformance.cli import main
from reports import baseline, markdown
from reports.diff import compare, only_differences


def _with_verdict(report: dict[str, Any], check_id: str, verdict: str) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    for entry in changed["checks"]:
        if entry["id"] == check_id:
            entry["verdict"] = verdict
    return changed


def _passing_id(report: dict[str, Any]) -> str:
    return next(c["id"] for c in report["checks"] if c["verdict"] == "pass")


def _save(report: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(report))
    return path


@pytest.mark.parametrize("verdict", ["not-applicable", "error", "partial"])
def test_a_pass_that_stops_judging_is_lost_coverage(synthetic_report: dict[str, Any], verdict: str) -> None:
    check_id = _passing_id(synthetic_report)
    diff = compare(synthetic_report, _with_verdict(synthetic_report, check_id, verdict))
    assert [c.check for c in diff.coverage_lost] == [check_id]
    assert not diff.regressions and not diff.other_changes
    assert "coverage regressions (passed, now cannot judge): 1" in diff.render()
    assert diff.failed(strict=True)
    assert diff.failed(strict=False) is (verdict == "error")  # an error fails the gate anyway


def test_diff_strict_fails_on_lost_coverage(synthetic_report: dict[str, Any], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # Before, a signing key dropped from the profile turned passes into not applicable and
    # `diff --strict` still exited 0.
    check_id = _passing_id(synthetic_report)
    old = _save(synthetic_report, tmp_path / "old.json")
    new = _save(_with_verdict(synthetic_report, check_id, "not-applicable"), tmp_path / "new.json")
    assert main(["diff", str(old), str(new)]) == exitcodes.OK
    assert main(["diff", "--strict", str(old), str(new)]) == exitcodes.CONFORMANCE_FAILURE
    assert f"{check_id}: pass -> not-applicable" in capsys.readouterr().out


def test_a_baseline_records_coverage_and_the_gate_fails_when_it_is_lost(synthetic_report: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    check_id = _passing_id(synthetic_report)
    path = tmp_path / "baseline.toml"
    path.write_text(baseline.from_report(synthetic_report))
    loaded = baseline.load_baseline(path)
    assert check_id in loaded.covered
    later = _with_verdict(synthetic_report, check_id, "not-applicable")
    gate = baseline.evaluate(later, loaded.entries, path=str(path), covered=loaded.covered)
    assert not gate.passed and gate.coverage_lost == {check_id: "not-applicable"}
    assert any(line.startswith(f"COVERAGE LOST {check_id}") for line in gate.lines())
    same = baseline.evaluate(synthetic_report, loaded.entries, path=str(path), covered=loaded.covered)
    assert same.passed and not same.coverage_lost


def test_a_baseline_without_coverage_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text('[[expected]]\ncheck = "TOK-ALG-NONE"\nreason = "r"\n')
    assert baseline.load_baseline(path).covered == ()


def test_compare_can_show_only_the_checks_that_differ(synthetic_report: dict[str, Any], tmp_path: Path) -> None:
    check_id = _passing_id(synthetic_report)
    other = _with_verdict(synthetic_report, check_id, "fail")
    kept = only_differences([synthetic_report, other])
    assert [[c["id"] for c in r["checks"]] for r in kept] == [[check_id], [check_id]]
    a, b = _save(synthetic_report, tmp_path / "a.json"), _save(other, tmp_path / "b.json")
    out = tmp_path / "m.html"
    assert main(["compare", str(a), str(b), "--only-differences", "-o", str(out)]) == exitcodes.OK
    unchanged = next(c["id"] for c in synthetic_report["checks"] if c["id"] != check_id)
    page = out.read_text()
    assert check_id in page and unchanged not in page


def test_summary_shows_how_to_fix_each_failure(synthetic_report: dict[str, Any]) -> None:
    text = markdown.render(synthetic_report)
    failing = next(c for c in synthetic_report["checks"] if c["verdict"] == "fail")
    assert failing["remediation"] and "### How to fix" in text
    assert f"**`{failing['id']}`** (fail): {failing['remediation'][:40]}" in text


def test_summary_numbers_a_stateful_failure_with_its_seed(synthetic_report: dict[str, Any]) -> None:
    failing = next(c for c in synthetic_report["checks"] if c["verdict"] == "fail")
    failing["details"] = {"stateful_steps": ["sign up alice", "log in alice", "refresh twice"]}
    failing["hypothesis_seed"] = 3508439641
    text = markdown.render(synthetic_report)
    numbered = "1. sign up alice\n2. log in alice\n3. refresh twice"
    assert f"Failing sequence (3 steps, seed `3508439641`):\n\n{numbered}" in text


def test_run_with_a_baseline_fails_when_a_recorded_pass_is_not_applicable_now(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The baseline was written from a run of a cookie-mode deployment where COOK-FLAGS passed; the
    # default profile declares no cookies, so today the check cannot judge. Before, exit 0.
    path = tmp_path / "baseline.toml"
    path.write_text('covered = ["COOK-FLAGS"]\n')
    code = main(["run", "--check", "COOK-FLAGS", "--baseline", str(path), "--report-dir", str(tmp_path / "out")])
    assert code == exitcodes.CONFORMANCE_FAILURE
    assert "COVERAGE LOST COOK-FLAGS" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["gate"]["coverage_lost"] == [{"check": "COOK-FLAGS", "verdict": "not-applicable"}]
