"""The shared state behind one small interface: revocations, sessions (which are also the refresh
families), cached user records and limiter windows.

Two implementations with identical semantics: ``MemoryStore`` (one process) and ``RedisStore``
(every worker, survives restarts). Time is always passed in as ``now`` (seconds, ``time.time()``
of the app), never read inside a store, so a frozen clock works with both. Timeouts of ``None``
mean "never" (the no-idle-timeout style faults pass None; the reference never does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

# Why an authentication was refused, or "ok".
AuthStatus = Literal["ok", "revoked", "no_session", "idle", "expired"]
RotateResult = Literal["ok", "reused", "unknown"]
# What rotate_refresh does when the presented refresh token is not the session's current one.
OnReuse = Literal["end", "refuse", "accept"]

# Cleanup horizon for entries whose decisions are made with ``now`` (Redis key expiry, memory purge).
CLEANUP_GRACE = 86400


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error; the app fails closed (503)."""


@dataclass(frozen=True)
class UserRecord:
    user_id: int
    username: str
    role: str
    tenant: str
    active: bool


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the window ends


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    user_id: int
    created_at: float
    last_seen_at: float
    deadline: float | None  # absolute end, None = never


@dataclass(frozen=True)
class AuthState:
    status: AuthStatus
    user: UserRecord | None  # None: not cached (load it from the database and put_user)
    rate: RateDecision | None  # None: not counted (refused, or no limit asked for)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class RateRequest:
    key: str
    limit: int
    window: float


class Store(Protocol):
    def ping(self) -> None: ...

    def authenticate(self, *, jti: str, session_id: str | None, user_id: int, now: float,
                     idle_timeout: float | None, rate: RateRequest | None) -> AuthState:
        """One round trip: revoked jti? session live (idle, absolute; then touched)? the cached user
        record; and, only when all is valid, count the request against ``rate``. A ``session_id`` of
        None skips the session check."""
        ...

    def create_session(self, *, user_id: int, session_id: str, now: float, max_sessions: int | None,
                       idle_timeout: float | None, absolute_timeout: float | None,
                       refresh_jti: str) -> list[str]:
        """Create the session (and its refresh family); sessions that timed out are purged and do not
        count; beyond ``max_sessions`` the oldest are ended. Returns the evicted session ids."""
        ...

    def rotate_refresh(self, *, session_id: str, user_id: int, presented_jti: str, new_jti: str, now: float,
                       idle_timeout: float | None, on_reuse: OnReuse = "end") -> RotateResult:
        """Atomically swap the session's current refresh jti. A stale jti is reuse: the family (the
        session) ends. 'unknown' when the session is gone or timed out."""
        ...

    def end_session(self, session_id: str) -> bool: ...

    def end_user_sessions(self, user_id: int, keep: str | None = None) -> list[str]: ...

    def list_sessions(self, user_id: int, now: float, idle_timeout: float | None) -> list[SessionInfo]: ...

    def get_session(self, session_id: str) -> SessionInfo | None: ...

    def revoke_jti(self, jti: str, until: float, now: float) -> None: ...

    def put_user(self, record: UserRecord) -> None: ...

    def drop_user(self, user_id: int) -> None: ...

    def hit(self, key: str, limit: int, window: float, now: float) -> RateDecision:
        """Fixed window starting at the first admitted hit; a denied hit does not extend it."""
        ...

    def claim(self, key: str, until: float, now: float) -> bool:
        """Mark ``key`` used; True for the first claim only (a spent MFA challenge stays spent).
        The mark is kept at least until ``until``."""
        ...

    def advance(self, key: str, value: int, until: float, now: float) -> bool:
        """Raise the number kept under ``key`` to ``value``; True only when ``value`` is above the
        one kept (the last TOTP step a user spent: a code is used once, never an older one)."""
        ...

    # Raw window access: the limiter-race fault (a read, then a separate write), and the MFA
    # per-account limit, which peeks at its failure count before it verifies a code.
    def read_window(self, key: str) -> tuple[float, int] | None: ...

    def write_window(self, key: str, start: float, count: int, window: float) -> None: ...


def session_state(last_seen: float, deadline: float | None, now: float,
                  idle_timeout: float | None) -> AuthStatus:
    """The one definition of a live session, shared by both stores (Redis repeats it in Lua)."""
    if idle_timeout is not None and now - last_seen > idle_timeout:
        return "idle"
    if deadline is not None and now > deadline:
        return "expired"
    return "ok"


def window_decision(start: float | None, count: int, limit: int, window: float,
                    now: float) -> tuple[RateDecision, float, int]:
    """The fixed-window rule (Redis repeats it in Lua): the decision and the new (start, count)."""
    if start is None or now >= start + window:
        start, count = now, 0
    if count >= limit:
        return RateDecision(False, limit, 0, max(0.0, start + window - now)), start, count
    count += 1
    return RateDecision(True, limit, limit - count, max(0.0, start + window - now)), start, count
