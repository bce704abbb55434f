"""Reports that use every field the writers draw: a partial judgement with its coverage, controls
(one that did not hold), evidence with a decisive exchange after set-up ones, matrices, a gate, a
self-test summary and load figures. Built on the synthetic report of conftest.py."""

from __future__ import annotations

import copy
from typing import Any


def exchange(n: int, note: str, status: int, *, decisive: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "n": n, "note": note, "error": None,
        "request": {"method": "GET", "url": "/me", "headers": {"Authorization": "Bearer [redacted]"}, "body": ""},
        "response": {"status": status, "headers": {"Content-Type": "application/json"}, "body": '{"id": "1"}'},
    }
    if decisive:
        record["decisive"] = True
    return record


COVERAGE = {"judged": 2, "asked": 4, "unit": "roles", "missing": ["admin", "superadmin"]}
CONTROLS = [{"name": "valid token accepted", "phase": "before", "held": True, "detail": "200"},
            {"name": "no token refused", "phase": "before", "held": True, "detail": "401"},
            {"name": "valid token still works", "phase": "after", "held": False, "detail": "401: token died"}]


def rich_report(synthetic: dict[str, Any]) -> dict[str, Any]:
    report = copy.deepcopy(synthetic)
    failing = next(e for e in report["checks"] if e["verdict"] == "fail")
    failing["evidence"] = [exchange(1, "log in (set-up)", 200), exchange(2, "forged token", 200, decisive=True),
                           exchange(3, "clean-up", 204)]
    failing["controls"] = CONTROLS
    partial = copy.deepcopy(failing)
    partial.update(id="ROLE-MATRIX", verdict="partial", reason="roles admin, superadmin could not be obtained",
                   coverage=COVERAGE, controls=CONTROLS[:2])
    report["checks"].append(partial)
    report["summary"]["partial"] = 1
    report["gate"] = {"baseline": "baseline.toml", "passed": False, "unexpected_failures": [failing["id"]],
                      "expected_failures": [{"check": "TOK-X", "target": "", "reason": "legacy", "expires": None}],
                      "stale": [{"check": "TOK-Y", "target": "", "reason": "old", "expires": None,
                                 "why": "now passes"}]}
    return report


SELFTEST: dict[str, Any] = {
    "matrix": [{"fault": "accept-alg-none", "imitates": "a verifier that trusts alg", "section": "3.1",
                "killed": True, "expected": {"TOK-ALG-NONE": "fail"}, "collateral": ["TOK-SIG-BROKEN"]}],
    "clean_failures": [{"check": "TOK-ALG-NONE", "verdict": "error", "config": {"leeway": 5}, "reason": "odd"}],
    "kill_rate": 1.0, "killed": 1, "faults": 1, "checks": 2, "seconds": 3.5, "checks_without_fault": ["RL-X"],
}

LOAD_FIGURES: dict[str, Any] = {
    "scenario": "rate_limit_probe", "description": "users hammering", "users": 20, "spawn_rate": 10.0,
    "run_time_s": 5, "workers": 0, "remote_workers": 0, "requests": 130, "rps": 26.0,
    "served_reference": {"gunicorn_workers": 4, "store": "redis", "faults": ["limiter-per-process"]},
    "status_classes": {"2xx": 75, "401": 0, "429": 50, "5xx": 1, "other": 0},
    "latency_ms": {"p50": 18, "p95": 25, "p99": 42, "max": 98},
    "over_admission": {"total": 16, "rate_limits": 15, "revoked token accepted": 1},
    "thresholds": [{"name": "over-admission", "field": "load.max_over_admission", "limit": 0, "value": 16,
                    "unit": "", "passed": False},
                   {"name": "p95 latency", "field": "load.max_p95_ms", "limit": 500, "value": 25, "unit": " ms",
                    "passed": True}],
    "limits": {"api": {"limit": 60, "window_s": 60, "keys": 1, "windows": 1, "max_admitted": 75,
                       "over_admission": 15}},
    "windows": [{"key": "api:acct-1", "kind": "api", "subject": "acct-1", "number": 0, "admitted": 75,
                 "refused": 50, "limit": 60, "over": 15}],
    "timeline": {"bucket_s": 1, "t": [0, 1, 2], "2xx": [40, 35, 0], "401": [0, 0, 0], "429": [0, 20, 30],
                 "5xx": [0, 0, 1], "other": [0, 0, 0]},
    "latency_timeline": {"t": [1, 2, 3], "users": [20, 20, 20], "p50_ms": [18, 19, 18], "p95_ms": [25, 26, 25],
                         "p99_ms": [40, 41, 42]},
    "endpoints": [{"method": "GET", "name": "me", "requests": 130, "failures": 1, "p50_ms": 18, "p95_ms": 25,
                   "p99_ms": 42, "max_ms": 98, "rps": 26.0}],
    "notes": {"sign-up failed": 2},
    "passed": False,
}
