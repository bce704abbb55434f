"""The roles table, user admin within a tenant, and role transitions."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PASSWORD, Harness

MATRIX = {  # route -> the roles allowed
    ("GET", "/documents"): {"viewer", "editor", "admin", "superadmin"},
    ("POST", "/documents"): {"editor", "admin", "superadmin"},
    ("GET", "/users"): {"admin", "superadmin"},
    ("GET", "/audit"): {"superadmin"},
    ("GET", "/users/me"): {"viewer", "editor", "admin", "superadmin"},
}


@pytest.mark.parametrize("role", ["viewer", "editor", "admin", "superadmin"])
def test_role_matrix(ref: Harness, clock: Any, role: str) -> None:
    login = ref.login(role)
    for (method, path), allowed in MATRIX.items():
        answer = ref.call(method, path, login, json={"title": "t", "body": "b"} if method == "POST" else None)
        assert (answer.status_code < 300) == (role in allowed), (role, method, path, answer.status_code)
        if role not in allowed:
            assert answer.status_code == 403 and set(answer.json) == {"error", "message"}


def test_missing_token_is_401_with_a_bearer_challenge(ref: Harness) -> None:
    answer = ref.client.get("/documents")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="authconform"'
    assert set(answer.json) == {"error", "message"}


def test_user_admin_is_tenant_scoped(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    created = ref.call("POST", "/users", admin, json={"username": "ed", "password": PASSWORD, "role": "editor"})
    assert created.status_code == 201
    assert created.json["user"]["tenant"] == admin.tenant and "password" not in str(created.json)
    ref.login("viewer")  # another tenant
    listing = ref.get("/users", admin, query_string={"tenant": "other"}).json["users"]
    assert {u["tenant"] for u in listing} == {admin.tenant}
    assert ref.call("POST", "/users", admin, json={"username": "ed", "password": PASSWORD}).status_code == 409
    assert ref.call("POST", "/users", admin, json={"username": "sa", "password": PASSWORD,
                                                   "role": "superadmin"}).status_code == 403
    assert ref.call("POST", "/users", admin, json={"username": "x1", "password": PASSWORD,
                                                   "role": "owner"}).status_code == 422
    assert ref.call("POST", "/users", admin, json={"username": "x2", "password": "short"}).status_code == 400


def _role(ref: Harness, actor: Any, user_id: int, role: Any) -> Any:
    return ref.call("PATCH", f"/users/{user_id}/role", actor, json={"role": role})


def test_role_transitions(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    viewer_id, _, _ = ref.user("viewer", tenant=admin.tenant)
    assert _role(ref, admin, viewer_id, "admin").status_code in (403, 422)  # two levels at once
    promoted = _role(ref, admin, viewer_id, "editor")
    assert promoted.status_code == 200 and promoted.json["user"]["role"] == "editor"
    assert _role(ref, admin, viewer_id, "admin").status_code == 200
    assert _role(ref, admin, viewer_id, "superadmin").status_code == 403  # above the actor's own
    assert _role(ref, admin, viewer_id, "viewer").status_code == 200  # demotion may skip levels
    assert _role(ref, admin, viewer_id, "king").status_code == 422
    assert _role(ref, admin, viewer_id, 5).status_code == 422
    assert _role(ref, admin, admin.user_id, "superadmin").status_code == 403
    assert _role(ref, admin, admin.user_id, "viewer").status_code == 403
    foreign_id, _, _ = ref.user("viewer")
    assert _role(ref, admin, foreign_id, "editor").status_code == 404
    assert _role(ref, admin, 10**6, "editor").status_code == 404
    assert ref.call("PATCH", "/users/abc/role", admin, json={"role": "editor"}).status_code == 404
    boss_id, _, _ = ref.user("superadmin", tenant=admin.tenant)
    assert _role(ref, admin, boss_id, "viewer").status_code == 403


def test_only_manage_users_holders_change_roles(ref: Harness, clock: Any) -> None:
    editor = ref.login("editor")
    viewer_id, _, _ = ref.user("viewer", tenant=editor.tenant)
    assert _role(ref, editor, viewer_id, "editor").status_code == 403
    assert _role(ref, editor, editor.user_id, "admin").status_code == 403


def test_demotion_takes_effect_on_the_next_request(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    editor = ref.login("editor", tenant=admin.tenant)
    assert ref.call("POST", "/documents", editor, json={"title": "a", "body": "b"}).status_code == 201
    assert _role(ref, admin, editor.user_id, "viewer").status_code == 200
    assert ref.call("POST", "/documents", editor, json={"title": "a", "body": "b"}).status_code == 403
    assert ref.get("/users/me", editor).json["role"] == "viewer"


def test_deleting_a_user_ends_their_sessions(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    victim = ref.login("viewer", tenant=admin.tenant)
    stranger_id, _, _ = ref.user("viewer")
    assert ref.call("DELETE", f"/users/{stranger_id}", admin).status_code == 404
    assert ref.call("DELETE", f"/users/{victim.user_id}", admin).status_code == 204
    assert ref.me(victim) == 401
    assert ref.call("DELETE", f"/users/{victim.user_id}", admin).status_code == 404


def test_provision_user_validates(ref: Harness) -> None:
    from reference_impl.users import provision_user

    with pytest.raises(ValueError):
        provision_user(ref.app, username="a", password=PASSWORD, tenant="t", role="god")
    with pytest.raises(ValueError):
        provision_user(ref.app, username="a", password="short", tenant="t", role="viewer")
    user_id = provision_user(ref.app, username="a", password=PASSWORD, tenant="new-tenant", role="superadmin")
    assert isinstance(user_id, int)
