"""A partial judgement (a check that judged less than it was asked) is shown apart from passes and
failures in every format, with what it judged ("ROLE-MATRIX: 2 of 4 roles"); the controls a check
ran are shown with whether they held; the exchanges that decided a verdict come first. Reports of
the previous schema are still read."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from report_samples import CONTROLS, COVERAGE, rich_report

from conformance import exitcodes
from conformance.cli import main
from conformance.verdict import Result, Verdict
from reports import html, json_report, junit, markdown
from reports.diff import compare


def test_a_result_records_coverage_and_controls_in_the_json_report() -> None:
    result = Result("ROLE-MATRIX", Verdict.PARTIAL, "2 roles obtainable", coverage=COVERAGE, controls=CONTROLS)
    recorded = result.to_dict()
    assert recorded["verdict"] == "partial" and recorded["coverage"] == COVERAGE and recorded["controls"] == CONTROLS
    assert Result("X", Verdict.PASS).to_dict()["coverage"] is None
    assert not Verdict.PARTIAL.is_failure  # not a failure of the run, and not a pass either


def test_html_counts_partial_apart_and_says_what_was_judged(synthetic_report: dict[str, Any]) -> None:
    report = rich_report(synthetic_report)
    del report["gate"]
    page = html.render(report)
    banner = re.search(r'<div class="banner bad">(.*?)</div>', page, re.S)
    assert banner and "2 check(s) failed" in banner.group(1) and "1 partial" in banner.group(1)
    assert "ROLE-MATRIX</code></a>: 2 of 4 roles (not judged: admin, superadmin)" in page
    assert '<h2 id="partial">Partial judgements (1)</h2>' in page and 'class="failure partial" id="ROLE-MATRIX"' in page
    assert 'class="badge v-partial"' in page


def test_html_shows_controls_and_the_decisive_exchange_first(synthetic_report: dict[str, Any]) -> None:
    page = html.render(rich_report(synthetic_report))
    card = page[page.index('class="failure fail"'):]
    card = card[:card.index('class="failure', 10)]
    assert "valid token still works" in card and "did not hold" in card and "401: token died" in card
    decisive, setup = card.index("forged token"), card.index("log in (set-up)")
    assert decisive < setup and "2 set-up exchange(s)" in card
    assert card.index("<b>#2</b>") < card.index("<b>#1</b>")


def test_without_a_decisive_mark_the_last_exchange_decides(synthetic_report: dict[str, Any]) -> None:
    report = rich_report(synthetic_report)
    failing = next(e for e in report["checks"] if e["verdict"] == "fail")
    for exchange in failing["evidence"]:
        exchange.pop("decisive", None)
    decisive, setup = json_report.split_evidence(failing["evidence"])
    assert [x["n"] for x in decisive] == [3] and [x["n"] for x in setup] == [1, 2]


def test_markdown_and_junit_show_the_partial_judgement(synthetic_report: dict[str, Any]) -> None:
    report = rich_report(synthetic_report)
    text = markdown.render(report)
    assert "partial: 1" in text and "Judged less than asked" in text
    assert "- `ROLE-MATRIX`: 2 of 4 roles (not judged: admin, superadmin)" in text
    assert "control after: valid token still works: did not hold (401: token died)" in text
    document = ET.fromstring(junit.render(report).encode())
    case = next(c for c in document.iter("testcase") if c.get("name") == "ROLE-MATRIX")
    failure = case.find("failure")
    assert failure is not None and failure.get("type", "").startswith("partial judgement")
    assert (failure.get("message") or "").startswith("judged 2 of 4 roles")
    assert "control before: valid token accepted: held (200)" in (failure.text or "")
    body = (next(c for c in document.iter("testcase") if c.find("failure") is not None
                 and c.get("name") != "ROLE-MATRIX").find("failure").text or "")
    assert body.index('"forged token"') < body.index('"log in (set-up)"')


def test_diff_reads_a_report_of_the_previous_schema_and_counts_partial_only_when_strict(
        synthetic_report: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    old = json.loads(json.dumps(synthetic_report))
    old["schema"] = "authconform.report/1"
    for entry in old["checks"]:
        entry.pop("coverage"), entry.pop("controls")
    new = rich_report(synthetic_report)
    assert [c.check for c in compare(old, new).regressions] == []
    assert [c.check for c in compare(old, new, strict=True).regressions] == ["ROLE-MATRIX"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == exitcodes.OK
    assert "new checks: 1" in capsys.readouterr().out
    (tmp_path / "future.json").write_text(json.dumps(dict(new, schema="authconform.report/9")))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "future.json")]) == exitcodes.USAGE_OR_PROFILE
