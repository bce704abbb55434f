"""The reference restarted, by gunicorn's HUP (new workers, same master) and by a full restart
(a new master): with the Redis store, revocations, session evictions, refresh-family state and
limiter windows all survive; with the memory store, what docs/robustness.md says is lost is lost
(every session, so every token, and the rate-limit windows), and nothing revoked comes back."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from .served_support import Client, RedisProcess, ServedReference, reference_env

pytestmark = pytest.mark.served

API_LIMIT = 8
MAX_SESSIONS = 2
REPEAT = 4


def _restart(reference: ServedReference, how: str) -> None:
    if how == "reload":
        before = set(reference.worker_pids())
        reference.reload()
        assert not before & set(reference.worker_pids())
    else:
        reference.restart()


@pytest.mark.parametrize("how", ["reload", "restart"])
def test_the_redis_store_keeps_every_decision_across_a_restart(how: str, tmp_path: Path) -> None:
    store = RedisProcess(tmp_path, persistent=False).start()
    env = reference_env(tmp_path, store="redis", redis_url=store.url, api_rate_limit=API_LIMIT,
                        max_sessions=MAX_SESSIONS)
    reference = ServedReference(tmp_path, env, workers=2)
    try:
        reference.start()
        client = Client(reference.base)
        ann = client.signup(f"t-{secrets.token_hex(4)}")
        evicted = client.login(ann)
        logged_out = client.login(ann)
        family = client.login(ann)  # the third login evicts the first (two sessions at most)
        assert client.me_status(evicted) == 401
        assert client.logout(logged_out) == 204
        rotated = client.refresh(family["refresh_token"])
        assert rotated.status_code == 200
        current = rotated.json()
        bob = client.login(client.signup(f"t-{secrets.token_hex(4)}", "bob"))
        assert [client.me_status(bob) for _ in range(API_LIMIT)] == [200] * API_LIMIT  # Bob's window is full

        _restart(reference, how)

        assert [client.me_status(evicted) for _ in range(REPEAT)] == [401] * REPEAT
        assert client.refresh(evicted["refresh_token"]).status_code == 401
        assert [client.me_status(logged_out) for _ in range(REPEAT)] == [401] * REPEAT
        assert client.refresh(logged_out["refresh_token"]).status_code == 401
        assert client.me_status(bob) == 429, "the limiter window was lost"
        assert [client.me_status(current) for _ in range(REPEAT)] == [200] * REPEAT  # the family lives on
        # Reusing the refresh token rotated before the restart is still recognised as reuse: the
        # whole family ends, including the tokens issued since.
        assert client.refresh(family["refresh_token"]).status_code == 401
        assert client.me_status(current) == 401
        assert client.refresh(current["refresh_token"]).status_code == 401
    finally:
        reference.stop()
        store.stop()
    assert "Traceback" not in reference.log(), reference.log()[-3000:]


@pytest.mark.parametrize("how", ["reload", "restart"])
def test_the_memory_store_loses_sessions_and_windows_but_never_revives_a_token(how: str, tmp_path: Path) -> None:
    reference = ServedReference(tmp_path, reference_env(tmp_path, store="memory", api_rate_limit=API_LIMIT),
                                workers=1)
    try:
        reference.start()
        client = Client(reference.base)
        ann_account = client.signup(f"t-{secrets.token_hex(4)}")
        revoked = client.login(ann_account)
        assert client.logout(revoked) == 204
        ann = client.login(ann_account)
        assert client.me_status(ann) == 200
        bob_account = client.signup(f"t-{secrets.token_hex(4)}", "bob")
        bob = client.login(bob_account)
        assert [client.me_status(bob) for _ in range(API_LIMIT)] == [200] * API_LIMIT
        assert client.me_status(bob) == 429

        _restart(reference, how)

        # Lost: every session, so every token (valid ones too; everyone logs in again) ...
        assert client.me_status(ann) == 401
        assert client.refresh(ann["refresh_token"]).status_code == 401
        # ... which is why a revocation, also lost, never brings a revoked token back.
        assert client.me_status(revoked) == 401
        assert client.refresh(revoked["refresh_token"]).status_code == 401
        # Lost: the limiter windows. A fresh login is served with a fresh window.
        assert client.me_status(client.login(bob_account)) == 200
        # Kept (in the database): users and their passwords.
        assert client.me_status(client.login(ann_account)) == 200
    finally:
        reference.stop()
    assert "Traceback" not in reference.log(), reference.log()[-3000:]
