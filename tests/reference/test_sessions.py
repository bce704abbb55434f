"""Sign-up, login, refresh rotation and reuse, logout, logout-all, sessions and their timeouts."""

from __future__ import annotations

from typing import Any

from .conftest import PASSWORD, Harness


def test_register_creates_a_tenant_with_its_admin(ref: Harness) -> None:
    body = {"username": "ann", "password": PASSWORD, "tenant": "acme"}
    answer = ref.client.post("/auth/register", json=body)
    assert answer.status_code == 201
    assert answer.json == {"user": {"id": answer.json["user"]["id"], "username": "ann", "tenant": "acme",
                                    "role": "admin"}}
    assert ref.client.post("/auth/register", json={**body, "username": "bob"}).status_code == 409


def test_register_validates_input(ref: Harness) -> None:
    good = {"username": "ann", "password": PASSWORD, "tenant": "acme"}
    for bad in ({**good, "password": "short"}, {**good, "password": "x" * 129}, {**good, "tenant": "Acme"},
                {**good, "username": "a b"}, {**good, "username": ""}, {**good, "tenant": 5}, {}, [], "x"):
        assert ref.client.post("/auth/register", json=bad).status_code == 400, bad
    assert ref.client.post("/auth/register", json={**good, "password": "x" * 8}).status_code == 201
    assert ref.client.post("/auth/register", json={**good, "tenant": "b", "password": "y" * 128}).status_code == 201


def test_register_can_be_switched_off(make: Any) -> None:
    ref = make(allow_signup=False)
    answer = ref.client.post("/auth/register", json={"username": "a", "password": PASSWORD, "tenant": "t"})
    assert answer.status_code == 403 and answer.json["error"] == "signup_disabled"


def test_login_answers_tokens_and_failures_are_identical(ref: Harness, clock: Any) -> None:
    _, username, tenant = ref.user()
    ok = ref.client.post("/auth/login", json={"username": username, "password": PASSWORD, "tenant": tenant})
    assert ok.status_code == 200
    assert set(ok.json) == {"access_token", "refresh_token", "token_type", "expires_in", "session_id"}
    assert ok.json["token_type"] == "Bearer" and ok.json["expires_in"] == 900
    wrong = ref.client.post("/auth/login", json={"username": username, "password": "nope-nope", "tenant": tenant})
    unknown = ref.client.post("/auth/login", json={"username": "ghost", "password": "nope-nope", "tenant": tenant})
    other_tenant = ref.client.post("/auth/login", json={"username": username, "password": PASSWORD,
                                                        "tenant": "elsewhere"})
    for answer in (wrong, unknown, other_tenant):
        assert answer.status_code == 401
        assert answer.json == {"error": "invalid_credentials", "message": "invalid username, password or tenant"}


def test_login_ignores_a_client_supplied_session_id(ref: Harness, clock: Any) -> None:
    _, username, tenant = ref.user()
    answer = ref.client.post("/auth/login", json={"username": username, "password": PASSWORD, "tenant": tenant,
                                                  "session_id": "attacker-chosen"})
    assert answer.json["session_id"] != "attacker-chosen" and len(answer.json["session_id"]) >= 43


def test_refresh_rotates_and_reuse_ends_the_family(ref: Harness, clock: Any) -> None:
    login = ref.login()
    first = ref.client.post("/auth/refresh", json={"refresh_token": login.refresh})
    assert first.status_code == 200
    assert first.json["refresh_token"] != login.refresh and first.json["session_id"] == login.session_id
    newest = first.json
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {newest['access_token']}"}).status_code == 200
    reuse = ref.client.post("/auth/refresh", json={"refresh_token": login.refresh})
    assert reuse.status_code == 401
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {newest['access_token']}"}).status_code == 401
    assert ref.client.post("/auth/refresh", json={"refresh_token": newest["refresh_token"]}).status_code == 401
    assert ref.me(login) == 401


def test_refresh_refuses_junk(ref: Harness) -> None:
    for body in ({}, {"refresh_token": 5}, {"refresh_token": "x.y.z"}, [1]):
        assert ref.client.post("/auth/refresh", json=body).status_code in (400, 401)
    assert ref.client.post("/auth/refresh", data=b"\xff\xfe", content_type="application/json").status_code in (400, 401)


def test_logout_revokes_the_token_and_the_session(ref: Harness, clock: Any) -> None:
    login = ref.login()
    refreshed = ref.client.post("/auth/refresh", json={"refresh_token": login.refresh}).json
    assert ref.me(login) == 200
    assert ref.call("POST", "/auth/logout", login).status_code == 204
    assert ref.me(login) == 401
    sibling = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert ref.client.get("/users/me", headers=sibling).status_code == 401
    assert ref.client.post("/auth/refresh", json={"refresh_token": refreshed["refresh_token"]}).status_code == 401


def test_logout_all_ends_every_session(ref: Harness, clock: Any) -> None:
    a = ref.login()
    b = ref.login(username=a.username, tenant=a.tenant)
    c = ref.login(username=a.username, tenant=a.tenant)
    assert ref.call("POST", "/auth/logout-all", a).status_code == 204
    assert [ref.me(x) for x in (a, b, c)] == [401, 401, 401]
    assert ref.client.post("/auth/refresh", json={"refresh_token": b.refresh}).status_code == 401


def test_sessions_list_and_delete(ref: Harness, clock: Any) -> None:
    a = ref.login()
    b = ref.login(username=a.username, tenant=a.tenant)
    stranger = ref.login()
    listing = ref.get("/auth/sessions", a).json["sessions"]
    assert [(s["id"], s["current"]) for s in listing] == [(a.session_id, True), (b.session_id, False)]
    assert {"created_at", "last_seen_at"} <= set(listing[0])
    assert ref.call("DELETE", f"/auth/sessions/{stranger.session_id}", a).status_code == 404
    assert ref.call("DELETE", "/auth/sessions/nope", a).status_code == 404
    assert ref.call("DELETE", f"/auth/sessions/{b.session_id}", a).status_code == 204
    assert ref.me(b) == 401 and ref.me(stranger) == 200
    assert [s["id"] for s in ref.get("/auth/sessions", a).json["sessions"]] == [a.session_id]


def test_the_oldest_session_is_evicted(make: Any, clock: Any) -> None:
    ref = make(max_sessions=3)
    first = ref.login()
    others = [ref.login(username=first.username, tenant=first.tenant) for _ in range(3)]
    assert ref.me(first) == 401
    assert [ref.me(x) for x in others] == [200, 200, 200]


def test_idle_and_absolute_timeouts(make: Any, clock: Any) -> None:
    ref = make(idle_timeout=600, absolute_timeout=3000, access_ttl=10000)
    login = ref.login()
    clock.advance(599)
    assert ref.me(login) == 200
    clock.advance(601)
    assert ref.me(login) == 401
    login = ref.login()
    for _ in range(5):
        clock.advance(590)
        assert ref.me(login) == 200
    clock.advance(100)
    assert ref.me(login) == 401
    assert ref.client.post("/auth/refresh", json={"refresh_token": login.refresh}).status_code == 401


def test_refresh_counts_as_activity_and_keeps_the_absolute_deadline(make: Any, clock: Any) -> None:
    ref = make(idle_timeout=600, absolute_timeout=1500)
    login = ref.login()
    refresh = login.refresh
    for _ in range(2):
        clock.advance(500)
        answer = ref.client.post("/auth/refresh", json={"refresh_token": refresh})
        assert answer.status_code == 200
        refresh = answer.json["refresh_token"]
    clock.advance(550)
    assert ref.client.post("/auth/refresh", json={"refresh_token": refresh}).status_code == 401


def test_password_change_needs_the_current_password_and_ends_other_sessions(ref: Harness, clock: Any) -> None:
    a = ref.login()
    b = ref.login(username=a.username, tenant=a.tenant)
    assert ref.call("PATCH", "/users/me", a, json={"new_password": "brand-new-pass"}).status_code == 400
    wrong = ref.call("PATCH", "/users/me", a, json={"current_password": "wrong-one", "new_password": "brand-new-pass"})
    assert wrong.status_code == 403 and wrong.json["error"] == "invalid_credentials"
    short = ref.call("PATCH", "/users/me", a, json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400
    ok = ref.call("PATCH", "/users/me", a, json={"current_password": PASSWORD, "new_password": "brand-new-pass",
                                                 "role": "superadmin"})
    assert ok.status_code == 204
    assert ref.me(a) == 200 and ref.me(b) == 401
    assert ref.get("/users/me", a).json["role"] == "viewer"
    old = ref.client.post("/auth/login", json={"username": a.username, "password": PASSWORD, "tenant": a.tenant})
    assert old.status_code == 401
    ref.login(username=a.username, tenant=a.tenant, password="brand-new-pass")


def test_deleting_my_account_ends_every_session(ref: Harness, clock: Any) -> None:
    a = ref.login()
    b = ref.login(username=a.username, tenant=a.tenant)
    assert ref.call("DELETE", "/users/me", a).status_code == 204
    assert ref.me(a) == 401 and ref.me(b) == 401
    again = ref.client.post("/auth/login", json={"username": a.username, "password": PASSWORD, "tenant": a.tenant})
    assert again.status_code == 401


def test_revocation_is_shared_by_apps_over_one_store_and_survives_restart(make: Any, clock: Any) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from reference_impl import Config, create_app
    from reference_impl.memory_store import MemoryStore

    from .conftest import Harness as H

    config = Config.for_tests()
    store = MemoryStore()
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    one, two = (H(create_app(config, store=store, engine=engine)) for _ in range(2))
    login = one.login()
    assert two.me(login) == 200
    assert one.call("POST", "/auth/logout", login).status_code == 204
    assert two.me(login) == 401
    restarted = H(create_app(config, store=store, engine=engine))
    assert restarted.me(login) == 401


def test_audit_records_security_events_per_tenant(ref: Harness, clock: Any) -> None:
    boss = ref.login("superadmin")
    ref.client.post("/auth/login", json={"username": boss.username, "password": "wrong-pass", "tenant": boss.tenant})
    _, _, other_tenant = ref.user("viewer")
    ref.client.post("/auth/login", json={"username": "x", "password": "wrong-pass", "tenant": other_tenant})
    events = ref.get("/audit", boss).json["events"]
    actions = [e["action"] for e in events]
    assert "login" in actions and "login.failed" in actions
    assert all("wrong-pass" not in str(e) for e in events)
    assert sum(a == "login.failed" for a in actions) == 1  # the other tenant's failure is not here
    admin = ref.login("admin", tenant=boss.tenant)
    assert ref.get("/audit", admin).status_code == 403
