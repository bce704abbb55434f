"""Cookie mode: flags, the refresh cookie's path, double-submit CSRF, logout clearing."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from .conftest import PASSWORD


def _cookies(answer: Any) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in answer.headers.getlist("Set-Cookie")}


def _login(ref: Any) -> tuple[Any, dict[str, str]]:
    _, username, tenant = ref.user("editor")
    answer = ref.client.post("/auth/login", json={"username": username, "password": PASSWORD, "tenant": tenant})
    jar = {}
    for line in answer.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie(line)
        for name, morsel in parsed.items():
            jar[name] = morsel.value
    return answer, jar


def _cookie_header(jar: dict[str, str], *names: str) -> str:
    return "; ".join(f"{n}={jar[n]}" for n in names)


def test_login_sets_hardened_cookies_and_no_tokens_in_the_body(make: Any, clock: Any) -> None:
    ref = make(cookie_mode=True)
    answer, _ = _login(ref)
    assert answer.status_code == 200
    assert "access_token" not in answer.json and "refresh_token" not in answer.json
    assert {"session_id", "expires_in", "token_type"} <= set(answer.json)
    lines = _cookies(answer)
    assert all(flag in lines["access_token"] for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"))
    assert all(flag in lines["refresh_token"] for flag in ("HttpOnly", "Secure", "SameSite=Strict",
                                                           "Path=/auth/refresh"))
    assert "HttpOnly" not in lines["csrf_token"] and "Secure" in lines["csrf_token"]


def test_csrf_double_submit_and_bearer_still_works(make: Any, clock: Any) -> None:
    ref = make(cookie_mode=True)
    _, jar = _login(ref)
    cookie = _cookie_header(jar, "access_token", "csrf_token")
    body = {"title": "t", "body": "b"}
    assert ref.client.get("/users/me", headers={"Cookie": cookie}).status_code == 200
    without = ref.client.post("/documents", json=body, headers={"Cookie": cookie})
    assert without.status_code == 403 and without.json["error"] == "csrf_failed"
    wrong = ref.client.post("/documents", json=body, headers={"Cookie": cookie, "X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    right = ref.client.post("/documents", json=body, headers={"Cookie": cookie, "X-CSRF-Token": jar["csrf_token"]})
    assert right.status_code == 201
    bearer = ref.client.post("/documents", json=body, headers={"Authorization": f"Bearer {jar['access_token']}"})
    assert bearer.status_code == 201


def test_refresh_reads_the_cookie_and_logout_clears_all_three(make: Any, clock: Any) -> None:
    ref = make(cookie_mode=True)
    _, jar = _login(ref)
    refreshed = ref.client.post("/auth/refresh", headers={"Cookie": _cookie_header(jar, "refresh_token")})
    assert refreshed.status_code == 200 and "refresh_token" in _cookies(refreshed)
    for line in refreshed.headers.getlist("Set-Cookie"):
        for name, morsel in SimpleCookie(line).items():
            jar[name] = morsel.value
    cookie = _cookie_header(jar, "access_token", "csrf_token")
    out = ref.client.post("/auth/logout", headers={"Cookie": cookie, "X-CSRF-Token": jar["csrf_token"]})
    assert out.status_code == 204
    cleared = _cookies(out)
    assert set(cleared) == {"access_token", "refresh_token", "csrf_token"}
    assert "Path=/auth/refresh" in cleared["refresh_token"]
    assert all("Max-Age=0" in line or "1970" in line for line in cleared.values())
    assert ref.client.get("/users/me", headers={"Cookie": cookie}).status_code == 401
