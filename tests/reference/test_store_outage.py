"""Redis goes away while the reference (gunicorn, two workers, the Redis store) serves: every
request that needs the store answers 503 or 401 (fail closed, never a revoked token accepted,
never a 500), within a bounded time; when Redis comes back, service resumes without restarting
the reference."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .served_support import Client, RedisProcess, ServedReference, reference_env, wait_for

pytestmark = pytest.mark.served

WORKERS = 2
REPEAT = 6  # requests per question, each on a new connection, so both workers answer
# A request while the store is down answers within the store client's timeouts (2 tries of 2 s).
OUTAGE_ANSWER_BOUND = 8.0
RECOVERY_TIMEOUT = 15.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedReference, RedisProcess]]:
    store = RedisProcess(tmp_path, persistent=True).start()
    reference = ServedReference(tmp_path, reference_env(tmp_path, store="redis", redis_url=store.url),
                                workers=WORKERS)
    try:
        reference.start()
        yield reference, store
    finally:
        reference.stop()
        store.stop()
    assert "Traceback" not in reference.log(), reference.log()[-3000:]


def _timed(call: object) -> tuple[int, float]:
    started = time.monotonic()
    status = call()  # type: ignore[operator]
    return int(status), time.monotonic() - started


def _setup(client: Client) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Ann logged out (her tokens revoked), Bob logged in; Bob's account for logging in again."""
    ann = client.signup(f"t-{secrets.token_hex(4)}")
    bob_account = client.signup(f"t-{secrets.token_hex(4)}", "bob")
    revoked = client.login(ann)
    assert client.logout(revoked) == 204
    bob = client.login(bob_account)
    assert [client.me_status(revoked) for _ in range(REPEAT)] == [401] * REPEAT
    assert [client.me_status(bob) for _ in range(REPEAT)] == [200] * REPEAT
    return revoked, bob, bob_account


def _while_down(client: Client, revoked: dict[str, str], bob: dict[str, str], bob_account: dict[str, str]) -> None:
    asked = {
        "revoked access token": lambda: client.me_status(revoked),
        "revoked refresh token": lambda: client.refresh(revoked["refresh_token"]).status_code,
        "valid access token": lambda: client.me_status(bob),
        "login": lambda: client.login_status(bob_account),
        "health": client.health,
    }
    for what, call in asked.items():
        for _ in range(2):
            status, seconds = _timed(call)
            assert status in (401, 503), f"{what} answered {status} while the store was down"
            assert seconds < OUTAGE_ANSWER_BOUND, f"{what} took {seconds:.1f} s while the store was down"
    assert client.me_status(bob) == 503  # a valid token cannot be checked: refused, not trusted
    # What needs no store goes on.
    assert client.signup(f"t-{secrets.token_hex(4)}", "carol")["username"] == "carol"
    assert client.key_set() == 200


def _after_recovery(client: Client, reference: ServedReference, workers_before: list[int],
                    revoked: dict[str, str], bob: dict[str, str], bob_account: dict[str, str]) -> None:
    wait_for(lambda: client.health() == 200, RECOVERY_TIMEOUT, "health answering 200 again")
    assert reference.worker_pids() == workers_before, "the reference was restarted"
    assert [client.me_status(bob) for _ in range(REPEAT)] == [200] * REPEAT
    assert [client.me_status(revoked) for _ in range(REPEAT)] == [401] * REPEAT
    assert client.refresh(revoked["refresh_token"]).status_code == 401
    assert client.login_status(bob_account) == 200


def test_redis_stopped_fails_closed_and_service_resumes_when_it_returns(
        served: tuple[ServedReference, RedisProcess]) -> None:
    reference, store = served
    client = Client(reference.base)
    revoked, bob, bob_account = _setup(client)
    workers = reference.worker_pids()

    store.stop()
    _while_down(client, revoked, bob, bob_account)
    store.start()  # the same port and append-only file: the revocation is still there
    _after_recovery(client, reference, workers, revoked, bob, bob_account)


def test_redis_hanging_answers_503_in_bounded_time_and_service_resumes(
        served: tuple[ServedReference, RedisProcess]) -> None:
    reference, store = served
    client = Client(reference.base)
    revoked, bob, bob_account = _setup(client)
    workers = reference.worker_pids()

    store.pause()  # SIGSTOP: connections are accepted by the kernel, nothing answers
    try:
        for what, call in (("valid access token", lambda: client.me_status(bob)),
                           ("revoked access token", lambda: client.me_status(revoked))):
            status, seconds = _timed(call)
            assert status == 503, f"{what} answered {status} while the store hung"
            assert seconds < OUTAGE_ANSWER_BOUND, f"{what} took {seconds:.1f} s while the store hung"
    finally:
        store.resume()
    _after_recovery(client, reference, workers, revoked, bob, bob_account)
