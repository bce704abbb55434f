"""The reference under gunicorn with 3 workers and the Redis store: revocation and the per-user
limiter hold across workers."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conformance.served import ServeError, reference_server

pytestmark = pytest.mark.served

WORKERS = 3
API_LIMIT = 10
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def served(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = {"AUTHCONF_STORE": "redis",
                # A Redis database of its own: other served references number their users from 1
                # too, and would share this one's per-user limiter keys.
                "AUTHCONF_REDIS_URL": redis_server.rsplit("/", 1)[0] + "/9",
                "AUTHCONF_API_RATE_LIMIT": str(API_LIMIT),
                "AUTHCONF_LOGIN_LIMIT_IP": "1000",
                "AUTHCONF_JWT_ALGORITHM": "ES256"}  # a generated key: the workers must share it
    try:
        with reference_server(settings, tmp_path_factory.mktemp("served"), workers=WORKERS) as base:
            yield base
    except ServeError as exc:
        pytest.fail(str(exc))


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
