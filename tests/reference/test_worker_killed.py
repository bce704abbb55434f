"""One gunicorn worker killed (SIGKILL) in the middle of a request: no request is ever answered
200 with a token revoked before it, not while the worker dies nor by the worker that replaces it,
and the per-user limiter does not reset (its count lives in Redis, the killed request included)."""

from __future__ import annotations

import secrets
import socket
import threading
from pathlib import Path

import pytest
import requests

from .served_support import (
    Client,
    RedisProcess,
    ServedReference,
    reference_env,
    user_id,
    wait_for,
)

pytestmark = pytest.mark.served

WORKERS = 2
API_LIMIT = 12
BEFORE_KILL = 3  # Bob's requests before the kill
HELD = WORKERS  # requests held open in the middle, one per worker
BODY = b'{"current_password": "x", "new_password": "y"}'
PART = 10  # bytes of the body sent before the kill
SOCKET_TIMEOUT = 10.0


def _hold(port: int, token: str) -> socket.socket:
    """A PATCH /users/me whose body stops after a few bytes: the worker has authenticated the
    request (and counted it) and waits in the application for the rest."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
    head = (f"PATCH /users/me HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode() + BODY[:PART])
    return sock


def _finish(sock: socket.socket) -> bytes:
    """Send the rest of the body; what came back (empty when the worker was gone)."""
    answer = b""
    try:
        sock.sendall(BODY[PART:])
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    return answer


def test_a_killed_worker_neither_revives_a_revoked_token_nor_resets_the_limiter(tmp_path: Path) -> None:
    store = RedisProcess(tmp_path, persistent=False).start()
    env = reference_env(tmp_path, store="redis", redis_url=store.url, api_rate_limit=API_LIMIT)
    reference = ServedReference(tmp_path, env, workers=WORKERS)
    try:
        reference.start()
        client = Client(reference.base)
        ann = client.signup(f"t-{secrets.token_hex(4)}")
        revoked = client.login(ann)
        assert client.logout(revoked) == 204  # revoked before anything below
        bob = client.login(client.signup(f"t-{secrets.token_hex(4)}", "bob"))
        assert [client.me_status(bob) for _ in range(BEFORE_KILL)] == [200] * BEFORE_KILL
        counter = store.client()
        window = f"authconform:rl:api:{user_id(bob)}"

        held = [_hold(reference.port, bob["access_token"]) for _ in range(HELD)]
        wait_for(lambda: counter.hget(window, "count") == str(BEFORE_KILL + HELD), 10,
                 "both held requests authenticated and counted")

        seen: list[int] = []  # the revoked token, asked again and again while the worker dies
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                try:
                    seen.append(client.me_status(revoked))
                except requests.RequestException:
                    seen.append(0)  # no answer (the dying worker's connection): not an acceptance

        asking = threading.Thread(target=hammer, daemon=True)
        asking.start()
        try:
            reference.kill_worker(reference.worker_pids()[0])
        finally:
            answers = [_finish(sock) for sock in held]
            stop.set()
            asking.join(10)

        assert 200 not in seen, f"a revoked token was accepted while a worker was killed: {seen}"
        assert 401 in seen, "the revoked token was never asked about during the kill"
        answered = [a for a in answers if a]
        assert len(answered) == HELD - 1, "exactly the killed worker's request should go unanswered"
        assert all(not a.startswith(b"HTTP/1.1 5") for a in answered), answered
        assert counter.hget(window, "count") == str(BEFORE_KILL + HELD), "the limiter count changed"

        # Every worker, the new one too: the revoked token stays refused, the limiter continues.
        assert [client.me_status(revoked) for _ in range(6)] == [401] * 6
        assert client.refresh(revoked["refresh_token"]).status_code == 401
        left = API_LIMIT - BEFORE_KILL - HELD
        statuses = [client.me_status(bob) for _ in range(left + 3)]
        assert statuses == [200] * left + [429] * 3, statuses
    finally:
        reference.stop()
        store.stop()
    log = reference.log()
    assert "Traceback" not in log, log[-3000:]
