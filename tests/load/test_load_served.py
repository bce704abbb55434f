"""`authconform load rate_limit_probe` against the reference served by gunicorn (4 workers) with
the Redis store: it admits exactly the limit, and with counters per process it over-admits and the
run fails (exit 4). Short on purpose: a few seconds, tens of users (marker ``load``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.cli import main
from conformance.served import redis_binary

pytestmark = [pytest.mark.load, pytest.mark.served]

API_LIMIT = 20
RUN = ["load", "rate_limit_probe", "--users", "20", "--spawn-rate", "20", "--run-time", "5",
       "--set", f"rate_limits.api_limit={API_LIMIT}"]
SECRET_SHAPES = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}|Pw-[\w-]{8,}")


@pytest.fixture(autouse=True)
def _needs_redis() -> None:
    if redis_binary() is None:
        message = "redis-server not found on PATH: install it (apt-get install redis-server) to run these tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _figures(directory: Path) -> dict:
    report = json.loads((directory / "rate_limit_probe" / "report.json").read_text())
    assert report["schema"] == "authconform.report/2" and report["run"]["kind"] == "load"
    return report["load"]


def _no_secrets_in(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".md", ".xml", ".csv", ".log"):
            found = SECRET_SHAPES.search(path.read_text(errors="replace"))
            assert found is None, f"{path} holds something shaped like a token or password"


def test_the_redis_store_admits_exactly_the_limit_under_concurrency(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*RUN, "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == exitcodes.OK, out
    figures = _figures(tmp_path)
    assert figures["over_admission"]["total"] == 0
    api = figures["limits"]["api"]
    assert api["limit"] == API_LIMIT and api["over_admission"] == 0
    assert api["max_admitted"] == API_LIMIT  # every account saw its whole limit, and not one more
    assert figures["status_classes"]["429"] > 0 and figures["status_classes"]["5xx"] == 0
    assert "load thresholds hold" in out
    _no_secrets_in(tmp_path)


def test_counters_per_process_over_admit_and_fail_the_run(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*RUN, "--fault", "limiter-per-process", "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == exitcodes.LOAD_THRESHOLD, out
    figures = _figures(tmp_path)
    assert figures["limits"]["api"]["max_admitted"] > API_LIMIT
    assert figures["over_admission"]["rate_limits"] > 0
    assert not next(t for t in figures["thresholds"] if t["field"] == "load.max_over_admission")["passed"]
    page = (tmp_path / "rate_limit_probe" / "report.html").read_text()
    assert "<svg" in page and "over the limit" in page and "breached" in page
    assert "BREACH over-admission" in out
    junit = (tmp_path / "rate_limit_probe" / "junit.xml").read_text()
    assert 'failures="1"' in junit
