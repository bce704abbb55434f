"""The reference's OpenAPI document says what its code does: each of the eight disagreements of
issue 19 is now documented or fixed, every route has a declaration, and an answer a declaration
omits is logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from flask import Blueprint
from sqlalchemy import Engine, select

from reference_impl import Config, create_app, db, users
from reference_impl.documents import MAX_BODY, MAX_TITLE
from reference_impl.errors import NotFound
from reference_impl.memory_store import MemoryStore
from reference_impl.operations import Access, Operation, route

from .conftest import PASSWORD, Harness, Login

NEW_PASSWORD = "another-long-password"


def openapi_document(ref: Harness) -> dict[str, Any]:
    document: dict[str, Any] = ref.client.get("/openapi.json").json
    return document


def documented(ref: Harness, method: str, path: str) -> set[int]:
    operation = openapi_document(ref)["paths"][path][method]
    return {int(status) for status in operation["responses"]}


def request_schema(ref: Harness, method: str, path: str) -> dict[str, Any]:
    operation = openapi_document(ref)["paths"][path][method]
    return dict(operation["requestBody"]["content"]["application/json"]["schema"])


def valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(instance))


def test_1_refresh_without_a_token_answers_a_documented_401(ref: Harness) -> None:
    assert ref.client.post("/auth/refresh", json={}).status_code == 401
    assert 401 in documented(ref, "post", "/auth/refresh")


def test_2_sign_up_into_an_existing_tenant_answers_a_documented_409(ref: Harness) -> None:
    _, _, tenant = ref.user("admin")
    answer = ref.client.post("/auth/register", json={"username": "newcomer", "password": PASSWORD, "tenant": tenant})
    assert (answer.status_code, answer.json["error"]) == (409, "tenant_exists")
    assert 409 in documented(ref, "post", "/auth/register")


def test_3_a_wrong_current_password_answers_a_documented_403(ref: Harness) -> None:
    login = ref.login()
    answer = ref.call("PATCH", "/users/me", login, json={"current_password": "not-the-password",
                                                         "new_password": NEW_PASSWORD})
    assert answer.status_code == 403
    assert 403 in documented(ref, "patch", "/users/me")


def test_5_an_unknown_role_answers_a_documented_422(ref: Harness) -> None:
    admin = ref.login("admin")
    created = ref.call("POST", "/users", admin, json={"username": "newcomer", "password": PASSWORD, "role": "owner"})
    assert (created.status_code, created.json["error"]) == (422, "unknown_role")
    viewer_id, _, _ = ref.user("viewer", tenant=admin.tenant)
    changed = ref.call("PATCH", f"/users/{viewer_id}/role", admin, json={"role": "owner"})
    assert (changed.status_code, changed.json["error"]) == (422, "unknown_role")
    assert 422 in documented(ref, "post", "/users")
    assert 422 in documented(ref, "patch", "/users/{user_id}/role")


def test_6_a_taken_username_answers_a_documented_409(ref: Harness) -> None:
    admin = ref.login("admin")
    answer = ref.call("POST", "/users", admin, json={"username": admin.username, "password": PASSWORD})
    assert (answer.status_code, answer.json["error"]) == (409, "username_taken")
    assert 409 in documented(ref, "post", "/users")


@pytest.mark.parametrize(("body", "accepted"), [
    ({"title": "", "body": ""}, False),
    ({"title": " \t\n", "body": ""}, False),
    ({"title": "x" * (MAX_TITLE + 1), "body": ""}, False),
    ({"title": "t", "body": "x" * (MAX_BODY + 1)}, False),
    ({"title": "x" * MAX_TITLE, "body": ""}, True),
    ({"title": " t ", "body": "x" * MAX_BODY}, True),
])
def test_7_the_document_schema_and_the_view_agree_on_a_new_document(ref: Harness, body: dict[str, str],
                                                                     accepted: bool) -> None:
    editor = ref.login("editor")
    assert valid(request_schema(ref, "post", "/documents"), body) is accepted
    assert ref.call("POST", "/documents", editor, json=body).status_code == (201 if accepted else 400)


@pytest.mark.parametrize(("body", "accepted"), [
    ({"title": ""}, False),
    ({"title": "  "}, False),
    ({"body": "x" * (MAX_BODY + 1)}, False),
    ({"title": "renamed"}, True),
    ({}, True),
])
def test_8_the_document_schema_and_the_view_agree_on_a_change(ref: Harness, body: dict[str, str],
                                                              accepted: bool) -> None:
    editor = ref.login("editor")
    created = ref.call("POST", "/documents", editor, json={"title": "first", "body": ""}).json
    assert valid(request_schema(ref, "put", "/documents/{document_id}"), body) is accepted
    answer = ref.call("PUT", f"/documents/{created['id']}", editor, json=body)
    assert answer.status_code == (200 if accepted else 400)


# ---------------------------------------------------------------------------- item 4: deletion races


def test_4_deleting_an_account_ends_its_sessions_before_the_row_goes(ref: Harness,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    login = ref.login()
    store = ref.services.store
    engine: Engine = ref.services.engine
    row_present_when_ended: list[bool] = []
    end_user_sessions = store.end_user_sessions

    def spy(user_id: int, keep: str | None = None) -> list[str]:
        with engine.connect() as connection:
            row_present_when_ended.append(
                connection.execute(select(users.User.id).where(users.User.id == user_id)).first() is not None)
        return list(end_user_sessions(user_id, keep=keep))

    monkeypatch.setattr(store, "end_user_sessions", spy)
    assert ref.call("DELETE", "/users/me", login).status_code == 204
    assert row_present_when_ended[0] is True  # the sessions ended while the row was still there
    assert ref.me(login) == 401


class TwoWorkers:
    """Two apps over one store and one database file, as two workers of one server."""

    def __init__(self, directory: Path) -> None:
        config = Config.for_tests(database_url=f"sqlite:///{directory / 'reference.sqlite3'}")
        store, engine = MemoryStore(), db.make_engine(config.database_url)
        self.first = Harness(create_app(config, store=store, engine=engine))
        self.second = Harness(create_app(config, store=store, engine=engine))

    def two_sessions(self) -> tuple[Login, Login]:
        user_id, username, tenant = self.first.user()
        first = self.first.login(username=username, tenant=tenant)
        second = self.first.login(username=username, tenant=tenant)
        first.user_id = second.user_id = user_id
        return first, second


def test_4_a_password_change_while_the_account_is_deleted_answers_401(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The deletion lands after the change was authenticated, before its view reads the row."""
    workers = TwoWorkers(tmp_path)
    changing, deleting = workers.two_sessions()
    json_object = users.json_object

    def delete_meanwhile() -> dict[str, Any]:
        assert workers.second.call("DELETE", "/users/me", deleting).status_code == 204
        return json_object()

    monkeypatch.setattr(users, "json_object", delete_meanwhile)
    answer = workers.first.call("PATCH", "/users/me", changing, json={"current_password": PASSWORD,
                                                                      "new_password": NEW_PASSWORD})
    assert answer.status_code == 401
    assert 404 not in documented(workers.first, "patch", "/users/me")


def test_4_a_password_change_that_read_the_row_before_the_deletion_answers_401(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deletion lands after the view read the row, before it writes the new hash."""
    workers = TwoWorkers(tmp_path)
    changing, deleting = workers.two_sessions()
    check_new_password = users.check_new_password

    def delete_meanwhile(password: object) -> str:
        assert workers.second.call("DELETE", "/users/me", deleting).status_code == 204
        return check_new_password(password)

    monkeypatch.setattr(users, "check_new_password", delete_meanwhile)
    answer = workers.first.call("PATCH", "/users/me", changing, json={"current_password": PASSWORD,
                                                                      "new_password": NEW_PASSWORD})
    assert answer.status_code == 401
    for password in (PASSWORD, NEW_PASSWORD):  # the deletion stands; the change left nothing behind
        login = workers.first.client.post("/auth/login", json={"username": changing.username, "password": password,
                                                               "tenant": changing.tenant})
        assert login.status_code == 401


# ---------------------------------------------------------------------------- declarations


def test_every_route_of_the_app_has_a_declaration(ref: Harness) -> None:
    rules = {(method, rule.rule) for rule in ref.app.url_map.iter_rules()
             for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    document = openapi_document(ref)
    described = {(method.upper(), path.replace("{", "<").replace("}", ">"))
                 for path, item in document["paths"].items() for method in item}
    assert rules == described


def test_every_link_names_an_operation_and_its_path_parameters(ref: Harness) -> None:
    document = openapi_document(ref)
    operations = {item["operationId"]: (path, item) for path, methods in document["paths"].items()
                  for item in methods.values()}
    links = [link for _, item in operations.values() for answer in item["responses"].values()
             for link in answer.get("links", {}).values()]
    assert links
    for link in links:
        path, target = operations[link["operationId"]]
        parameters = {parameter["name"] for parameter in target.get("parameters", []) if parameter["in"] == "path"}
        assert set(link["parameters"]) == parameters, (link, path)


def test_an_answer_its_declaration_omits_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Config.for_tests())
    probe = Blueprint("probe", __name__)

    @route(probe, Operation("get", "/probe", "Answers a status it does not declare", 200, access=Access.PUBLIC,
                            uses_storage=False))
    def undeclared() -> Any:
        raise NotFound("nothing here")

    app.register_blueprint(probe)
    with caplog.at_level(logging.ERROR, logger="reference_impl"):
        assert app.test_client().get("/probe").status_code == 404
    assert any("undeclared answer: GET /probe answered 404" in record.getMessage() for record in caplog.records)
