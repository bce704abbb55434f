"""The run's circuit breaker on its own, with a stand-in target: when it probes, when it opens,
and the time bound it promises."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import registry
from conformance.breaker import RATE_LIMITED, TRIP_AFTER, UNREACHABLE, Breaker, retry_after, run_time_bound
from conformance.profile import TargetSection
from conformance.targets.base import Headers, Response
from conformance.verdict import Result, TargetUnreachable, Verdict

FAST = TargetSection(connect_timeout=0.1, read_timeout=0.1, ready_timeout=0.2, max_wait=5)
CHECK = registry.all_checks()[0]


class StandIn:
    """Answers probes with ``answers`` in turn (a status, or None for no answer)."""

    base_url = "http://stand-in"

    def __init__(self, *answers: int | None, headers: dict[str, str] | None = None) -> None:
        self.answers = list(answers)
        self.headers = headers or {}
        self.down: str | None = None
        self.probes = 0
        self.armed = False

    def probe(self, path: str) -> Response:
        self.probes += 1
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if status is None:
            raise TargetUnreachable("no answer")
        return Response(status, Headers(list(self.headers.items())), b"", 0.0)

    def arm_fuse(self) -> None:
        self.armed = True

    def reset(self) -> None:
        self.down = None


def breaker(target: StandIn) -> Breaker:
    return Breaker(target, FAST)  # type: ignore[arg-type]


def error_on(status: int, retry: str = "") -> Result:
    headers: dict[str, Any] = {"Retry-After": retry} if retry else {}
    return Result(CHECK.id, Verdict.ERROR, "negative control failed",
                  [{"response": {"status": status, "headers": headers}}])


def test_the_bound_follows_the_profile_timeouts() -> None:
    settings = TargetSection(connect_timeout=3, read_timeout=10, ready_timeout=20)
    exchange, probe = 3 + 2 * 10, 20 + 3 + 2 * 10
    assert run_time_bound(settings, 80) == probe + TRIP_AFTER * (exchange + probe) + 80 * 0.25


def test_a_target_that_answers_passes_the_preflight_and_arms_the_fuse() -> None:
    target = StandIn(404)
    guard = breaker(target)
    guard.preflight()
    assert guard.trip is None and target.armed


def test_no_answer_at_preflight_opens_the_breaker() -> None:
    guard = breaker(StandIn(None))
    guard.preflight()
    assert guard.trip is not None and guard.trip.kind == UNREACHABLE and guard.trip.after_check == ""
    assert "not run: target unreachable" in guard.blocked(CHECK).reason


def test_429_beyond_the_ready_timeout_opens_it_at_once() -> None:
    target = StandIn(429, headers={"Retry-After": "3600"})
    guard = breaker(target)
    guard.preflight()
    assert guard.trip is not None and guard.trip.kind == RATE_LIMITED and target.probes == 1


def test_a_blown_fuse_is_probed_and_reset_even_after_a_check_that_passed() -> None:
    target = StandIn(200)
    guard = breaker(target)
    target.down = "no answer"
    guard.observe(CHECK, Result(CHECK.id, Verdict.PASS))
    assert target.down is None and guard.trip is None and guard.strikes == 0


def test_checks_in_a_row_without_an_answer_open_it_though_health_answers() -> None:
    target = StandIn(200)
    guard = breaker(target)
    for n in range(TRIP_AFTER):
        target.down = "no answer"
        guard.observe(CHECK, Result(CHECK.id, Verdict.ERROR, "target unreachable: no answer"))
        assert (guard.trip is None) == (n < TRIP_AFTER - 1)
    assert guard.trip is not None and guard.trip.kind == UNREACHABLE


def test_a_judged_check_in_between_starts_the_count_again() -> None:
    target = StandIn(200)
    guard = breaker(target)
    for verdict in (Verdict.ERROR, Verdict.ERROR, Verdict.FAIL, Verdict.ERROR, Verdict.ERROR):
        target.down = "no answer" if verdict is Verdict.ERROR else None
        guard.observe(CHECK, Result(CHECK.id, verdict, "x"))
    assert guard.trip is None


@pytest.mark.parametrize(("retry", "counts"), [("3600", True), ("", True), ("3", False)])
def test_only_a_429_longer_than_max_wait_counts(retry: str, counts: bool) -> None:
    target = StandIn(200)
    guard = breaker(target)
    guard.observe(CHECK, error_on(429, retry))
    assert guard.strikes == (1 if counts else 0)


def test_retry_after_reads_seconds_only() -> None:
    def answer(value: str) -> Response:
        return Response(429, Headers([("Retry-After", value)]), b"", 0.0)

    assert retry_after(answer("12")) == 12
    assert retry_after(answer("Wed, 21 Oct 2015 07:28:00 GMT")) is None
    assert retry_after(answer("-1")) is None
