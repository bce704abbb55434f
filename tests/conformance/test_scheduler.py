"""The scheduler: checks run side by side against an HTTP target, clock waiters first, exclusive
ones alone, results in catalog order; one job is the serial run; the shared budget keeper paces
threads under one identity's declared limit."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from conformance import profile as profile_mod
from conformance.leases import Budgets, LeaseBusy
from conformance.registry import Check, Level, Severity
from conformance.runner import Deployment, run
from conformance.scheduler import start_order
from conformance.verdict import Verdict


class _NoTarget:
    abilities: frozenset[str] = frozenset()
    clock = None


class _Source:
    concurrent = True

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def __call__(self, _check: Check) -> Deployment:
        return self.deployment


def _check(check_id: str, body: Any, **flags: Any) -> Check:
    return Check(id=check_id, area="sessions", title="t", rule="r", level=Level.MUST, severity=Severity.LOW,
                 references=(), needs=frozenset(), body=body, no_controls="a test check", **flags)


class _Tracker:
    """Which checks are in flight, and the most that ever were at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[str] = set()
        self.started: list[str] = []
        self.overlaps: dict[str, set[str]] = {}
        self.most = 0

    def body(self, check_id: str, gate: threading.Event | None = None, together: int = 0) -> Any:
        def run_body(_ctx: Any) -> None:
            with self.lock:
                self.started.append(check_id)
                if gate is not None and len(self.started) >= together:
                    gate.set()  # all of them are in flight
                self.running.add(check_id)
                self.most = max(self.most, len(self.running))
                for other in self.running:
                    self.overlaps.setdefault(other, set()).update(self.running - {other})
            if gate is not None:
                gate.wait(timeout=10)
            with self.lock:
                self.running.discard(check_id)
        return run_body


def _profile() -> Any:
    return profile_mod.load()


def test_waiters_start_first_and_exclusive_checks_come_last() -> None:
    checks = [_check("SES-A", None), _check("SES-B", None, waits_on_clock=True), _check("SES-C", None, exclusive=True),
              _check("SES-D", None, clock_sensitive=True)]
    shared, alone = start_order(checks)
    assert [checks[i].id for i in shared] == ["SES-B", "SES-D", "SES-A"]
    assert [checks[i].id for i in alone] == ["SES-C"]


def test_checks_run_side_by_side_results_in_catalog_order_exclusive_alone() -> None:
    tracker = _Tracker()
    gate = threading.Event()
    # The four shared checks wait for each other: they end only once all four are in flight.
    checks = [_check(f"SES-{n}", tracker.body(f"SES-{n}", gate, together=4)) for n in range(4)]
    checks.insert(2, _check("SES-QUIET", tracker.body("SES-QUIET"), exclusive=True))
    finished: list[str] = []

    def progress(check: Check, _result: Any, _index: int, _total: int) -> None:
        finished.append(check.id)

    deployment = Deployment(_NoTarget(), _profile())  # type: ignore[arg-type]
    result = run(checks, _Source(deployment), profile=_profile(), jobs=4, progress=progress)
    assert [r.check_id for r in result.results] == [c.id for c in checks]
    assert all(r.verdict is Verdict.PASS for r in result.results)
    assert tracker.most == 4  # side by side
    assert not tracker.overlaps.get("SES-QUIET")  # alone
    assert finished[-1] == "SES-QUIET"
    assert result.meta["jobs"] == 4


def test_one_job_is_the_serial_run_in_catalog_order() -> None:
    tracker = _Tracker()
    checks = [_check(f"SES-{n}", tracker.body(f"SES-{n}"), waits_on_clock=n == 2) for n in range(4)]
    result = run(checks, _Source(Deployment(_NoTarget(), _profile())), profile=_profile(), jobs=1)  # type: ignore[arg-type]
    assert tracker.started == [c.id for c in checks] and tracker.most == 1
    assert [r.check_id for r in result.results] == [c.id for c in checks]


def test_a_check_that_finds_its_accounts_busy_runs_again_alone() -> None:
    attempts: list[str] = []

    def busy_once(_ctx: Any) -> None:
        attempts.append("busy")
        if len(attempts) == 1:
            raise LeaseBusy("every matching account is leased to another running check")

    checks = [_check("SES-BUSY", busy_once), _check("SES-OTHER", lambda _ctx: None)]
    result = run(checks, _Source(Deployment(_NoTarget(), _profile())), profile=_profile(), jobs=2)  # type: ignore[arg-type]
    assert len(attempts) == 2
    assert [(r.check_id, r.verdict) for r in result.results] == [("SES-BUSY", Verdict.PASS),
                                                                  ("SES-OTHER", Verdict.PASS)]


def test_the_budget_keeper_never_lets_threads_spend_more_than_the_limit_in_a_window() -> None:
    budgets = Budgets()
    sent: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        for _ in range(5):
            waited = budgets.take("login-ip:127.1.0.1", 6, 3600, max_wait=0.01)
            with lock:
                sent.append(int(waited == 0))

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(sent) == 20
    assert sum(sent) == 6  # the first six went at once; every later one had to wait (here: gave up waiting)


def test_a_check_that_counts_limits_is_counted_never_held_back() -> None:
    budgets = Budgets()
    for _ in range(10):
        assert budgets.take("api:t/u", 2, 3600, wait=False) == 0
    assert budgets.take("api:t/u", 2, 3600, max_wait=0.01) > 0


def test_checks_are_flagged_in_the_registry() -> None:
    from conformance.registry import get

    assert get("CRED-ENUM-TIMING").exclusive
    assert get("SES-IDLE-TIMEOUT").waits and get("PROP-STATEFUL-MODEL").waits and get("RL-WINDOW-RESET").waits
    assert not replace(get("TOK-ALG-NONE")).waits
