"""Runs checks against a target and turns what happened into verdicts.

Used by the CLI and by the pytest plugin alike. A check's capability needs are settled before it
runs (not applicable is decided here, never inside a check that then "passes"); anything a check
body raises that is not a verdict becomes an error with a reason a person can read.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import freezegun.api as _real_clocks

from conformance import exitcodes
from conformance.breaker import Breaker, Trip
from conformance.context import CheckContext
from conformance.diagnosis import explain
from conformance.evidence import Redactor, printable
from conformance.minting import ClaimNames, Minter, SigningKey
from conformance.profile import CAPABILITIES, OPERATION_CAPABILITY, OPERATION_NEED, Profile
from conformance.registry import Check, Level
from conformance.targets.base import Target
from conformance.verdict import CheckOutcome, Result, TargetUnreachable, Verdict

log = logging.getLogger("authconform")

# The in-process target freezes time (freezegun), which would stop these clocks too: a run's own
# timestamps and durations read the real ones (freezegun never patches its own module).
def real_time() -> float:
    return float(_real_clocks.real_time())


def real_perf() -> float:
    return float(_real_clocks.real_perf_counter())


# Needs that are target abilities rather than profile capabilities.
ABILITIES = {"clock", "workers", "restart", "store_control", "provision"}


@dataclass
class Deployment:
    """One target to run a check against, with the profile that describes it."""

    target: Target
    profile: Profile
    signing: SigningKey | None = None
    redactor: Redactor = field(default_factory=Redactor)

    def minter(self) -> Minter | None:
        if self.signing is None:
            return None
        tokens = self.profile.tokens
        return Minter(self.signing, issuer=tokens.issuer, audience=tokens.audience,
                      names=ClaimNames(tokens.subject_claim, tokens.role_claim, tokens.tenant_claim))


# A source of deployments: called once per check; may hand out the same one each time.
DeploymentSource = Callable[[Check], Deployment]


def unmet_needs(check: Check, deployment: Deployment) -> list[str]:
    missing = []
    for need in sorted(check.needs):
        if need in ABILITIES:
            if need not in deployment.target.abilities:
                missing.append(f"target ability '{need}' (only the in-process reference has it)")
        elif need == "minting":
            if deployment.signing is None:
                missing.append("the target's signing key ([signing] key in the profile)")
        elif need in CAPABILITIES:
            if not deployment.profile.declares(need):
                missing.append(f"capability '{need}', which the profile does not declare")
        elif need.startswith(OPERATION_NEED) and need.removeprefix(OPERATION_NEED) in OPERATION_CAPABILITY:
            if not deployment.profile.offers(need.removeprefix(OPERATION_NEED)):
                missing.append(f"operation {need.removeprefix(OPERATION_NEED)}, which the profile does not declare")
        else:
            missing.append(f"unknown need '{need}'")
    return missing


def run_check(check: Check, deployment: Deployment, *, strict: bool = False) -> Result:
    started = real_perf()
    missing = unmet_needs(check, deployment)
    if missing:
        return Result(check.id, Verdict.NOT_APPLICABLE, "needs " + "; ".join(missing))
    ctx = CheckContext(check, deployment.target, deployment.profile, deployment.redactor,
                       deployment.minter())
    verdict, reason = Verdict.PASS, ""
    try:
        check.body(ctx)
    except CheckOutcome as outcome:
        verdict, reason = outcome.verdict, outcome.reason
        if verdict is Verdict.FAIL and check.level is Level.SHOULD:
            verdict = Verdict.NON_STRICT
    except TargetUnreachable as exc:
        verdict, reason = Verdict.ERROR, f"target unreachable: {exc}"
    except NotImplementedError as exc:
        verdict, reason = Verdict.NOT_APPLICABLE, str(exc)
    except Exception as exc:  # a harness bug or a target answer it could not handle
        log.debug("check %s raised\n%s", check.id, traceback.format_exc())
        verdict = Verdict.ERROR
        reason = deployment.redactor.text(f"harness error: {type(exc).__name__}: {exc}")
    if verdict is Verdict.ERROR:
        reason += explain(ctx.last_response)  # what was odd about the target's last answer, if anything
    result = Result(check.id, verdict, printable(deployment.redactor.text(reason)), ctx.evidence,
                    real_perf() - started, ctx.details)
    if verdict is Verdict.PASS:
        result.evidence = result.evidence[-4:]  # a pass needs little evidence; keep reports small
    return result


def run_guarded(check: Check, deployment: Deployment, breaker: Breaker | None, *, strict: bool = False) -> Result:
    """``run_check`` behind the run's circuit breaker: not run once it is open (unless not
    applicable anyway), and shown each result so that it can open."""
    if breaker is not None and breaker.trip is not None and not unmet_needs(check, deployment):
        return breaker.blocked(check)
    result = run_check(check, deployment, strict=strict)
    if breaker is not None:
        breaker.observe(check, result)
    return result


@dataclass
class RunResult:
    profile: Profile
    target_name: str
    checks: list[Check]
    results: list[Result]
    started: float
    finished: float
    meta: dict[str, Any] = field(default_factory=dict)
    stopped: Trip | None = None  # the circuit breaker opened: the rest of the run did not reach the target

    def counts(self) -> dict[str, int]:
        counts = {str(v): 0 for v in Verdict}
        for result in self.results:
            counts[str(result.verdict)] += 1
        return counts

    def exit_code(self, *, strict: bool = False) -> int:
        if self.stopped is not None:
            return exitcodes.TARGET_UNREACHABLE
        for result in self.results:
            if result.verdict.is_failure or (strict and result.verdict is Verdict.NON_STRICT):
                return 1
        return 0


def run(checks: Iterable[Check], source: DeploymentSource, *, strict: bool = False,
        target_name: str = "", profile: Profile,
        progress: Callable[[Check, Result, int, int], None] | None = None) -> RunResult:
    chosen = list(checks)
    started = real_time()
    results = []
    breaker = getattr(source, "breaker", None)  # a guarded HTTP source: see conformance/breaker.py
    for index, check in enumerate(chosen, 1):
        try:
            deployment = source(check)
        except TargetUnreachable as exc:
            result = Result(check.id, Verdict.ERROR, f"target unreachable: {exc}")
        else:
            result = run_guarded(check, deployment, breaker, strict=strict)
        results.append(result)
        if progress is not None:
            progress(check, result, index, len(chosen))
    close = getattr(source, "close", None)  # in-process sources stop their last target's clock
    if close is not None:
        close()
    stopped = breaker.trip if breaker is not None else None
    meta: dict[str, Any] = {"stopped": stopped.to_dict() if stopped is not None else None}
    return RunResult(profile, target_name, chosen, results, started, real_time(), meta, stopped)
