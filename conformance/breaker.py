"""The run's circuit breaker: a dead, hanging or hostile target ends a run in a bounded time.

Without it, a run against a target that stopped answering would take (checks x requests x
timeout). With it:

- Pre-flight: before the first check the target's ready path is probed until it answers, for at
  most ``target.ready_timeout`` seconds. No answer in that time, or nothing but 429 (the target
  is rate-limiting the suite, for longer than that), opens the breaker before any check runs.
- The HTTP target's fuse: during a check, the first exchange that gets no answer blows it, and
  every further request of that check fails at once, unsent.
- After a check that blew the fuse, or that ended in error on a 429 the suite may not wait out
  (no Retry-After, or one beyond ``target.max_wait``), the ready path is probed again the same
  way. No answer opens the breaker; an answer resets the fuse, and the run goes on. ``TRIP_AFTER``
  such checks in a row open it whatever the probe says (a target whose health route answers but
  whose API hangs).
- Once open, every remaining check that would have run ends at once with verdict error and the
  reason; the run exits with code 3 (``exitcodes.TARGET_UNREACHABLE``).

``run_time_bound`` is the longest such a run takes, from the profile's timeouts; the tests of
hostile targets assert it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from conformance.answers import retry_after
from conformance.profile import TargetSection
from conformance.registry import Check
from conformance.targets.http import HttpTarget, exchange_limit
from conformance.verdict import Result, TargetUnreachable, Verdict

# Checks in a row that could not talk to the target before the rest are not run.
TRIP_AFTER = 3
# What one check costs against a target that answers at once but wrongly (part of the bound only).
CHECK_OVERHEAD = 0.25
# Pause between readiness probes when the target gives no Retry-After.
PROBE_INTERVAL = 0.5

UNREACHABLE = "unreachable"
RATE_LIMITED = "rate-limited"


@dataclass(frozen=True)
class Trip:
    """Why the breaker opened: the target is ``unreachable`` or ``rate-limited``."""

    kind: str
    reason: str
    after_check: str = ""  # the check after which it opened; "" for the pre-flight

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason, "after_check": self.after_check}

    def headline(self) -> str:
        what = "target unreachable" if self.kind == UNREACHABLE else "target refuses to serve the suite"
        when = f" (after check {self.after_check})" if self.after_check else " (before the first check)"
        return f"{what}{when}: {self.reason}"


def run_time_bound(settings: TargetSection, checks: int) -> float:
    """The longest a run of ``checks`` checks takes against a target that answers wrongly, slowly
    or not at all, in seconds. Waits a check makes on purpose (``target.max_wait``, to let a
    declared window pass) come on top; against a target that fails the checks' negative controls
    first, there are none."""
    exchange = exchange_limit(settings.connect_timeout, settings.read_timeout)
    probe = settings.ready_timeout + exchange
    return probe + TRIP_AFTER * (exchange + probe) + checks * CHECK_OVERHEAD


class Breaker:
    def __init__(self, target: HttpTarget, settings: TargetSection) -> None:
        self.target = target
        self.settings = settings
        self.trip: Trip | None = None
        self.strikes = 0
        # Checks finish on several threads: one looks at its result (and maybe probes) at a time, so
        # strikes count checks in the order they ended and the fuse is reset once per probe.
        self._lock = threading.Lock()

    # -------------------------------------------------------------- probing
    def _probe_until_ready(self) -> tuple[str, str] | None:
        """Probe the ready path until it answers (not 429): None, or (kind, reason) at the end."""
        timeout = self.settings.ready_timeout
        deadline = time.monotonic() + timeout
        path = self.settings.ready_path
        while True:
            pause = PROBE_INTERVAL
            try:
                answer = self.target.probe(path)
            except TargetUnreachable as exc:
                kind, reason = UNREACHABLE, str(exc)
            else:
                if answer.status != 429:
                    return None
                wait = retry_after(answer)
                kind = RATE_LIMITED
                reason = (f"{self.target.base_url} answers 429 (Too Many Requests) even on {path}: it is "
                          "rate-limiting the suite")
                if wait is not None:
                    reason += f", Retry-After {wait:g} s"
                    if time.monotonic() + wait > deadline:
                        return kind, (f"{reason}, longer than target.ready_timeout ({timeout:g} s) lets the "
                                      "suite wait; run again when the limit has passed, or exempt the "
                                      "suite's address from the limiter")
                    pause = wait
            if time.monotonic() >= deadline:
                return kind, f"{reason} (waited {timeout:g} s, target.ready_timeout)"
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))

    def preflight(self) -> None:
        """Wait for the target to answer; open the breaker when it does not within ready_timeout."""
        problem = self._probe_until_ready()
        if problem is not None:
            self.trip = Trip(problem[0], problem[1])
            return
        self.target.arm_fuse()

    # -------------------------------------------------------------- during the run
    def blocked(self, check: Check) -> Result:
        """The result of a check that is not run because the breaker is open."""
        assert self.trip is not None
        return Result(check.id, Verdict.ERROR, f"not run: {self.trip.headline()}")

    def observe(self, check: Check, result: Result) -> None:
        """Look at a finished check; probe the target and maybe open the breaker."""
        with self._lock:
            if self.trip is None:
                self._observe(check, result)

    def _observe(self, check: Check, result: Result) -> None:
        fused = self.target.down is not None
        judged = result.verdict.judged
        if judged:
            self.strikes = 0  # the target answered in a way a check could judge
        limited = result.verdict is Verdict.ERROR and self._unbearable_429(result)
        if not (fused or limited):
            return
        if not judged:
            self.strikes += 1
        problem = self._probe_until_ready()
        if problem is not None:
            self.trip = Trip(problem[0], problem[1], check.id)
            return
        self.target.reset()
        if self.strikes >= TRIP_AFTER:
            kind = UNREACHABLE if fused else RATE_LIMITED
            what = ("got no answer from the target" if fused
                    else "were refused with 429 for longer than target.max_wait lets the suite wait")
            self.trip = Trip(kind, f"{self.strikes} checks in a row {what} (last, {check.id}: {result.reason})",
                             check.id)

    def _unbearable_429(self, result: Result) -> bool:
        """Did the check end on a 429 the suite may not wait out?"""
        status, headers = _last_answer(result)
        if status != 429:
            return False
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "")
        try:
            return float(value) > self.settings.max_wait
        except ValueError:
            return True


def _last_answer(result: Result) -> tuple[int | None, dict[str, Any]]:
    for record in reversed(result.evidence):
        response = record.get("response")
        if response:
            return response.get("status"), response.get("headers") or {}
    return None, {}
