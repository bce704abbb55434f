"""The operation catalog (profile [[routes]] or an OpenAPI document read with Schemathesis) and the
checks that judge every operation of it: the route matrix, method switching, path variants, forged
tokens and unauthenticated minting routes. Each passes on the clean reference and fails with its fault,
from either source; a 50-operation document is judged whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reference_runs import run_on_reference

from bench.operations import counted, wide_reference
from conformance import extras, operations_catalog, profile
from conformance.checks import credentials
from conformance.operations_catalog import pattern_regex
from conformance.verdict import Verdict
from reference_impl import Config, create_app

OPENAPI = {"openapi.document": "/openapi.json"}
NEW_CHECKS = ("ROLE-METHOD-SWITCH", "ROLE-PATH-VARIANT", "TOK-FORGED-EVERY-OPERATION")
FAULTS = {"admin-method-switch": "ROLE-METHOD-SWITCH", "admin-path-case": "ROLE-PATH-VARIANT",
          "admin-blueprint-unverified": "TOK-FORGED-EVERY-OPERATION",
          # ROLE-MATRIX's own faults, now caught over the document's operations too
          "viewer-can-write": "ROLE-MATRIX", "audit-for-admins": "ROLE-MATRIX",
          "editor-manages-users": "ROLE-MATRIX", "forbidden-for-anonymous": "ROLE-MATRIX"}


def _document() -> str:
    app = create_app(Config.for_tests())
    return app.test_client().get("/openapi.json").get_data(as_text=True)


def test_the_profile_catalog_is_its_routes_with_the_lowest_role_holding_each_permission() -> None:
    catalog = operations_catalog.from_profile(profile.load())
    roles = {op.name: op.min_role for op in catalog.operations}
    assert roles["me"] == "viewer" and roles["document_create"] == "editor"
    assert roles["admin_stats"] == "admin" and roles["audit"] == "superadmin"
    assert all(op.secured and op.source == "profile" for op in catalog.operations)


def test_the_document_catalog_reads_security_min_roles_and_contract_operations() -> None:
    catalog = operations_catalog.from_document(_document(), profile.load())
    by_label = {op.label: op for op in catalog.operations}
    assert not by_label["POST /auth/login"].secured and by_label["POST /auth/login"].contract == "login"
    assert by_label["GET /admin/stats"].min_role == "admin"  # x-authconform-min-role
    assert by_label["POST /documents"].min_role == "editor"
    assert by_label["GET /users/me"].min_role == "viewer" and by_label["GET /users/me"].secured
    assert by_label["DELETE /users/me"].ends_credential and by_label["POST /auth/logout"].ends_credential
    assert not by_label["GET /documents"].ends_credential
    assert len(catalog.protected()) == 27  # notes (five) since resources


def test_a_profile_pattern_gives_the_minimum_role_over_the_document_extension() -> None:
    base = profile.load(overrides={"openapi.min_roles": {"/documents/**": "admin"}})
    by_label = {op.label: op for op in operations_catalog.from_document(_document(), base).operations}
    assert by_label["GET /documents"].min_role == "admin"  # the document says viewer
    assert by_label["DELETE /documents/{document_id}"].min_role == "admin"
    assert by_label["GET /admin/stats"].min_role == "admin"  # its x-authconform-min-role
    assert by_label["GET /audit"].min_role == "superadmin"
    assert pattern_regex("/admin/**").match("/admin") and pattern_regex("/admin/**").match("/admin/a/b")
    assert not pattern_regex("/admin/*").match("/admin/a/b") and pattern_regex("/admin/*").match("/admin/a")


def test_a_pattern_naming_an_unknown_role_is_a_profile_error() -> None:
    with pytest.raises(profile.ProfileError, match="openapi.min_roles"):
        profile.load(overrides={"openapi.min_roles": {"/admin/**": "root"}})


def test_schemathesis_builds_a_valid_request_and_path_ids_name_nothing() -> None:
    catalog = operations_catalog.from_document(_document(), profile.load())
    by_label = {op.label: op for op in catalog.operations}
    create = operations_catalog.request_for(None, by_label["POST /documents"])  # type: ignore[arg-type]
    assert isinstance(create.json_body, dict) and isinstance(create.json_body.get("title"), str)
    assert create.json_body["title"].strip()  # the document's not-blank rule holds
    get = operations_catalog.request_for(None, by_label["GET /documents/{document_id}"])  # type: ignore[arg-type]
    assert get.path.startswith("/documents/") and len(get.path.rsplit("/", 1)[1]) == 32
    user = operations_catalog.request_for(None, by_label["DELETE /users/{user_id}"])  # type: ignore[arg-type]
    assert user.path == f"/users/{operations_catalog.MISSING_INTEGER}"
    again = operations_catalog.request_for(None, by_label["POST /documents"])  # type: ignore[arg-type]
    assert again == create  # the same request every run


def test_the_sample_is_bounded_and_the_same_every_run() -> None:
    ops = operations_catalog.from_document(_document(), profile.load()).operations
    chosen, left = operations_catalog.sample(ops, 5)
    assert len(chosen) == 5 and len(left) == len(ops) - 5
    assert operations_catalog.sample(ops, 5) == (chosen, left)


@pytest.mark.parametrize("openapi", [False, True], ids=["routes", "openapi"])
@pytest.mark.parametrize("check_id", [*NEW_CHECKS, "ROLE-MATRIX", "CRED-NO-MINT-ROUTE"])
def test_the_operation_checks_pass_on_the_clean_reference(check_id: str, openapi: bool) -> None:
    result = run_on_reference(check_id, base=profile.load(overrides=OPENAPI if openapi else None))
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize("openapi", [False, True], ids=["routes", "openapi"])
@pytest.mark.parametrize(("fault", "check_id"), FAULTS.items())
def test_each_fault_is_caught_from_either_catalog(fault: str, check_id: str, openapi: bool) -> None:
    result = run_on_reference(check_id, frozenset({fault}), base=profile.load(overrides=OPENAPI if openapi else None))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"


def test_only_the_console_fails_when_one_blueprint_skips_verification() -> None:
    result = run_on_reference("TOK-FORGED-EVERY-OPERATION", frozenset({"admin-blueprint-unverified"}),
                              base=profile.load(overrides=OPENAPI))
    assert result.reason.count("GET /admin/stats") == 1 and "/users/me" not in result.reason
    assert 'alg "nOnE"' in result.reason and "expired" in result.reason and "refresh token" in result.reason
    assert run_on_reference("TOK-SIG-BROKEN", frozenset({"admin-blueprint-unverified"})).verdict is Verdict.PASS


def test_without_mutation_the_writes_are_not_judged_and_the_result_says_so() -> None:
    base = profile.load(overrides={**OPENAPI, "safety.mutate": False})
    forged = run_on_reference("TOK-FORGED-EVERY-OPERATION", base=base)
    assert forged.verdict is Verdict.PARTIAL and "[safety] mutate is off" in forged.reason
    assert run_on_reference("ROLE-METHOD-SWITCH", base=base).verdict is Verdict.NOT_APPLICABLE


def test_a_catalog_above_the_limit_is_sampled_and_partial() -> None:
    base = profile.load(overrides={**OPENAPI, "limits.operations": 5})
    result = run_on_reference("TOK-FORGED-EVERY-OPERATION", base=base)
    assert result.verdict is Verdict.PARTIAL and "left out of the sample of 5" in result.reason
    assert result.coverage is not None and result.coverage["judged"] == 5


def test_without_schemathesis_the_document_checks_say_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = extras.missing_modules
    monkeypatch.setattr(extras, "missing_modules",
                        lambda extra: ["schemathesis"] if extra == "openapi" else real(extra))
    result = run_on_reference("TOK-FORGED-EVERY-OPERATION", base=profile.load(overrides=OPENAPI))
    assert result.verdict is Verdict.NOT_APPLICABLE and "install authconform[openapi]" in result.reason


def test_an_unauthenticated_documented_token_route_is_reported(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    document: dict[str, Any] = json.loads(_document())
    document["paths"]["/debug/token"] = {"get": {
        "operationId": "debug_token", "security": [], "responses": {"200": {"description": "a token"}},
        "parameters": [{"name": "user_id", "in": "query", "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1}}]}}
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    monkeypatch.setattr(credentials, "MINT_ROUTES", ())  # the word list would find this one by itself
    base = profile.load(overrides={"openapi.document": str(path)})
    result = run_on_reference("CRED-NO-MINT-ROUTE", frozenset({"test-token-route"}), base=base)
    assert result.verdict is Verdict.FAIL and "GET /debug/token (answered a token" in result.reason
    assert run_on_reference("CRED-NO-MINT-ROUTE", base=base).verdict is Verdict.PASS


@pytest.mark.parametrize("check_id", [*NEW_CHECKS, "ROLE-MATRIX"])
def test_a_fifty_operation_document_is_judged_whole(check_id: str) -> None:
    base = profile.load(overrides=OPENAPI)
    with wide_reference(50), counted() as sent:
        result = run_on_reference(check_id, base=base)
    assert result.verdict is Verdict.PASS, result.reason
    if check_id == "TOK-FORGED-EVERY-OPERATION":
        assert result.coverage == {"judged": 43, "asked": 43, "unit": "protected operations", "missing": []}
        assert sent[0] >= 43 * len(result.details["forgeries"])  # one request per forgery per operation


class _Recorder:
    """Just enough of a check's context for operations_catalog.send: what it paced, what it sent."""

    def __init__(self) -> None:
        self.profile = profile.load()
        self.paced: list[tuple[str, str]] = []
        self.sent: list[str] = []

    def pace(self, operation: str, auth: Any, username: str = "") -> None:
        self.paced.append((operation, username))

    def send(self, method: str, path: str, **_kwargs: Any) -> Any:
        self.sent.append(f"{method} {path}")
        return None


def test_a_built_request_to_the_login_route_spends_the_login_budgets() -> None:
    # Checks beside this one log in from the same address: a login it sends outside Api.call must
    # be counted too, or the target's per-address limit refuses the checks around it.
    recorder = _Recorder()
    ctx: Any = recorder
    login = recorder.profile.operation("login")
    field = login.fields.get("username", "username")
    operations_catalog.send(ctx, operations_catalog.Request(login.method, login.path, json_body={field: "someone"}),
                            None, "login without credentials")
    operations_catalog.send(ctx, operations_catalog.Request("GET", recorder.profile.operation("me").path), None, "me")
    assert recorder.paced == [("login", "someone")]
    assert len(recorder.sent) == 2
