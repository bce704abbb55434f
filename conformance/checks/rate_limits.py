"""Contract section 6: rate limiting. Each check spends a fresh user's (or the client's) budget and
counts exactly how many requests the target admitted, sequentially, in a burst, across workers and
behind forged X-Forwarded-For headers."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from conformance.api import Principal, Tokens
from conformance.checks._support import fresh_login_window, login, ok, pass_time
from conformance.context import CheckContext
from conformance.registry import Severity, check
from conformance.targets.base import Response
from conformance.verdict import NotApplicable

RL_REFS = ("ASVS 2.2.1", "ASVS 11.1.4", "API4:2023")
LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
# Threads of the concurrent burst: enough to overlap requests, few enough for a small CI runner.
BURST_THREADS = 16
# Requests past the declared limit a sequential run sends before concluding there is no limit.
OVERSHOOT = 3


def _fresh_user(ctx: CheckContext) -> Tokens:
    """A fresh user's login, whose API budget is untouched, and the no-token control."""
    tokens = login(ctx, ctx.users.create("viewer"))
    anonymous = ctx.api.call("me", note="control: no token")
    ctx.control(anonymous.status == 401, f"a request without a token answered {anonymous.status}")
    return tokens


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
    # Over HTTP the window may roll during the run; then the count proves nothing.
    ctx.control(ctx.target.clock is not None or time.monotonic() - started < window,
                f"the run took longer than the {window} s window; counts cannot be judged")
    ctx.control(bool(run.admitted), "the first request of a fresh user was refused with 429")
    return run


def _positive_int(value: str | None) -> bool:
    return value is not None and value.strip().isdigit() and int(value) > 0


@check(
    "RL-API-EXACT",
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
    ctx.expect(len(run.admitted) == limit, f"{len(run.admitted)} requests were admitted in one window; "
                                           f"the declared limit is {limit}")
    assert run.refusal is not None
    ctx.expect(_positive_int(run.refusal.headers.get("Retry-After")),
               "the 429 answer has no Retry-After header with a positive number of seconds")


@check(
    "RL-HEADERS",
    title="read the RateLimit-* headers of every limited answer, and Retry-After on the 429",
    rule="limited answers carry consistent RateLimit-Limit/-Remaining/-Reset; a 429 carries Retry-After",
    severity=Severity.LOW,
    references=RL_REFS + ("RFC 6585 §4",),
    needs=("rate_limit_api",),
)
def headers(ctx: CheckContext) -> None:
    limit = ctx.profile.rate_limits.api_limit
    run = _spend(ctx, _fresh_user(ctx))
    ctx.expect(run.refusal is not None, f"the declared limit of {limit} never produced a 429")
    assert run.refusal is not None
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
    if not _positive_int(run.refusal.headers.get("Retry-After")):
        problems.append("the 429 answer has no Retry-After header with a positive number of seconds")
    ctx.details["remaining_first"] = remaining[:3]
    ctx.expect(not problems, "; ".join(problems[:6]))


@check(
    "RL-WINDOW-RESET",
    title="exhaust a user's API budget, let one window pass, call again",
    rule="after the window passes, requests are admitted again",
    severity=Severity.MEDIUM,
    references=RL_REFS,
    needs=("rate_limit_api",),
)
def window_reset(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    user = ctx.users.create("viewer")
    tokens = login(ctx, user)
    run = _spend(ctx, tokens)
    ctx.control(run.refusal is not None, f"no 429 within {limits.api_limit + OVERSHOOT} requests; "
                                         "the reset cannot be observed")
    pass_time(ctx, limits.api_window + 1, "the API window reset")
    if limits.api_window + 1 >= ctx.profile.tokens.access_ttl:
        tokens = login(ctx, user)
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
    title="fail the login of one account up to its limit, then log in with the right password",
    rule="login attempts per (client, account) are limited; over the limit even the right password gets 429",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "API4:2023", "API2:2023"),
    needs=("rate_limit_login",),
)
def login_account(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    user = ctx.users.create("viewer")
    fresh_login_window(ctx)
    wrong = _wrong_password(user)
    for n in range(1, limits.login_account_limit + 1):
        status = ctx.api.login_response(wrong).status
        ctx.expect(status == 401, f"failed login {n} of {limits.login_account_limit} answered {status}, "
                                  "not 401 (the declared limit is not reached yet)")
    over = ctx.api.login_response(user)
    ctx.expect(over.status == 429, f"after {limits.login_account_limit} failed logins the right password "
                                   f"answered {over.status}, not 429")
    if ctx.target.clock is not None:
        ctx.clock.advance(limits.login_window + 1)
        ctx.control(ok(ctx.api.login_response(user).status), "the account cannot log in even in a new window")


@check(
    "RL-LOGIN-IP",
    title="fail logins of many different usernames from one client, then log in correctly",
    rule="login attempts per client IP are limited across usernames",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "API4:2023", "API2:2023"),
    needs=("rate_limit_login",),
)
def login_ip(ctx: CheckContext) -> None:
    limits = ctx.profile.rate_limits
    user = ctx.users.create("viewer")
    fresh_login_window(ctx)
    for n in range(1, limits.login_ip_limit + 1):
        status = ctx.api.login_response(_stranger(ctx, user)).status
        ctx.expect(status == 401, f"failed login {n} of {limits.login_ip_limit} (a new username each) "
                                  f"answered {status}, not 401 (the declared limit is not reached yet)")
    over = ctx.api.login_response(user)
    ctx.expect(over.status == 429, f"after {limits.login_ip_limit} failed logins from one client a valid "
                                   f"login answered {over.status}, not 429")


@check(
    "RL-CONCURRENCY",
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
    ctx.expect(admitted <= limit, f"{admitted} of {len(statuses)} concurrent requests were admitted; "
                                  f"the declared limit is {limit}")


@check(
    "RL-XFF-SPOOF",
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
    user = ctx.users.create("viewer")
    fresh_login_window(ctx)
    statuses = []
    for n in range(1, limits.login_ip_limit + 1):
        forwarded = {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}, 203.0.113.{n % 250 + 1}"}
        statuses.append(ctx.api.login_response(_stranger(ctx, user), headers=forwarded).status)
    over = ctx.api.login_response(user, headers={"X-Forwarded-For": "192.0.2.77"})
    ctx.details["statuses"] = statuses + [over.status]
    ctx.expect(429 in statuses or over.status == 429,
               f"{limits.login_ip_limit + 1} logins from one client, each claiming a different address in "
               f"X-Forwarded-For, were never limited (last answer {over.status})")


@check(
    "RL-ACROSS-WORKERS",
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
    ctx.expect(admitted <= limit, f"{admitted} of {2 * limit} requests alternating between two workers were "
                                  f"admitted; the declared limit is {limit}")
