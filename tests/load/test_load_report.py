"""A load run in the report format: figures from samples and locust's CSVs, thresholds, a
self-contained page with SVG charts, JUnit that validates, and the HTML hook of reports.html."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance.load.figures import build, percentile
from conformance.load.samples import REVOKED_TOKEN_ACCEPTED, Sample
from conformance.profile import load
from reports import html
from reports.charts import nice_step
from reports.load import render_junit, section, write_load_report

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,me,300,1,18,19.0,12.1,55.0,66.9,100.5,0.0,18,19,20,21,23,25,31,42,51,55,55
,Aggregated,300,1,18,19.0,12.1,55.0,66.9,100.5,0.0,18,19,20,21,23,26,32,42,53,98,98
"""
HISTORY_HEAD = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
                "99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
                "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
                "Total Average Content Size\n")


def _samples(admitted: int, limit_key: str = "api:acct-00000001") -> list[Sample]:
    samples = [Sample(1000.0 + i * 0.01, 1000.02 + i * 0.01, 200, "me", (limit_key,)) for i in range(admitted)]
    samples += [Sample(1001.0 + i * 0.01, 1001.02 + i * 0.01, 429, "me", (limit_key,)) for i in range(50)]
    samples.append(Sample(1002.0, 1002.5, 500, "me", (limit_key,), unexpected=True))
    samples.append(Sample(1002.0, 1002.1, 200, "me", (), REVOKED_TOKEN_ACCEPTED, unexpected=True))
    return samples


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "locust_stats.csv").write_text(STATS)
    rows = [f"{1000 + i},20,,Aggregated,100,0,{18 + i},19,20,21,23,{25 + i},31,{40 + i},51,55,55,{100 * i},"
            "0,18,19,12,55,67" for i in range(6)]
    (tmp_path / "locust_stats_history.csv").write_text(HISTORY_HEAD + "\n".join(rows) + "\n")
    return tmp_path


def _figures(run_dir: Path, admitted: int) -> dict[str, Any]:
    profile = load(None, overrides={"rate_limits.api_limit": 60})
    figures = build(_samples(admitted), profile, run_dir, started=999.0, finished=1004.0)
    figures.update({"scenario": "rate_limit_probe", "description": "users hammering", "users": 20, "spawn_rate": 10.0,
                    "run_time_s": 5, "workers": 0, "remote_workers": 0, "served_reference": None, "notes": {}})
    return figures


def test_figures_count_over_admission_violations_errors_and_5xx(run_dir: Path) -> None:
    figures = _figures(run_dir, admitted=75)
    assert figures["limits"]["api"]["max_admitted"] == 75
    assert figures["over_admission"] == {"total": 16, "rate_limits": 15, REVOKED_TOKEN_ACCEPTED: 1,
                                         "refresh token accepted twice": 0, "wrong password accepted": 0}
    thresholds = {t["name"]: t for t in figures["thresholds"]}
    assert thresholds["over-admission"]["value"] == 16 and not thresholds["over-admission"]["passed"]
    assert thresholds["5xx answers"]["value"] == 1 and not thresholds["5xx answers"]["passed"]
    assert thresholds["error ratio"]["value"] == round(2 / 127, 4)
    assert not figures["passed"]
    assert figures["endpoints"][0]["name"] == "me" and figures["endpoints"][0]["p95_ms"] == 25
    assert figures["latency_timeline"]["t"][0] == 1.0  # locust's first row, before any answer, is left out
    assert sum(figures["timeline"]["429"]) == 50


def test_a_run_within_every_threshold_passes(run_dir: Path) -> None:
    profile = load(None)
    samples = [s for s in _samples(60) if s.status != 500 and not s.violation]
    assert build(samples, profile, run_dir, started=999.0, finished=1004.0)["passed"]


def test_the_page_is_self_contained_with_svg_charts(run_dir: Path) -> None:
    figures = _figures(run_dir, admitted=75)
    written = write_load_report(figures, load(None), "reference (test)", run_dir, started=999.0, finished=1004.0,
                                faults=["limiter-per-process"], overrides=["signing.key=abc"])
    assert [p.name for p in written] == ["report.json", "report.html", "junit.xml", "summary.md"]
    page = (run_dir / "report.html").read_text()
    assert page.count("<svg") == 3  # requests per second, the API limiter's windows, latency
    assert "limit 60 / 60 s" in page and "Load thresholds breached" in page
    assert not re.search(r"<script|<link|<img|\b(?:src|href)\s*=|url\(", page)  # nothing fetched, nothing run
    assert "abc" not in (run_dir / "report.json").read_text()  # a secret-looking override is not recorded
    assert "❌" in (run_dir / "summary.md").read_text()


def test_junit_has_a_case_per_threshold_and_validates(run_dir: Path) -> None:
    etree = pytest.importorskip("lxml.etree")
    figures = _figures(run_dir, admitted=75)
    write_load_report(figures, load(None), "reference (test)", run_dir, started=999.0, finished=1004.0,
                      faults=[], overrides=[])
    import json

    text = render_junit(json.loads((run_dir / "report.json").read_text()))
    xsd = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"
    document = etree.fromstring(text.encode())
    etree.XMLSchema(etree.parse(str(xsd))).assertValid(document)
    cases = document.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["over-admission", "error ratio", "p95 latency", "5xx answers"]
    assert cases[0].find("failure") is not None and cases[2].find("failure") is None


def test_the_suite_report_draws_the_same_load_section(run_dir: Path, tmp_path: Path) -> None:
    figures = _figures(run_dir, admitted=60)
    alone = section(figures)
    assert 'id="load"' in alone and alone.count("<svg") == 3
    assert section(None) == ""
    report = {"schema": "authconform.report/2", "summary": {}, "checks": [],
              "run": {"target": "t", "started": "s", "base_url": "", "faults": []}}
    page = html.render(report, load=figures)
    assert 'href="#load"' in page and page.count("<svg") == 3


def test_axis_steps_are_round() -> None:
    assert [nice_step(v) for v in (1, 7, 60, 240, 1250, 0)] == [0.2, 2.0, 20.0, 50.0, 250.0, 1.0]
    assert percentile([5, 1, 3, 2, 4], 0.95) == 5 and percentile([], 0.5) == 0
