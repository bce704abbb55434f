"""authconform diff between two runs of the reference, with and without accept-alg-none."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance import exitcodes
from conformance.cli import main
from reports.diff import compare


def test_a_new_failure_is_a_regression_and_exits_1(clean_dir: Path, faulty_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(clean_dir / "report.json"), str(faulty_dir / "report.json")])
    assert code == exitcodes.CONFORMANCE_FAILURE
    out = capsys.readouterr().out
    assert "regressions: 1\n  TOK-ALG-NONE: pass -> fail" in out and "fixes: 0" in out


def test_the_reverse_is_a_fix_and_exits_0(clean_dir: Path, faulty_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(faulty_dir / "report.json"), str(clean_dir / "report.json"), "--json"])
    assert code == exitcodes.OK
    listed = json.loads(capsys.readouterr().out)
    assert listed["regressions"] == [] and [c["check"] for c in listed["fixes"]] == ["TOK-ALG-NONE"]


def test_new_and_removed_checks_are_listed(synthetic_report: dict[str, Any]) -> None:
    old = copy.deepcopy(synthetic_report)
    new = copy.deepcopy(synthetic_report)
    gone = old["checks"][0]["id"]
    new["checks"] = new["checks"][1:] + [dict(new["checks"][0], id="TOK-BRAND-NEW", verdict="pass")]
    diff = compare(old, new)
    assert [c.check for c in diff.removed_checks] == [gone]
    assert [c.check for c in diff.new_checks] == ["TOK-BRAND-NEW"] and not diff.regressions


def test_non_strict_counts_only_under_strict(synthetic_report: dict[str, Any]) -> None:
    old = copy.deepcopy(synthetic_report)
    for entry in old["checks"]:
        if entry["verdict"] == "non-strict":
            entry["verdict"] = "pass"
    assert not compare(old, synthetic_report).regressions
    assert [c.new for c in compare(old, synthetic_report, strict=True).regressions] == ["non-strict"]
