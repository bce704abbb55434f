"""The store semantics, run identically against MemoryStore and RedisStore (a real redis-server)."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from reference_impl.memory_store import MemoryStore
from reference_impl.store import RateRequest, StoreUnavailable, UserRecord

T0 = 1_900_000_000.0
IDLE = 1800.0


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from reference_impl.redis_store import RedisStore

    url = request.getfixturevalue("redis_server")
    redis_store = RedisStore(url, prefix=f"test-{secrets.token_hex(4)}:")
    yield redis_store
    redis_store.client.close()


def _session(store: Any, user_id: int = 1, *, now: float = T0, max_sessions: int | None = 5,
             absolute: float | None = 28800.0, rjti: str = "r0") -> str:
    sid = secrets.token_urlsafe(8)
    store.create_session(user_id=user_id, session_id=sid, now=now, max_sessions=max_sessions, idle_timeout=IDLE,
                         absolute_timeout=absolute, refresh_jti=rjti)
    return sid


def _auth(store: Any, sid: str | None, *, user_id: int = 1, now: float = T0, jti: str = "a1",
          rate: RateRequest | None = None) -> Any:
    return store.authenticate(jti=jti, session_id=sid, user_id=user_id, now=now, idle_timeout=IDLE, rate=rate)


def test_a_live_session_authenticates_and_is_touched(store: Any) -> None:
    sid = _session(store)
    assert _auth(store, sid, now=T0 + 100).status == "ok"
    info = store.get_session(sid)
    assert info.last_seen_at == pytest.approx(T0 + 100)
    assert info.created_at == pytest.approx(T0)


def test_unknown_session_or_wrong_user_is_refused(store: Any) -> None:
    sid = _session(store, user_id=1)
    assert _auth(store, "nope").status == "no_session"
    assert _auth(store, sid, user_id=2).status == "no_session"


def test_idle_timeout_ends_the_session_and_use_keeps_it_alive(store: Any) -> None:
    sid = _session(store)
    assert _auth(store, sid, now=T0 + IDLE - 1).status == "ok"
    assert _auth(store, sid, now=T0 + 2 * IDLE - 2).status == "ok"
    assert _auth(store, sid, now=T0 + 3 * IDLE).status == "idle"
    assert store.get_session(sid) is None
    assert _auth(store, sid, now=T0 + 3 * IDLE).status == "no_session"


def test_absolute_timeout_ends_an_active_session(store: Any) -> None:
    sid = _session(store, absolute=3000.0)
    for step in range(1, 5):
        assert _auth(store, sid, now=T0 + step * 700).status == "ok"
    assert _auth(store, sid, now=T0 + 3001).status == "expired"


def test_no_deadline_when_absolute_timeout_is_none(store: Any) -> None:
    sid = _session(store, absolute=None)
    assert store.get_session(sid).deadline is None
    for step in range(1, 40):  # far past any absolute timeout, never idle
        assert _auth(store, sid, now=T0 + step * 1000).status == "ok"


def test_revoked_jti_is_refused(store: Any) -> None:
    sid = _session(store)
    store.revoke_jti("a1", T0 + 900, T0)
    assert _auth(store, sid, jti="a1").status == "revoked"
    assert _auth(store, sid, jti="a2").status == "ok"


def test_session_check_can_be_skipped(store: Any) -> None:
    assert _auth(store, None).status == "ok"


def test_limit_evicts_the_oldest_even_at_one_instant(store: Any) -> None:
    sids = [_session(store, max_sessions=3) for _ in range(3)]
    newest = secrets.token_urlsafe(8)
    evicted = store.create_session(user_id=1, session_id=newest, now=T0, max_sessions=3, idle_timeout=IDLE,
                                   absolute_timeout=28800.0, refresh_jti="r")
    assert evicted == [sids[0]]
    listed = [s.session_id for s in store.list_sessions(1, T0, IDLE)]
    assert listed == [sids[1], sids[2], newest]


def test_timed_out_sessions_do_not_count_against_the_limit(store: Any) -> None:
    old = _session(store, max_sessions=2, now=T0)
    keep = _session(store, max_sessions=2, now=T0 + IDLE)
    evicted = store.create_session(user_id=1, session_id="fresh", now=T0 + IDLE + 10, max_sessions=2,
                                   idle_timeout=IDLE, absolute_timeout=28800.0, refresh_jti="r")
    assert evicted == []
    assert {s.session_id for s in store.list_sessions(1, T0 + IDLE + 10, IDLE)} == {keep, "fresh"}
    assert store.get_session(old) is None


def test_rotation_and_reuse_ends_the_family(store: Any) -> None:
    sid = _session(store, rjti="r0")
    kwargs = {"session_id": sid, "user_id": 1, "idle_timeout": IDLE}
    assert store.rotate_refresh(presented_jti="r0", new_jti="r1", now=T0 + 1, **kwargs) == "ok"
    assert store.rotate_refresh(presented_jti="r1", new_jti="r2", now=T0 + 2, **kwargs) == "ok"
    assert store.rotate_refresh(presented_jti="r0", new_jti="r3", now=T0 + 3, **kwargs) == "reused"
    assert store.get_session(sid) is None
    assert store.rotate_refresh(presented_jti="r2", new_jti="r4", now=T0 + 4, **kwargs) == "unknown"


def test_reuse_can_be_refused_or_accepted_without_ending(store: Any) -> None:
    sid = _session(store, rjti="r0")
    kwargs = {"session_id": sid, "user_id": 1, "idle_timeout": IDLE}
    store.rotate_refresh(presented_jti="r0", new_jti="r1", now=T0, **kwargs)
    assert store.rotate_refresh(presented_jti="r0", new_jti="x", now=T0, on_reuse="refuse", **kwargs) == "reused"
    assert store.rotate_refresh(presented_jti="r1", new_jti="r2", now=T0, **kwargs) == "ok"
    assert store.rotate_refresh(presented_jti="r0", new_jti="r3", now=T0, on_reuse="accept", **kwargs) == "reused"
    assert store.rotate_refresh(presented_jti="r3", new_jti="r4", now=T0, **kwargs) == "ok"


def test_rotation_respects_idle_timeout(store: Any) -> None:
    sid = _session(store, rjti="r0")
    assert store.rotate_refresh(session_id=sid, user_id=1, presented_jti="r0", new_jti="r1", now=T0 + IDLE + 1,
                                idle_timeout=IDLE) == "unknown"


def test_end_session_and_end_user_sessions(store: Any) -> None:
    a, b, c = (_session(store) for _ in range(3))
    other = _session(store, user_id=2)
    assert store.end_session(a) is True
    assert store.end_session(a) is False
    assert set(store.end_user_sessions(1, keep=c)) == {b}
    assert [s.session_id for s in store.list_sessions(1, T0, IDLE)] == [c]
    assert store.end_user_sessions(1) == [c]
    assert store.list_sessions(1, T0, IDLE) == []
    assert store.get_session(other) is not None


def test_user_records_are_cached_and_dropped(store: Any) -> None:
    sid = _session(store)
    assert _auth(store, sid).user is None
    store.put_user(UserRecord(1, "ann", "editor", "acme", True))
    assert _auth(store, sid).user == UserRecord(1, "ann", "editor", "acme", True)
    store.drop_user(1)
    assert _auth(store, sid).user is None


def test_fixed_window_starts_at_first_hit_and_denials_do_not_extend_it(store: Any) -> None:
    decisions = [store.hit("k", 3, 60, T0 + i) for i in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert decisions[3].reset_after == pytest.approx(57)
    assert store.hit("k", 3, 60, T0 + 59.5).allowed is False
    fresh = store.hit("k", 3, 60, T0 + 60)
    assert fresh.allowed and fresh.remaining == 2 and fresh.reset_after == pytest.approx(60)


def test_authenticate_counts_only_valid_requests(store: Any) -> None:
    sid = _session(store)
    rate = RateRequest("api:1", 2, 60)
    assert _auth(store, "missing", rate=rate).rate is None
    first = _auth(store, sid, rate=rate).rate
    second = _auth(store, sid, rate=rate).rate
    third = _auth(store, sid, rate=rate).rate
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert third.limit == 2 and third.remaining == 0


def test_limiter_is_exact_under_concurrency(store: Any) -> None:
    admitted = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            admitted.append(store.hit("burst", 25, 60, T0).allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 25


def test_raw_window_access(store: Any) -> None:
    assert store.read_window("w") is None
    store.write_window("w", T0, 4, 60)
    assert store.read_window("w") == (pytest.approx(T0), 4)


def test_unreachable_redis_raises_store_unavailable() -> None:
    from reference_impl.redis_store import RedisStore

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.authenticate(jti="j", session_id="s", user_id=1, now=T0, idle_timeout=IDLE, rate=None)


def test_claim_is_granted_once(store: Any) -> None:
    assert store.claim("challenge-a", T0 + 300, T0)
    assert not store.claim("challenge-a", T0 + 300, T0 + 1)
    assert store.claim("challenge-b", T0 + 300, T0 + 1)


def test_advance_accepts_only_a_higher_value(store: Any) -> None:
    assert store.advance("step:1", 100, T0 + 90, T0)
    assert not store.advance("step:1", 100, T0 + 90, T0)
    assert not store.advance("step:1", 99, T0 + 90, T0)
    assert store.advance("step:1", 101, T0 + 120, T0 + 30)
    assert store.advance("step:2", 100, T0 + 90, T0)
