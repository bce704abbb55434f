"""The reference under gunicorn with 3 workers and the Redis store: revocation and the per-user
limiter hold across workers."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.served

WORKERS = 3
API_LIMIT = 10
READY_TIMEOUT = 30.0
PASSWORD = "correct-horse-battery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("served")
    env = {**os.environ,
           "AUTHCONF_SECRET_KEY": secrets.token_urlsafe(48),
           "AUTHCONF_STORE": "redis",
           "AUTHCONF_REDIS_URL": redis_server,
           "AUTHCONF_DATABASE_URL": f"sqlite:///{workdir / 'reference.sqlite3'}",
           "AUTHCONF_HASH_PRESET": "fast",
           "AUTHCONF_API_RATE_LIMIT": str(API_LIMIT),
           "AUTHCONF_LOGIN_LIMIT_IP": "1000",
           "AUTHCONF_JWT_ALGORITHM": "ES256"}  # a generated key: the workers must share it
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_impl", "serve", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz within {READY_TIMEOUT:g} s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _login(base: str) -> dict[str, str]:
    tenant, username = f"t-{secrets.token_hex(4)}", "ann"
    body = {"username": username, "password": PASSWORD, "tenant": tenant}
    assert requests.post(f"{base}/auth/register", json=body, timeout=5).status_code == 201
    answer = requests.post(f"{base}/auth/login", json=body, timeout=5)
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _me(base: str, headers: dict[str, str]) -> int:
    # A new connection per request, so gunicorn hands them to different workers.
    return requests.get(f"{base}/users/me", headers={**headers, "Connection": "close"}, timeout=5).status_code


def test_a_revoked_token_is_refused_by_every_worker(served: str) -> None:
    headers = _login(served)
    assert [_me(served, headers) for _ in range(5)] == [200] * 5
    assert requests.post(f"{served}/auth/logout", headers=headers, timeout=5).status_code == 204
    assert [_me(served, headers) for _ in range(20)] == [401] * 20


def test_the_limiter_admits_exactly_the_limit_across_workers(served: str) -> None:
    headers = _login(served)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: _me(served, headers), range(3 * API_LIMIT)))
    assert statuses.count(200) == API_LIMIT
    assert statuses.count(429) == 2 * API_LIMIT
