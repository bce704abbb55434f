"""Rate limits: per user on the API (counted inside the one authenticate round trip), per client IP
and per (client IP, account) on login. Fixed windows that start at the first admitted hit.

Every limited response carries ``RateLimit-Limit``/``-Remaining``/``-Reset``; a refusal is 429 with
``Retry-After``.
"""

from __future__ import annotations

import math
import time

from flask import Flask, g, request
from flask.typing import ResponseReturnValue

from reference_impl.errors import TooManyRequests
from reference_impl.services import services
from reference_impl.store import RateDecision, RateRequest, window_decision

# Fault limiter-never-resets: a window that never ends once started (about 31 years).
NEVER = 10**9
# Fault limiter-race: the gap between the read and the write of the counter.
RACE_GAP = 0.002


def client_ip() -> str:
    """The peer address, or the address the Nth trusted proxy saw (X-Forwarded-For from the right)."""
    config = services().config
    remote = request.remote_addr or "unknown"
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if config.has_fault("trust-forwarded-for"):
        return forwarded[0] if forwarded else remote  # the client's own claim, unchecked
    if config.trusted_proxies > 0 and len(forwarded) >= config.trusted_proxies:
        return forwarded[-config.trusted_proxies]
    return remote


def _effective(limit: int, window: float) -> tuple[int, float]:
    config = services().config
    if config.has_fault("limiter-off-by-one"):
        limit += 1  # `count > limit` where `count >= limit` was meant
    if config.has_fault("limiter-never-resets"):
        window = NEVER
    return limit, window


def _presented(decision: RateDecision, limit: int) -> RateDecision:
    """What the headers say: the configured limit, whatever a fault made the counter do."""
    return RateDecision(decision.allowed, limit, max(0, min(decision.remaining, limit)), decision.reset_after)


def counted_in_store() -> bool:
    """Whether the API limit is counted inside store.authenticate (the reference) or separately."""
    config = services().config
    return not (config.has_fault("limiter-per-process") or config.has_fault("limiter-race"))


def api_rate_request(user_id: int) -> RateRequest | None:
    config = services().config
    if not counted_in_store():
        return None
    limit, window = _effective(config.api_rate_limit, config.api_rate_window)
    return RateRequest(f"api:{user_id}", limit, window)


def hit(key: str, limit: int, window: float) -> RateDecision:
    """One counted request outside authenticate (login, and the limiter faults)."""
    svc = services()
    config = svc.config
    configured = limit
    limit, window = _effective(limit, window)
    now = time.time()
    if config.has_fault("limiter-per-process"):
        decision = svc.local.limiter.hit(key, limit, window, now)  # counters in this process only
    elif config.has_fault("limiter-race"):
        current = svc.store.read_window(key)
        start, count = current if current is not None else (None, 0)
        decision, start, count = window_decision(start, count, limit, window, now)
        time.sleep(RACE_GAP)
        if decision.allowed:
            svc.store.write_window(key, start, count, window)
    else:
        decision = svc.store.hit(key, limit, window, now)
    return _presented(decision, configured)


def enforce_api(user_id: int, decision: RateDecision | None) -> None:
    """Apply the per-user API limit (the decision comes from authenticate, or is made here)."""
    config = services().config
    if decision is None and not counted_in_store():
        decision = hit(f"api:{user_id}", config.api_rate_limit, config.api_rate_window)
    elif decision is not None:
        decision = _presented(decision, config.api_rate_limit)
    if decision is not None:
        refuse_if_over(decision, "too many requests; slow down")


def check_login(tenant: str, username: str) -> None:
    """Count a login attempt against the per-IP, then the per-account limit; 429 when over either."""
    config = services().config
    if config.has_fault("login-not-limited"):
        return
    ip = client_ip()
    window = config.login_rate_window
    by_ip = hit(f"login-ip:{ip}", config.login_limit_ip, window)
    if not by_ip.allowed:
        refuse_if_over(by_ip, "too many login attempts from this address; try again later")
    account = f"login-account:{ip}|{tenant}/{username}".lower()
    by_account = hit(account, config.login_limit_account, window)
    record(by_account if by_account.remaining <= by_ip.remaining else by_ip)
    refuse_if_over(by_account, "too many login attempts for this account; try again later")


def record(decision: RateDecision) -> None:
    g.authconform_rate = decision


def refuse_if_over(decision: RateDecision, message: str) -> None:
    record(decision)
    if decision.allowed:
        return
    headers = {}
    if not services().config.has_fault("no-retry-after"):
        headers["Retry-After"] = str(max(1, math.ceil(decision.reset_after)))
    raise TooManyRequests(message, headers=headers)


def init_app(app: Flask) -> None:
    @app.after_request
    def rate_headers(response: ResponseReturnValue) -> ResponseReturnValue:
        decision: RateDecision | None = g.get("authconform_rate")
        if decision is not None and not services().config.has_fault("no-ratelimit-headers"):
            response.headers["RateLimit-Limit"] = str(decision.limit)  # type: ignore[union-attr]
            response.headers["RateLimit-Remaining"] = str(decision.remaining)  # type: ignore[union-attr]
            response.headers["RateLimit-Reset"] = str(max(0, math.ceil(decision.reset_after)))  # type: ignore[union-attr]
        return response
