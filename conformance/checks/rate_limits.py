"""Contract section 6: rate limiting. Each check spends a fresh user's (or the client's) budget and
counts exactly how many requests the target admitted, sequentially, in a burst, across workers and
behind forged X-Forwarded-For headers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from conformance.api import Principal, Tokens
from conformance.checks._support import fresh_login_window, login, ok, pass_time
from conformance.context import CheckContext
from conformance.registry import Level, Severity, check
from conformance.targets.base import Response
from conformance.verdict import CannotJudge, NotApplicable

RL_REFS = ("ASVS 2.2.1", "ASVS 11.1.4", "API4:2023")
LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
# Threads of the concurrent burst: enough to overlap requests, few enough for a small CI runner.
BURST_THREADS = 16
# Requests past the declared limit a sequential run sends before concluding there is no limit.
OVERSHOOT = 3
# Without declared login limits, wrong logins sent before "no throttling observed" (contract header:
# login throttling is owed whether declared or not).
PRESENCE_ATTEMPTS = 50
API_CONTROLS = ("valid-login", "no-token", "valid-token")
LOGIN_NO_CONTROLS = ("the burst's own answers are its controls: every failed login before the limit must be "
                     "refused as a wrong password (not 429, not a crash), and the burst must fit in one window")


def _fresh_user(ctx: CheckContext) -> Tokens:
    """A login whose API budget nobody spent in this window: a fresh user where the target has
    sign-up, else a shared account once a whole window has passed; and the no-token control."""
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    if ctx.profile.users.source == "accounts":
        _fresh_window(ctx, ctx.profile.rate_limits.api_window + 1, "a fresh API window for a shared account")
    tokens = login(ctx, user)
    ctx.record_control("valid-login", True, f"{user.role} {user.username} logged in")
    anonymous = ctx.api.call("me", note="control: no token")
    held = ctx.answer(anonymous).value == "refused"
    ctx.record_control("no-token", held, f"a request without a token answered {anonymous.status}")
    ctx.control(held, f"a request without a token answered {anonymous.status}")
    return tokens


def _fresh_window(ctx: CheckContext, seconds: float, why: str) -> None:
    try:
        pass_time(ctx, seconds, why)
    except NotApplicable as exc:
        raise CannotJudge(f"cannot get an unspent budget: {exc}") from None


def _fits_window(ctx: CheckContext, started: float, window: float, what: str) -> None:
    """Over HTTP a burst that outlasts the window (a sliding window rolls under it) proves nothing."""
    ctx.control(ctx.target.clock is not None or time.monotonic() - started < window,
                f"{what} took longer than the {window:g} s window; the count cannot be judged")


def _presence(ctx: CheckContext, attempts: Callable[[int], Response], what: str) -> None:
    """No declared login limit: is there any throttling within PRESENCE_ATTEMPTS wrong logins?"""
    for n in range(1, PRESENCE_ATTEMPTS + 1):
        response = attempts(n)
        if response.status in ctx.profile.target.rate_limited_statuses:
            ctx.decisive()
            ctx.details["throttled_after"] = n - 1
            ctx.cover(1, 2, "parts of the rule", ["the exact limit (the profile declares no [rate_limits] for "
                                                   "login; declare rate_limit_login and its numbers)"])
            return
        ctx.control(ctx.refused(response, also=(400,)), f"wrong login {n} answered {response.status}")
    ctx.decisive()
    ctx.expect(False, f"no login throttling observed within {PRESENCE_ATTEMPTS} {what} (the contract owes it; "
                      "waive it in [waive] with a reason if a gateway in front does it)")


@dataclass
class Run:
    """What a sequential run until the first 429 saw."""

    admitted: list[Response] = field(default_factory=list)
    refusal: Response | None = None


def _spend(ctx: CheckContext, tokens: Tokens) -> Run:
    """Call the API until the first 429 (at most limit + OVERSHOOT requests)."""
    limit, window = ctx.profile.rate_limits.api_limit, ctx.profile.rate_limits.api_window
    run = Run()
    started = time.monotonic()
    for n in range(1, limit + OVERSHOOT + 1):
        response = ctx.api.me(tokens, note=f"request {n}")
        if response.status == 429:
            run.refusal = response
            break
        ctx.control(ok(response.status), f"request {n} of a valid user answered {response.status}")
        run.admitted.append(response)
    _fits_window(ctx, started, window, "the run")
    ctx.record_control("valid-token", bool(run.admitted), "the first request of the unspent user was admitted")
    ctx.control(bool(run.admitted), "the first request of a user with an unspent budget was refused with 429")
    return run


def _under_declared(admitted: int, limit: int, sent: int) -> None:
    """Fewer admitted than declared out of more than declared sent, with an unspent budget: the
    target's real limit is lower than the profile says, so over-admission cannot be judged
    against the declared number (a limiter that counts per process can hide under it)."""
    if admitted < limit <= sent:
        raise CannotJudge(f"only {admitted} of {sent} requests were admitted where the profile declares {limit} "
                          "per window: set rate_limits.api_limit to the target's real limit")


def _positive_int(value: str | None) -> bool:
    return value is not None and value.strip().isdigit() and int(value) > 0


@check(
    "RL-API-EXACT",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    controls=API_CONTROLS,
    title="call the API as a fresh user until refused; count the admitted requests",
    rule="exactly the declared number of requests is admitted per window; the next is 429 with Retry-After",
    severity=Severity.MEDIUM,
    references=RL_REFS,
    needs=("rate_limit_api",),
)
def api_exact(ctx: CheckContext) -> None:
    limit = ctx.profile.rate_limits.api_limit
    run = _spend(ctx, _fresh_user(ctx))
    ctx.details["admitted"] = len(run.admitted)
    ctx.expect(run.refusal is not None, f"{limit + OVERSHOOT} requests in one window were all admitted "
                                        f"(declared limit {limit})")
    if len(run.admitted) < limit:
        # Fewer than declared, with an unspent budget: the profile's number is wrong, not the target
        # unsafe (over-admission is the failure). The exactness cannot be judged against it.
        raise CannotJudge(f"only {len(run.admitted)} requests were admitted in a fresh window where the profile "
                          f"declares {limit}: set rate_limits.api_limit to the target's real limit")
    ctx.expect(len(run.admitted) == limit, f"{len(run.admitted)} requests were admitted in one window; "
                                           f"the declared limit is {limit}")
    assert run.refusal is not None
    ctx.expect(_positive_int(run.refusal.headers.get("Retry-After")),
               "the 429 answer has no Retry-After header with a positive number of seconds")


@check(
    "RL-HEADERS",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    controls=API_CONTROLS,
    # The RateLimit-* fields are an IETF draft (httpapi-ratelimit-headers), not yet a standard:
    # a target without them breaks a SHOULD (Retry-After on the 429 is RL-API-EXACT's, a MUST).
    level=Level.SHOULD,
    title="read the RateLimit-* headers of every limited answer",
    rule="limited answers SHOULD carry consistent RateLimit-Limit/-Remaining/-Reset",
    severity=Severity.LOW,
    references=RL_REFS + ("draft-ietf-httpapi-ratelimit-headers",),
    needs=("rate_limit_api",),
)
def headers(ctx: CheckContext) -> None:
    limit = ctx.profile.rate_limits.api_limit
    run = _spend(ctx, _fresh_user(ctx))
    ctx.expect(run.refusal is not None, f"the declared limit of {limit} never produced a 429")
    assert run.refusal is not None
    if len(run.admitted) < limit:
        raise CannotJudge(f"only {len(run.admitted)} requests were admitted in a fresh window where the profile "
                          f"declares {limit}: the headers cannot be compared with the declared limit (set "
                          "rate_limits.api_limit to the target's real limit)")
    problems: list[str] = []
    remaining: list[int] = []
    for n, response in enumerate([*run.admitted, run.refusal], 1):
        missing = [name for name in LIMIT_HEADERS if response.headers.get(name) is None]
        if missing:
            problems.append(f"answer {n} ({response.status}) lacks {', '.join(missing)}")
            continue
        values = {name: response.headers[name].strip() for name in LIMIT_HEADERS}
        if not all(value.isdigit() for value in values.values()):
            problems.append(f"answer {n} has non-numeric RateLimit headers {values}")
            continue
        if int(values["RateLimit-Limit"]) != limit:
            problems.append(f"answer {n} says RateLimit-Limit {values['RateLimit-Limit']}, declared {limit}")
        if response is not run.refusal:
            remaining.append(int(values["RateLimit-Remaining"]))
    steps = [b - a for a, b in zip(remaining, remaining[1:], strict=False)]
    if remaining and any(step != -1 for step in steps):
        problems.append(f"RateLimit-Remaining does not fall by one per request ({remaining[:5]}...)")
    ctx.details["remaining_first"] = remaining[:3]
    ctx.expect(not problems, "; ".join(problems[:6]))


@check(
    "RL-WINDOW-RESET",
    waits_on_clock=True,
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    controls=API_CONTROLS,
    title="exhaust a user's API budget, let one window pass, call again",
    rule="after the window passes, requests are admitted again",
    severity=Severity.MEDIUM,
    references=RL_REFS,
    needs=("rate_limit_api",),
)
def window_reset(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    tokens = _fresh_user(ctx)
    run = _spend(ctx, tokens)
    ctx.control(run.refusal is not None, f"no 429 within {limits.api_limit + OVERSHOOT} requests; "
                                         "the reset cannot be observed")
    pass_time(ctx, limits.api_window + 1, "the API window reset")
    if limits.api_window + 1 >= ctx.profile.tokens.access_ttl:
        tokens = ctx.api.refresh(tokens) if ctx.profile.offers("refresh") else tokens
    after = ctx.api.me(tokens, note=f"after {limits.api_window + 1} s")
    ctx.expect(ok(after.status), f"{limits.api_window + 1} s after the limit was reached the API still "
                                 f"answers {after.status} (window {limits.api_window} s)")


def _wrong_password(user: Principal) -> Principal:
    return Principal(user.username, "Wrong-" + secrets.token_urlsafe(10), user.tenant, user.role)


def _stranger(ctx: CheckContext, user: Principal) -> Principal:
    """An unknown username in the user's tenant."""
    return Principal(ctx.users.username("nobody-"), "Wrong-" + secrets.token_urlsafe(10), user.tenant, "viewer")


@check(
    "RL-LOGIN-ACCOUNT",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    no_controls=LOGIN_NO_CONTROLS,
    title="fail the login of one account up to its limit, then log in with the right password",
    rule="login attempts per (client, account) are limited; over the limit even the right password gets 429",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "API4:2023", "API2:2023"),
    needs=("rate_limit_login",),
)
def login_account(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    fresh_login_window(ctx)
    wrong = _wrong_password(user)
    if not ctx.profile.declares("rate_limit_login"):
        _presence(ctx, lambda n: ctx.api.login_response(wrong), "wrong passwords for one account")
        return
    started = time.monotonic()
    for n in range(1, limits.login_account_limit + 1):
        response = ctx.api.login_response(wrong)
        ctx.expect(response.status not in ctx.profile.target.rate_limited_statuses,
                   f"failed login {n} of {limits.login_account_limit} answered {response.status} in a fresh "
                   "window: the limit is lower than declared")
        ctx.control(ctx.refused(response, also=(400,)), f"failed login {n} answered {response.status}")
    _fits_window(ctx, started, limits.login_window, "the failed logins")
    over = ctx.api.login_response(user)
    ctx.expect(over.status == 429, f"after {limits.login_account_limit} failed logins the right password "
                                   f"answered {over.status}, not 429")
    if ctx.target.clock is not None:
        ctx.clock.advance(limits.login_window + 1)
        ctx.control(ctx.api.logged_in(ctx.api.login_response(user)), "the account cannot log in even in a new window")


@check(
    "RL-LOGIN-IP",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    no_controls=LOGIN_NO_CONTROLS,
    title="fail logins of many different usernames from one client, then log in correctly",
    rule="login attempts per client IP are limited across usernames",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "API4:2023", "API2:2023"),
    needs=("rate_limit_login",),
)
def login_ip(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    fresh_login_window(ctx)
    if not ctx.profile.declares("rate_limit_login"):
        _presence(ctx, lambda n: ctx.api.login_response(_stranger(ctx, user)), "wrong logins of new usernames")
        return
    started = time.monotonic()
    for n in range(1, limits.login_ip_limit + 1):
        response = ctx.api.login_response(_stranger(ctx, user))
        ctx.expect(response.status not in ctx.profile.target.rate_limited_statuses,
                   f"failed login {n} of {limits.login_ip_limit} (a new username each) answered "
                   f"{response.status} in a fresh window: the limit is lower than declared")
        ctx.control(ctx.refused(response, also=(400,)), f"failed login {n} answered {response.status}")
    _fits_window(ctx, started, limits.login_window, "the failed logins")
    over = ctx.api.login_response(user)
    ctx.expect(over.status == 429, f"after {limits.login_ip_limit} failed logins from one client a valid "
                                   f"login answered {over.status}, not 429")


@check(
    "RL-CONCURRENCY",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    controls=API_CONTROLS,
    title=f"fire twice the limit of requests for one user from {BURST_THREADS} threads at once",
    rule="the limiter is exact under concurrency: never more than the limit admitted in a window",
    severity=Severity.MEDIUM,
    references=RL_REFS,
    needs=("rate_limit_api",),
)
def concurrency(ctx: CheckContext) -> None:
    limit = ctx.profile.rate_limits.api_limit
    tokens = _fresh_user(ctx)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:
        statuses = list(pool.map(lambda n: ctx.api.me(tokens, note=f"burst request {n}").status,
                                 range(2 * limit)))
    elapsed = time.monotonic() - started
    admitted = sum(1 for status in statuses if ok(status))
    ctx.details["burst"] = {"sent": len(statuses), "admitted": admitted, "seconds": round(elapsed, 3)}
    odd = sorted({status for status in statuses if not ok(status) and status != 429})
    ctx.control(not odd, f"the burst got answers other than 2xx and 429: {odd}")
    ctx.control(ctx.target.clock is not None or elapsed < ctx.profile.rate_limits.api_window,
                "the burst took longer than one window; the count cannot be judged")
    ctx.record_control("valid-token", admitted > 0, f"{admitted} of the burst's requests were admitted")
    ctx.control(admitted > 0, f"none of the {len(statuses)} requests was admitted: the user's budget was spent "
                              "before the burst, so the count proves nothing")
    _under_declared(admitted, limit, len(statuses))
    ctx.expect(admitted <= limit, f"{admitted} of {len(statuses)} concurrent requests were admitted; "
                                  f"the declared limit is {limit}")


@check(
    "RL-XFF-SPOOF",
    exclusive=True,  # counts a burst that must fit one window: other checks' load would stretch it
    counts_limits=True,
    no_controls=LOGIN_NO_CONTROLS,
    title="fail logins from one client with a new X-Forwarded-For on each, then log in correctly",
    rule="X-Forwarded-For is trusted only from the configured number of proxies (default none)",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "API4:2023", "API8:2023"),
    needs=("rate_limit_login",),
)
def xff_spoof(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    if limits.trusted_proxies > 0:
        raise NotApplicable(f"the target declares {limits.trusted_proxies} trusted proxies, so it may "
                            "take the client address from X-Forwarded-For")
    if not ctx.profile.declares("rate_limit_login"):
        raise NotApplicable("the profile declares no login limit: RL-LOGIN-IP judges whether there is one; "
                            "spoofing past it needs its number")
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    fresh_login_window(ctx)
    statuses = []
    started = time.monotonic()
    for n in range(1, limits.login_ip_limit + 1):
        forwarded = {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}, 203.0.113.{n % 250 + 1}"}
        statuses.append(ctx.api.login_response(_stranger(ctx, user), headers=forwarded).status)
    _fits_window(ctx, started, limits.login_window, "the spoofed logins")
    over = ctx.api.login_response(user, headers={"X-Forwarded-For": "192.0.2.77"})
    ctx.details["statuses"] = statuses + [over.status]
    ctx.expect(429 in statuses or over.status == 429,
               f"{limits.login_ip_limit + 1} logins from one client, each claiming a different address in "
               f"X-Forwarded-For, were never limited (last answer {over.status})")


@check(
    "RL-ACROSS-WORKERS",
    counts_limits=True,
    controls=API_CONTROLS,
    title="alternate one user's requests between two server workers; count the admitted ones",
    rule="the limiter is exact across workers: never more than the limit admitted in a window",
    severity=Severity.MEDIUM,
    references=RL_REFS,
    needs=("rate_limit_api", "workers"),
)
def across_workers(ctx: CheckContext) -> None:
    limit = ctx.profile.rate_limits.api_limit
    tokens = _fresh_user(ctx)
    admitted = 0
    for n in range(2 * limit):
        response = ctx.api.me(tokens, worker=n % 2, note=f"request {n + 1} on worker {n % 2}")
        ctx.control(ok(response.status) or response.status == 429,
                    f"request {n + 1} answered {response.status}")
        admitted += ok(response.status)
    ctx.details["admitted"] = admitted
    ctx.record_control("valid-token", admitted > 0, f"{admitted} requests were admitted")
    ctx.control(admitted > 0, "no request was admitted: the user's budget was spent before the check")
    _under_declared(admitted, limit, 2 * limit)
    ctx.expect(admitted <= limit, f"{admitted} of {2 * limit} requests alternating between two workers were "
                                  f"admitted; the declared limit is {limit}")
