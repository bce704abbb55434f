"""Reports made once per test session: a run of TOK-ALG-NONE against the reference with the
accept-alg-none fault on (it fails, with evidence), one without (it passes), and a synthetic
report holding every verdict (for the writers' edge cases)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import registry
from conformance.cli import main
from conformance.profile import load
from conformance.runner import RunResult
from conformance.verdict import Result, Verdict
from reports import json_report

CHECK, FAULT = "TOK-ALG-NONE", "accept-alg-none"


def run_cli(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture(scope="session")
def faulty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("faulty")
    assert run_cli("run", "--check", CHECK, "--fault", FAULT, "--report-dir", str(directory)) == 1
    return directory


@pytest.fixture(scope="session")
def clean_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("clean")
    assert run_cli("run", "--check", CHECK, "--report-dir", str(directory)) == 0
    return directory


def read_report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "report.json").read_text())


EXCHANGE = {
    "note": 'alg "none", empty signature',
    "request": {"method": "GET", "url": "/me", "headers": {"Authorization": "Bearer [redacted]"},
                "body": ""},
    "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": '{"id": "1"}'},
    "error": None,
    "n": 1,
}


@pytest.fixture
def synthetic_report() -> dict[str, Any]:
    """Five checks, one per verdict, with evidence, a role matrix and control characters."""
    checks = registry.all_checks()[:5]
    verdicts = [Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.NON_STRICT, Verdict.NOT_APPLICABLE]
    results = []
    for check, verdict in zip(checks, verdicts, strict=True):
        details: dict[str, Any] = {}
        if verdict is Verdict.FAIL:
            details = {"role_matrix": {"/admin/users": {"viewer": 403, "admin": 200}},
                       "tenant_matrix": {"acme": {"doc-1": "ok", "doc-2": "leaked"}}}
        results.append(Result(check.id, verdict, f"reason for {verdict} <&> \x01", [copy.deepcopy(EXCHANGE)],
                              0.01, details))
    now = time.time()
    profile = load(None, overrides={"target.base_url": "http://127.0.0.1:9/api"})
    run = RunResult(profile, "http://127.0.0.1:9/api", checks, results, now - 1, now, {"faults": []})
    return json_report.build(run)
