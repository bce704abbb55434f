"""Documents: owners and tenant admins reach them; everything else is the same 404."""

from __future__ import annotations

from typing import Any

from .conftest import Harness

NOT_FOUND = {"error": "not_found", "message": "document not found"}


def _create(ref: Harness, login: Any, title: str = "t") -> str:
    answer = ref.call("POST", "/documents", login, json={"title": title, "body": "text"})
    assert answer.status_code == 201
    assert set(answer.json) == {"id", "title", "body", "owner_id", "tenant"}
    return str(answer.json["id"])


def test_owner_admin_and_strangers(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    editor = ref.login("editor", tenant=admin.tenant)
    colleague = ref.login("editor", tenant=admin.tenant)
    outsider_admin = ref.login("admin")
    outsider_boss = ref.login("superadmin", tenant=outsider_admin.tenant)
    doc = _create(ref, editor)
    assert ref.get(f"/documents/{doc}", editor).status_code == 200
    assert ref.get(f"/documents/{doc}", admin).status_code == 200
    assert ref.call("PUT", f"/documents/{doc}", admin, json={"title": "by admin"}).json["title"] == "by admin"
    for who in (colleague, outsider_admin, outsider_boss):
        for method in ("GET", "PUT", "DELETE"):
            answer = ref.call(method, f"/documents/{doc}", who, json={"title": "x"})
            if answer.status_code == 403:  # lacks the permission for the method at all
                assert method == "DELETE" and who is colleague
                continue
            assert (answer.status_code, answer.json) == (404, NOT_FOUND), (method, who)
    for missing in ("0" * 32, "nope", "%2e%2e", "1"):
        assert (ref.get(f"/documents/{missing}", admin).status_code, ref.get(f"/documents/{missing}", admin).json) \
            == (404, NOT_FOUND)
    assert ref.call("DELETE", f"/documents/{doc}", admin).status_code == 204
    assert ref.get(f"/documents/{doc}", editor).status_code == 404


def test_listing_is_filtered_by_tenant_and_owner(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    editor = ref.login("editor", tenant=admin.tenant)
    colleague = ref.login("editor", tenant=admin.tenant)
    outsider = ref.login("admin")
    mine, theirs, foreign = _create(ref, editor), _create(ref, colleague), _create(ref, outsider)
    listed = lambda who, **q: {d["id"] for d in ref.get("/documents", who, query_string=q).json["documents"]}  # noqa: E731
    assert listed(editor) == {mine}
    assert listed(admin) == {mine, theirs}
    assert listed(admin, tenant=outsider.tenant) == {mine, theirs}
    assert listed(outsider) == {foreign}


def test_headers_never_switch_tenant_or_identity(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    outsider = ref.login("admin")
    foreign = _create(ref, outsider)
    spoof = {"X-Tenant-ID": outsider.tenant, "X-User-ID": str(outsider.user_id)}
    assert ref.call("GET", f"/documents/{foreign}", admin, headers=spoof).status_code == 404
    assert ref.client.get("/documents", headers=spoof).status_code == 401


def test_document_input_is_validated(ref: Harness, clock: Any) -> None:
    editor = ref.login("editor")
    for body in ({"title": "", "body": "b"}, {"title": "t"}, {"title": 1, "body": "b"},
                 {"title": "x" * 201, "body": ""},
                 [], None):
        assert ref.call("POST", "/documents", editor, json=body).status_code == 400, body
