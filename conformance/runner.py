"""Runs checks against a target and turns what happened into verdicts.

Used by the CLI and by the pytest plugin alike. A check's capability needs are settled before it
runs (not applicable is decided here, never inside a check that then "passes"); anything a check
body raises that is not a verdict becomes an error with a reason a person can read.
"""

from __future__ import annotations

import logging
import threading
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
from conformance.leases import AccountPool, Budgets, ClientAddresses, LeaseBusy, MissingAccounts, WaitBoard
from conformance.minting import ClaimNames, Minter, SigningKey
from conformance.profile import CAPABILITIES, OPERATION_CAPABILITY, OPERATION_NEED, Profile
from conformance.registry import ABILITIES, MINTING, Check, Level
from conformance.scheduler import run_concurrently
from conformance.targets.base import Target
from conformance.verdict import CannotJudge, CheckOutcome, Result, TargetUnreachable, Verdict

log = logging.getLogger("authconform")

# The in-process target freezes time (freezegun), which would stop these clocks too: a run's own
# timestamps and durations read the real ones (freezegun never patches its own module).
def real_time() -> float:
    return float(_real_clocks.real_time())


def real_perf() -> float:
    return float(_real_clocks.real_perf_counter())



@dataclass
class Deployment:
    """One target to run a check against, with the profile that describes it."""

    target: Target
    profile: Profile
    signing: SigningKey | None = None
    redactor: Redactor = field(default_factory=Redactor)
    accounts: AccountPool | None = None  # the declared accounts, leased to checks (made on first use)
    budgets: Budgets = field(default_factory=Budgets)  # one keeper per identity, shared by the run's threads
    addresses: ClientAddresses | None = None  # a client address per check (a loopback HTTP target)

    def account_pool(self) -> AccountPool:
        if self.accounts is None:
            self.accounts = AccountPool(self.profile.users.accounts)
        return self.accounts

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
        elif need == MINTING:
            if deployment.signing is None:
                missing.append("the target's signing key ([signing] key in the profile)")
        elif need in CAPABILITIES:
            profile = deployment.profile
            if need in profile.waive:
                missing.append(f"nothing: '{need}' is waived by the profile ({profile.waive[need]})")
            elif not profile.probes(need):
                missing.append(f"capability '{need}', which the profile does not declare")
        elif need.startswith(OPERATION_NEED) and need.removeprefix(OPERATION_NEED) in OPERATION_CAPABILITY:
            if not deployment.profile.offers(need.removeprefix(OPERATION_NEED)):
                missing.append(f"operation {need.removeprefix(OPERATION_NEED)}, which the profile does not declare")
        else:  # registration validates needs; this is a harness bug
            raise ValueError(f"check {check.id}: unknown need {need!r}")
    return missing


def run_check(check: Check, deployment: Deployment, *, strict: bool = False) -> Result:
    started = real_perf()
    missing = unmet_needs(check, deployment)
    if missing:
        return Result(check.id, Verdict.NOT_APPLICABLE, "needs " + "; ".join(missing))
    ctx = CheckContext(check, deployment.target, deployment.profile, deployment.redactor,
                       deployment.minter(), deployment.account_pool(), deployment.budgets, deployment.addresses)
    deployment.budgets.waits.owner(check.id)
    try:
        verdict, reason = _outcome(check, ctx, lambda: check.body(ctx), deployment.redactor)
        if verdict in (Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT):
            verdict, reason = _settle_controls(check, ctx, verdict, reason, deployment.redactor)
    finally:
        ctx.accounts.release(ctx)  # the accounts it leased are free for the next check
        release = getattr(deployment.target, "release_source", None)
        if release is not None:  # the connections of the client addresses it used
            for address in ctx.used_addresses:
                release(address)
    if verdict is Verdict.NOT_APPLICABLE and ctx.short_of is not None:
        ctx.accounts.short(check.id, ctx.short_of)
    if verdict is Verdict.PASS and ctx.coverage is not None and ctx.coverage["judged"] < ctx.coverage["asked"]:
        coverage = ctx.coverage
        verdict = Verdict.PARTIAL
        reason = (f"judged {coverage['judged']} of {coverage['asked']} {coverage['unit']}"
                  + (f"; not judged: {', '.join(coverage['missing'])}" if coverage["missing"] else ""))
    if verdict is Verdict.ERROR:
        reason += explain(ctx.last_response)  # what was odd about the target's last answer, if anything
    result = Result(check.id, verdict, printable(deployment.redactor.text(reason)), ctx.evidence,
                    real_perf() - started, ctx.details, ctx.coverage, ctx.controls)
    if verdict is Verdict.PASS:
        result.evidence = result.evidence[-4:]  # a pass needs little evidence; keep reports small
    return result


def _outcome(check: Check, ctx: CheckContext, body: Callable[[], None], redactor: Redactor) -> tuple[Verdict, str]:
    """Run ``body`` and turn how it ended into a verdict and a reason."""
    try:
        body()
    except CheckOutcome as outcome:
        if isinstance(outcome, MissingAccounts):
            ctx.short_of = outcome
        verdict = outcome.verdict
        if verdict is Verdict.FAIL and check.level is Level.SHOULD:
            verdict = Verdict.NON_STRICT
        return verdict, outcome.reason
    except TargetUnreachable as exc:
        return Verdict.ERROR, f"target unreachable: {exc}"
    except LeaseBusy:
        raise  # the scheduler runs the check again when the others are done
    except Exception as exc:  # a harness bug (NotImplementedError too) or an answer it could not handle
        log.debug("check %s raised\n%s", check.id, traceback.format_exc())
        return Verdict.ERROR, redactor.text(f"harness error: {type(exc).__name__}: {exc}")
    return Verdict.PASS, ""


def _settle_controls(check: Check, ctx: CheckContext, verdict: Verdict, reason: str,
                     redactor: Redactor) -> tuple[Verdict, str]:
    """A judged verdict stands only when the check's declared controls ran and held: the
    before-controls during the body, the liveness control here, after it."""
    ran = {control["name"] for control in ctx.controls if control["held"]}
    missing = sorted(name for name in check.controls - ran - {"liveness"})
    if missing:
        return Verdict.ERROR, (f"the check ended before its control(s) {', '.join(missing)} ran: its "
                               f"verdict ({verdict}) has no baseline")
    if verdict is Verdict.FAIL and check.no_controls and not ctx.live:
        # A failure without a kept credential (the model check, say): a fresh witness used twice
        # tells a real failure from refusals that single-use tokens would give anyway.
        outcome, why = _outcome(check, ctx, lambda: _witness_twice(ctx), redactor)
        return (verdict, reason) if outcome is Verdict.PASS else (Verdict.ERROR, f"{why} (the check had "
                                                                                 f"failed: {reason})")
    if "liveness" not in check.controls and not ctx.live:
        return verdict, reason
    if check.ends_credential:
        outcome, why = _outcome(check, ctx, lambda: _witness(ctx), redactor)
        if outcome is not Verdict.PASS:
            return Verdict.ERROR, why
    if not ctx.live:
        return Verdict.ERROR, "the check kept no credential for its liveness control (a harness bug)"
    for credential, what in ctx.live:
        def probe(credential: Any = credential, what: str = what) -> None:
            answer = ctx.api.me(credential, note=f"control after the check: {what} still works")
            if not ctx.accepted(answer):
                raise CannotJudge(f"{what} stopped working during the check (answered {answer.status}), so "
                                  "its refusals are no evidence: the target's tokens seem single-use, or "
                                  "something revoked it")
        outcome, why = _outcome(check, ctx, probe, redactor)
        ctx.record_control("liveness", outcome is Verdict.PASS, why or f"{what} still works", phase="after")
        if outcome is not Verdict.PASS:
            return Verdict.ERROR, why
    return verdict, reason


def run_guarded(check: Check, deployment: Deployment, breaker: Breaker | None, *, strict: bool = False) -> Result:
    """``run_check`` behind the run's circuit breaker: not run once it is open (unless not
    applicable anyway), and shown each result so that it can open."""
    if breaker is not None and breaker.trip is not None and not unmet_needs(check, deployment):
        return breaker.blocked(check)
    result = run_check(check, deployment, strict=strict)
    if breaker is not None:
        breaker.observe(check, result)
    return result


def _witness(ctx: CheckContext) -> None:
    """A fresh login used once: the liveness control then uses it a second time. A target whose
    tokens die after one use fails it, so a check whose own token died by the rule cannot pass on
    refusals that single-use tokens would give anyway."""
    if ctx.profile.users.source == "signup":
        user = ctx.users.tenant_admin()  # a fresh tenant: nothing the body did can have touched it
    else:
        user = ctx.users.create(ctx.profile.roles_by_level()[0])
    tokens = ctx.api.login(user)
    first = ctx.api.me(tokens, note="control after the check: a fresh witness token")
    ctx.control(ctx.accepted(first), f"a freshly issued witness token was refused ({first.status})")
    ctx.keep_alive(tokens, "a fresh witness token, used once before")


def _witness_twice(ctx: CheckContext) -> None:
    _witness(ctx)
    for credential, what in ctx.live[-1:]:
        answer = ctx.api.me(credential, note=f"control after the check: {what} still works")
        if not ctx.accepted(answer):
            raise CannotJudge(f"{what} was refused on its second use (answered {answer.status}): the target's "
                              "tokens seem single-use, so the check's refusals are no evidence")


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
            if result.verdict.is_failure or (strict and result.verdict in (Verdict.NON_STRICT, Verdict.PARTIAL)):
                return 1
        return 0


def run(checks: Iterable[Check], source: DeploymentSource, *, strict: bool = False,
        target_name: str = "", profile: Profile,
        progress: Callable[[Check, Result, int, int], None] | None = None,
        exitfirst: bool = False, jobs: int | None = None) -> RunResult:
    """Run ``checks``; with ``exitfirst`` stop after the first failing one (the rest are left out of
    the result, as pytest -x leaves them). Against an HTTP target (a source that says
    ``concurrent``) up to ``jobs`` checks run side by side (default ``[target] max_concurrency``;
    see conformance/scheduler.py); in-process, with ``exitfirst`` or with one job, one after another.
    Results are in catalog order either way."""
    chosen = list(checks)
    started = real_time()
    breaker = getattr(source, "breaker", None)  # a guarded HTTP source: see conformance/breaker.py
    pools: list[AccountPool] = []
    boards: list[WaitBoard] = []
    pools_lock = threading.Lock()

    def run_one(check: Check) -> Result:
        try:
            deployment = source(check)
        except TargetUnreachable as exc:
            return Result(check.id, Verdict.ERROR, f"target unreachable: {exc}")
        with pools_lock:
            if all(pool is not deployment.account_pool() for pool in pools):
                pools.append(deployment.account_pool())
            if deployment.target.clock is None and all(b is not deployment.budgets.waits for b in boards):
                boards.append(deployment.budgets.waits)
        return run_guarded(check, deployment, breaker, strict=strict)

    jobs = profile.target.max_concurrency if jobs is None else jobs
    if getattr(source, "concurrent", False) and jobs > 1 and not exitfirst and len(chosen) > 1:
        finished = 0

        def report(position: int, result: Result) -> None:
            nonlocal finished
            finished += 1
            if progress is not None:
                progress(chosen[position], result, finished, len(chosen))

        results = run_concurrently(chosen, run_one, jobs, report)
    else:
        results = []
        for index, check in enumerate(chosen, 1):
            result = run_one(check)
            results.append(result)
            if progress is not None:
                progress(check, result, index, len(chosen))
            if exitfirst and (result.verdict.is_failure or (strict and result.verdict is Verdict.NON_STRICT)):
                chosen = chosen[:index]
                break
    close = getattr(source, "close", None)  # in-process sources stop their last target's clock
    if close is not None:
        close()
    stopped = breaker.trip if breaker is not None else None
    meta: dict[str, Any] = {"stopped": stopped.to_dict() if stopped is not None else None}
    shortfalls = [entry.to_dict() for pool in pools for entry in pool.shortfalls()]
    if shortfalls:  # what declaring more accounts would add to the coverage
        meta["accounts_needed"] = shortfalls
    if boards:  # real waits for the target's clock (over HTTP)
        meta["waits"] = boards[0].summary()
        meta["jobs"] = jobs if getattr(source, "concurrent", False) and not exitfirst else 1
    return RunResult(profile, target_name, chosen, results, started, real_time(), meta, stopped)
