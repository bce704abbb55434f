"""Per-user API limit and login limits: exact counts, 429 with Retry-After, RateLimit-* headers."""

from __future__ import annotations

from typing import Any

from .conftest import PASSWORD


def test_api_limit_is_exact_and_resets_after_the_window(make: Any, clock: Any) -> None:
    ref = make(api_rate_limit=5, api_rate_window=60)
    login = ref.login()
    answers = [ref.get("/users/me", login) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert all(a.headers["RateLimit-Limit"] == "5" for a in answers)
    refused = answers[-1]
    assert refused.json["error"] == "rate_limited" and int(refused.headers["Retry-After"]) == 60
    clock.advance(30)
    assert ref.get("/users/me", login).headers["Retry-After"] == "30"
    clock.advance(30)
    assert ref.me(login) == 200


def test_api_limit_is_per_user(make: Any, clock: Any) -> None:
    ref = make(api_rate_limit=2)
    a, b = ref.login(), ref.login()
    assert [ref.me(a) for _ in range(3)] == [200, 200, 429]
    assert ref.me(b) == 200


def _attempt(ref: Any, username: str, tenant: str, password: str = "wrong-password", ip: str = "10.0.0.1",
             **kwargs: Any) -> Any:
    return ref.client.post("/auth/login", json={"username": username, "password": password, "tenant": tenant},
                           environ_base={"REMOTE_ADDR": ip}, **kwargs)


def test_login_account_limit_counts_every_attempt_before_the_password(make: Any, clock: Any) -> None:
    ref = make(login_limit_account=3, login_limit_ip=100)
    _, username, tenant = ref.user()
    statuses = [_attempt(ref, username, tenant).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    right = _attempt(ref, username.upper(), tenant, PASSWORD)
    assert right.status_code == 429 and "Retry-After" in right.headers and right.headers["RateLimit-Limit"] == "3"
    assert _attempt(ref, username, tenant, PASSWORD, ip="10.0.0.2").status_code == 200
    clock.advance(60)
    assert _attempt(ref, username, tenant, PASSWORD).status_code == 200


def test_login_ip_limit(make: Any, clock: Any) -> None:
    ref = make(login_limit_account=100, login_limit_ip=4)
    statuses = [_attempt(ref, f"user{i}", "acme").status_code for i in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    assert _attempt(ref, "user9", "acme", ip="10.9.9.9").status_code == 401


def test_forwarded_for_is_trusted_only_from_configured_proxies(make: Any, clock: Any) -> None:
    ref = make(login_limit_account=100, login_limit_ip=2)
    spoofs = [_attempt(ref, "u", "acme", headers={"X-Forwarded-For": f"1.2.3.{i}"}).status_code for i in range(3)]
    assert spoofs == [401, 401, 429]
    proxied = make(login_limit_account=100, login_limit_ip=2, trusted_proxies=1)
    for i in range(3):
        answer = _attempt(proxied, "u", "acme", headers={"X-Forwarded-For": f"6.6.6.6, 1.2.3.{i}"})
        assert answer.status_code == 401
    blocked = [_attempt(proxied, "u", "acme", headers={"X-Forwarded-For": f"{i}.0.0.1, 5.5.5.5"}).status_code
               for i in range(3)]
    assert blocked == [401, 401, 429]
