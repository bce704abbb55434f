"""Contract section 4: sessions. Each check opens sessions, moves time or ends one, and proves
which of their tokens still work."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from conformance.api import Principal, Tokens
from conformance.checks._support import claims_of, listed_session_ids, login, ok, pass_time, session_id
from conformance.context import CheckContext
from conformance.registry import Severity, check
from conformance.verdict import NotApplicable

# A session id must carry at least this much: 16 characters, or 64 bits however encoded.
MIN_ID_CHARS = 16
# Numeric ids this close to each other are a counter, not randomness.
SEQUENTIAL_GAP = 1_000_000


def _session(ctx: CheckContext, role: str = "viewer") -> tuple[Principal, Tokens]:
    user = ctx.users.create(role)
    tokens = login(ctx, user)
    ctx.baseline(tokens)
    return user, tokens


def _sid(ctx: CheckContext, tokens: Tokens) -> str:
    sid = session_id(tokens)
    if not sid:
        raise NotApplicable("the login answer names no session id (tokens.session_field) and the "
                            "access token has no sid claim")
    return sid


def _works(ctx: CheckContext, tokens: Tokens, note: str) -> bool:
    return ok(ctx.api.me(tokens, note=note).status)


@check(
    "SES-ID-FRESH",
    controls=("valid-token", "no-token", "liveness"),
    title="log in twice; compare the two session ids",
    rule="a login creates a session with a fresh, unpredictable id",
    severity=Severity.HIGH,
    references=("ASVS 3.2.2", "ASVS 3.2.4", "API2:2023"),
)
def id_fresh(ctx: CheckContext) -> None:
    user, first = _session(ctx)
    second = login(ctx, user)
    ids = [_sid(ctx, first), _sid(ctx, second)]
    ctx.details["id_lengths"] = [len(sid) for sid in ids]
    ctx.expect(ids[0] != ids[1], "two logins were given the same session id")
    short = [sid for sid in ids if len(sid) < MIN_ID_CHARS]
    ctx.expect(not short, f"session ids of {min(len(s) for s in ids)} characters are too short to be "
                          f"unpredictable (want at least {MIN_ID_CHARS} characters or 64 bits)")
    ctx.expect(not _counter_like(*ids),
               "consecutive session ids differ only in a number close to the other's: a counter")


def _counter_like(first: str, second: str) -> bool:
    """The two ids are the same text around numbers that are close: a counter, easy to guess."""
    numbers_a, numbers_b = re.findall(r"\d+", first), re.findall(r"\d+", second)
    if not numbers_a or len(numbers_a) != len(numbers_b):
        return False
    if re.sub(r"\d+", "#", first) != re.sub(r"\d+", "#", second):
        return False
    gaps = [abs(int(a) - int(b)) for a, b in zip(numbers_a, numbers_b, strict=True)]
    return all(gap <= SEQUENTIAL_GAP for gap in gaps) and any(gaps)


@check(
    "SES-FIXATION",
    controls=("valid-token", "no-token", "liveness"),
    title="log in with a session id of the client's choosing in the body and in X-Session-ID",
    rule="a login never adopts a session id the client supplied",
    severity=Severity.HIGH,
    references=("ASVS 3.2.1", "API2:2023"),
)
def fixation(ctx: CheckContext) -> None:
    user, _tokens = _session(ctx)
    adopted = []
    for channel in ("body", "header"):
        chosen = secrets.token_hex(16)
        if channel == "body":
            tokens = login(ctx, user, extra={"session_id": chosen})
        else:
            tokens = login(ctx, user, headers={"X-Session-ID": chosen})
        sid = _sid(ctx, tokens)
        claimed = claims_of(tokens.access).get("sid")
        if chosen in (sid, claimed):
            adopted.append(channel)
    ctx.expect(not adopted, "the login adopted the session id the client chose in its "
                            + " and ".join(adopted))


@check(
    "SES-EVICT-OLDEST",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log one user in max_sessions + 1 times; use the first session's tokens and the others'",
    rule="at most N sessions per user; login N+1 ends the oldest, whose tokens stop working at once",
    severity=Severity.MEDIUM,
    references=("ASVS 3.3.4", "API2:2023"),
    needs=("session_limit",),
)
def evict_oldest(ctx: CheckContext) -> None:
    limit = ctx.profile.sessions.max_sessions
    user, first = _session(ctx)
    others = [login(ctx, user) for _ in range(limit)]
    ctx.details["logins"] = limit + 1
    evicted_ok = _works(ctx, first, "the first (oldest) session after the extra login")
    dead = [n for n, tokens in enumerate(others, 2) if not _works(ctx, tokens, f"session {n} of {limit + 1}")]
    ctx.expect(not dead, f"after {limit + 1} logins session(s) {', '.join(map(str, dead))} stopped working; "
                         f"only the oldest should end")
    ctx.expect(not evicted_ok, f"after {limit + 1} logins (limit {limit}) the oldest session's access token "
                               "still works")
    if ctx.profile.declares("refresh"):
        response = ctx.api.refresh_response(first)
        ctx.expect(not ok(response.status), "the evicted session's refresh token still gives new tokens")


def _probe(ctx: CheckContext, horizon: float) -> Callable[[Tokens, str], tuple[bool, Tokens]]:
    """How to ask whether a session lives (and so touch it) up to ``horizon`` seconds after login:
    the first access token when it lives that long, else refresh, else a freshly minted access
    token of the same session. The probe returns (alive, the tokens to use next)."""
    profile = ctx.profile
    if profile.tokens.access_ttl > horizon:
        return lambda tokens, note: (_works(ctx, tokens, note), tokens)
    if profile.declares("refresh"):
        def by_refresh(tokens: Tokens, note: str) -> tuple[bool, Tokens]:
            response = ctx.api.refresh_response(tokens)
            if not ok(response.status):
                return False, tokens
            fresh = ctx.api.tokens_from(response, previous=tokens)
            return fresh.ok and _works(ctx, fresh, note), fresh
        return by_refresh
    if ctx.minter is not None:
        minter = ctx.minter

        def by_minting(tokens: Tokens, note: str) -> tuple[bool, Tokens]:
            now = int(ctx.target.clock.now() if ctx.target.clock is not None else time.time())
            claims = {**claims_of(tokens.access), "jti": secrets.token_hex(16),
                      "iat": now, "nbf": now, "exp": now + profile.tokens.access_ttl}
            token = minter.mint(claims)
            ctx.redactor.add(token)
            return _works(ctx, Tokens(access=token, session_id=tokens.session_id), note), tokens
        return by_minting
    raise NotApplicable("the access token expires before the session's timeout and the target has "
                        "neither refresh nor a signing key ([signing]) to keep the session in use")


@check(
    "SES-IDLE-TIMEOUT",
    ends_credential=True,
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="use a session just before the idle timeout, then leave it unused just past it",
    rule="a session unused for the idle timeout ends, with its tokens",
    severity=Severity.MEDIUM,
    references=("ASVS 3.3.2", "API2:2023"),
    needs=("idle_timeout",),
)
def idle_timeout(ctx: CheckContext) -> None:
    idle = ctx.profile.sessions.idle_timeout
    if ctx.target.clock is None and idle + 1 > ctx.profile.target.max_wait:
        raise NotApplicable(f"the idle timeout ({idle} s) is longer than target.max_wait "
                            f"({ctx.profile.target.max_wait:g} s) and the clock cannot be moved")
    _user, tokens = _session(ctx)
    probe = _probe(ctx, 2 * idle + 2)
    if ctx.target.clock is not None:
        ctx.clock.advance(idle - 1)
        alive, tokens = probe(tokens, f"after {idle - 1} s idle")
        ctx.control(alive, f"the session ended after {idle - 1} s idle, before the declared idle "
                           f"timeout of {idle} s")
    pass_time(ctx, idle + 1, "the idle timeout")
    alive, _tokens = probe(tokens, f"after {idle + 1} s idle")
    ctx.expect(not alive, f"the session still works after {idle + 1} s without use "
                          f"(declared idle timeout {idle} s)")


@check(
    "SES-ABSOLUTE-TIMEOUT",
    ends_credential=True,
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="keep a session busy until just before the absolute timeout, then just past it",
    rule="a session ends the absolute timeout after login, however active",
    severity=Severity.MEDIUM,
    references=("ASVS 3.3.2", "API2:2023"),
    needs=("absolute_timeout",),
)
def absolute_timeout(ctx: CheckContext) -> None:
    sessions, ttl = ctx.profile.sessions, ctx.profile.tokens.access_ttl
    absolute = sessions.absolute_timeout
    frozen = ctx.target.clock is not None
    margin = 1 if frozen else 2  # over HTTP the requests themselves take time: probe further out
    if not frozen and absolute + margin > ctx.profile.target.max_wait:
        raise NotApplicable(f"the absolute timeout ({absolute} s) is longer than target.max_wait "
                            f"({ctx.profile.target.max_wait:g} s) and the clock cannot be moved")

    def now() -> float:
        return ctx.clock.now() if frozen else time.monotonic()

    _user, tokens = _session(ctx)
    started = now()

    def wait_until(mark: float, why: str) -> None:
        pass_time(ctx, max(0.0, mark - (now() - started)), why)

    probe = _probe(ctx, absolute + margin + 1)
    # A step well inside both the idle timeout and the access token's lifetime.
    step = max(1, min(sessions.idle_timeout, ttl) // 2)
    mark, probes = step, 0
    while mark < absolute - margin:
        wait_until(mark, "keeping the session busy")
        alive, tokens = probe(tokens, f"busy at {mark} s")
        probes += 1
        ctx.control(alive, f"an active session ended {mark} s after login, before the declared "
                           f"absolute timeout of {absolute} s")
        mark += step
    wait_until(absolute - margin, "the absolute timeout")
    alive, tokens = probe(tokens, f"at {absolute - margin} s, just before the absolute timeout")
    ctx.control(alive, f"an active session ended at {absolute - margin} s, before the declared absolute "
                       f"timeout of {absolute} s")
    wait_until(absolute + margin, "the absolute timeout")
    ctx.details["probes"] = probes + 2
    alive, _tokens = probe(tokens, f"at {absolute + margin} s, just after the absolute timeout")
    direct = ctx.api.me(tokens, note="latest access token after the absolute timeout").status
    ctx.expect(not alive and not ok(direct),
               f"an active session still works {absolute + margin} s after login (declared absolute "
               f"timeout {absolute} s)")


@check(
    "SES-LIST",
    controls=("valid-token", "no-token", "liveness"),
    title="log one user in three times, another once; list the first user's sessions",
    rule="the sessions list shows exactly the user's own live sessions",
    severity=Severity.MEDIUM,
    references=("ASVS 3.3.4", "API1:2023"),
    needs=("sessions",),
)
def session_list(ctx: CheckContext) -> None:
    user, first = _session(ctx)
    count = 3
    if ctx.profile.declares("session_limit"):
        count = max(1, min(count, ctx.profile.sessions.max_sessions))
    mine = [first] + [login(ctx, user) for _ in range(count - 1)]
    other = login(ctx, ctx.users.create("viewer", distinct_from=user))
    expected = {_sid(ctx, tokens) for tokens in mine}
    foreign = _sid(ctx, other)
    response = ctx.api.call("sessions_list", auth=first, note="list my sessions")
    ctx.control(ok(response.status), f"listing one's sessions answered {response.status}")
    listed = listed_session_ids(response.json())
    ctx.details["listed"] = len(listed)
    ctx.expect(foreign not in listed, "the sessions list shows another user's session")
    missing = expected - listed
    ctx.expect(not missing, f"{len(missing)} of the user's {count} live sessions are missing from the list")
    extra = listed - expected - {user.user_id}
    ctx.expect(not extra, f"the sessions list shows {len(extra)} session(s) that are not the user's own")


@check(
    "SES-DELETE",
    controls=("valid-token", "no-token", "liveness"),
    title="from session A end session B; end another user's session",
    rule="a user ends one of their sessions (its tokens stop working) and never another user's",
    severity=Severity.HIGH,
    references=("ASVS 3.3.4", "API1:2023"),
    needs=("sessions",),
)
def session_delete(ctx: CheckContext) -> None:
    user, device_a = _session(ctx)
    device_b = login(ctx, user)
    other = login(ctx, ctx.users.create("viewer", distinct_from=user))
    response = ctx.api.call("session_delete", auth=device_a, ids={"id": _sid(ctx, device_b)},
                            note="A ends session B")
    ctx.control(ok(response.status), f"ending one's own other session answered {response.status}")
    ctx.expect(not _works(ctx, device_b, "session B after it was ended"),
               f"session B still works after session A ended it (answer {response.status})")
    ctx.expect(_works(ctx, device_a, "session A after ending B"),
               "ending session B also ended session A")
    foreign = ctx.api.call("session_delete", auth=device_a, ids={"id": _sid(ctx, other)},
                           note="A ends another user's session")
    ctx.details["foreign_delete"] = foreign.status
    ctx.expect(foreign.status in (403, 404), f"ending another user's session answered {foreign.status}, "
                                             "not 404/403")
    ctx.expect(_works(ctx, other, "the other user's session afterwards"),
               "a user ended another user's session")
