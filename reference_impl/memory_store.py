"""The store in one process's memory: right for one worker, tests and the in-process target.

All state is on the instance, behind one lock, so each operation is atomic like its Lua twin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reference_impl.store import (
    CLEANUP_GRACE,
    AuthState,
    OnReuse,
    RateDecision,
    RateRequest,
    RotateResult,
    SessionInfo,
    UserRecord,
    session_state,
    window_decision,
)


@dataclass
class _Session:
    user_id: int
    created_at: float
    last_seen: float
    deadline: float | None
    refresh_jti: str
    seq: int  # creation order: with a frozen clock many sessions share one created_at

    def info(self, session_id: str) -> SessionInfo:
        return SessionInfo(session_id, self.user_id, self.created_at, self.last_seen, self.deadline)


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: dict[str, float] = {}
        self._sessions: dict[str, _Session] = {}
        self._user_sessions: dict[int, set[str]] = {}
        self._users: dict[int, UserRecord] = {}
        self._windows: dict[str, tuple[float, int, float]] = {}  # key -> (start, count, window)
        self._marks: dict[str, tuple[int, float]] = {}  # claim / advance: key -> (value, keep until)
        self._last_purge = 0.0
        self._seq = 0

    def ping(self) -> None:
        return None

    # ------------------------------------------------------------------ helpers (lock held)
    def _end(self, session_id: str) -> bool:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        owned = self._user_sessions.get(session.user_id)
        if owned is not None:
            owned.discard(session_id)
            if not owned:
                del self._user_sessions[session.user_id]
        return True

    def _live(self, session_id: str | None, user_id: int, now: float, idle_timeout: float | None) -> str:
        session = self._sessions.get(session_id or "")
        if session is None or session.user_id != user_id:
            return "no_session"
        state = session_state(session.last_seen, session.deadline, now, idle_timeout)
        if state != "ok":
            self._end(session_id or "")
        return state

    def _purge(self, now: float) -> None:
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        for jti in [j for j, until in self._revoked.items() if until + CLEANUP_GRACE < now]:
            del self._revoked[jti]
        for key in [k for k, (start, _, window) in self._windows.items() if start + window + CLEANUP_GRACE < now]:
            del self._windows[key]
        for key in [k for k, (_, until) in self._marks.items() if until + CLEANUP_GRACE < now]:
            del self._marks[key]

    def _hit(self, key: str, limit: int, window: float, now: float) -> RateDecision:
        self._purge(now)
        start, count, _ = self._windows.get(key, (None, 0, window))
        decision, start, count = window_decision(start, count, limit, window, now)
        self._windows[key] = (start, count, window)
        return decision

    # ------------------------------------------------------------------ interface
    def authenticate(self, *, jti: str, session_id: str | None, user_id: int, now: float,
                     idle_timeout: float | None, rate: RateRequest | None) -> AuthState:
        with self._lock:
            self._purge(now)
            if jti in self._revoked:
                return AuthState("revoked", None, None)
            if session_id is not None:
                state = self._live(session_id, user_id, now, idle_timeout)
                if state != "ok":
                    return AuthState(state, None, None)  # type: ignore[arg-type]
                self._sessions[session_id].last_seen = now
            user = self._users.get(user_id)
            if user is not None and not user.active:
                return AuthState("ok", user, None)
            decision = self._hit(rate.key, rate.limit, rate.window, now) if rate is not None else None
            return AuthState("ok", user, decision)

    def create_session(self, *, user_id: int, session_id: str, now: float, max_sessions: int | None,
                       idle_timeout: float | None, absolute_timeout: float | None,
                       refresh_jti: str) -> list[str]:
        with self._lock:
            for sid in list(self._user_sessions.get(user_id, ())):
                self._live(sid, user_id, now, idle_timeout)
            self._end(session_id)  # a reused id (only possible with a fault) starts afresh
            deadline = None if absolute_timeout is None else now + absolute_timeout
            self._seq += 1
            self._sessions[session_id] = _Session(user_id, now, now, deadline, refresh_jti, self._seq)
            self._user_sessions.setdefault(user_id, set()).add(session_id)
            evicted: list[str] = []
            if max_sessions is not None:
                owned = sorted(self._user_sessions[user_id], key=lambda sid: self._sessions[sid].seq)
                evicted = owned[:max(0, len(owned) - max_sessions)]
                for sid in evicted:
                    self._end(sid)
            return evicted

    def rotate_refresh(self, *, session_id: str, user_id: int, presented_jti: str, new_jti: str, now: float,
                       idle_timeout: float | None, on_reuse: OnReuse = "end") -> RotateResult:
        with self._lock:
            if self._live(session_id, user_id, now, idle_timeout) != "ok":
                return "unknown"
            session = self._sessions[session_id]
            if session.refresh_jti != presented_jti:
                if on_reuse == "end":
                    self._end(session_id)
                elif on_reuse == "accept":
                    session.refresh_jti, session.last_seen = new_jti, now
                return "reused"
            session.refresh_jti, session.last_seen = new_jti, now
            return "ok"

    def end_session(self, session_id: str) -> bool:
        with self._lock:
            return self._end(session_id)

    def end_user_sessions(self, user_id: int, keep: str | None = None) -> list[str]:
        with self._lock:
            ended = [sid for sid in self._user_sessions.get(user_id, set()) if sid != keep]
            for sid in ended:
                self._end(sid)
            return ended

    def list_sessions(self, user_id: int, now: float, idle_timeout: float | None) -> list[SessionInfo]:
        with self._lock:
            for sid in list(self._user_sessions.get(user_id, ())):
                self._live(sid, user_id, now, idle_timeout)
            sessions = [self._sessions[sid].info(sid) for sid in self._user_sessions.get(user_id, ())]
            order = {sid: self._sessions[sid].seq for sid in self._user_sessions.get(user_id, ())}
            return sorted(sessions, key=lambda s: order[s.session_id])

    def get_session(self, session_id: str) -> SessionInfo | None:
        with self._lock:
            session = self._sessions.get(session_id)
            return None if session is None else session.info(session_id)

    def revoke_jti(self, jti: str, until: float, now: float) -> None:
        with self._lock:
            self._revoked[jti] = max(until, self._revoked.get(jti, until))

    def put_user(self, record: UserRecord) -> None:
        with self._lock:
            self._users[record.user_id] = record

    def drop_user(self, user_id: int) -> None:
        with self._lock:
            self._users.pop(user_id, None)

    def hit(self, key: str, limit: int, window: float, now: float) -> RateDecision:
        with self._lock:
            return self._hit(key, limit, window, now)

    def claim(self, key: str, until: float, now: float) -> bool:
        with self._lock:
            self._purge(now)
            if key in self._marks:
                return False
            self._marks[key] = (1, until)
            return True

    def advance(self, key: str, value: int, until: float, now: float) -> bool:
        with self._lock:
            self._purge(now)
            kept = self._marks.get(key)
            if kept is not None and kept[0] >= value:
                return False
            self._marks[key] = (value, max(until, kept[1] if kept else until))
            return True

    def read_window(self, key: str) -> tuple[float, int] | None:
        with self._lock:
            current = self._windows.get(key)
            return None if current is None else (current[0], current[1])

    def write_window(self, key: str, start: float, count: int, window: float) -> None:
        with self._lock:
            self._windows[key] = (start, count, window)
