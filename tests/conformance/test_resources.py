"""[[resources]]: the profile's resources of the target's own API, and the TEN-* checks judging each
one (named in the reason and the evidence; partial when one cannot be judged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reference_runs import run_on_reference

from conformance import profile, registry
from conformance.context import CheckContext
from conformance.profile import ProfileError, loads
from conformance.verdict import Verdict

TENANCY = ("TEN-OBJECT-ACCESS", "TEN-CROSS-TENANT-404", "TEN-SUPERADMIN-CONFINED", "TEN-HEADER-SPOOF",
           "TEN-PARAM-SPOOF", "TEN-LIST-FILTER", "TEN-ID-NEIGHBOUR", "TEN-ID-ELSEWHERE")

OWN = """
name = "own"
capabilities = ["signup", "documents"]
[operations.login]
method = "POST"
path = "/login"
[operations.me]
method = "GET"
path = "/me"
[operations.signup]
method = "POST"
path = "/signup"
"""
NOTES = """
[[resources]]
name = "notes"
create = { method = "POST", path = "/notes", body = { title = "{marker}" } }
read = { method = "GET", path = "/notes/{id}" }
"""


def _only(*names: str) -> profile.Profile:
    base = profile.load()
    return base.model_copy(update={"resources": [r for r in base.resources if r.name in names]})


def test_the_reference_declares_documents_and_notes() -> None:
    loaded = profile.load()
    assert [(r.name, r.id_kind, r.ownership) for r in loaded.resource_list()] == [
        ("documents", "uuid", "owner-admin"), ("notes", "numeric", "owner")]
    documents = loaded.resource_list()[0]
    for verb, operation in profile.LEGACY_OPERATIONS.items():  # the same routes as the contract's operations
        op = loaded.operation(operation)
        assert (documents.operation(verb).method, documents.operation(verb).path) == (op.method, op.path)


def test_an_older_profile_s_document_operations_are_the_resource_documents() -> None:
    text = OWN + """
[operations.document_create]
method = "POST"
path = "/memos"
fields = { title = "subject" }
id_field = "memo_id"
[operations.document_get]
method = "GET"
path = "/memos/{id}"
"""
    (resource,) = loads(text, source="old.toml").resource_list()
    assert resource.name == "documents" and resource.create.path == "/memos"
    assert resource.create.body["subject"] == profile.MARKER and resource.create.id_path == "memo_id"
    assert resource.read.path == "/memos/{id}" and not resource.offers("delete")


def test_declared_resources_replace_the_document_operations_and_need_the_capability() -> None:
    assert [r.name for r in loads(OWN + NOTES, source="p.toml").resource_list()] == ["notes"]
    with pytest.raises(ProfileError) as error:
        loads(OWN.replace('"signup", "documents"', '"signup"') + NOTES, source="p.toml")
    assert error.value.field_path == "capabilities" and "documents" in error.value.fix


@pytest.mark.parametrize(("change", "field", "words"), [
    (('"/notes/{id}" }', '"/notes" }'), "resources[0].read.path", "does not name the object"),
    (('title = "{marker}"', 'title = "x"'), "resources[0].create.body", "{marker}"),
    (('read = { method = "GET", path = "/notes/{id}" }', ""), "resources[0].read.path", "no read operation"),
    (('create = {', 'id_kind = "slug"\ncreate = {'), "resources[0].create.id_sent", "slug"),
    (('method = "GET"', 'method = "FETCH"'), "resources[0].read.method", "not an HTTP method"),
    (('name = "notes"', 'name = "notes"\nownership = "mine"'), "resources[0].ownership", "not a value"),
    (('create = {', 'colour = "red"\ncreate = {'), "resources[0].colour", "unknown field"),
])
def test_a_wrong_resource_is_named_by_its_dotted_field(change: tuple[str, str], field: str, words: str) -> None:
    with pytest.raises(ProfileError) as error:
        loads(OWN + NOTES.replace(*change), source="p.toml")
    assert error.value.field_path == field, error.value
    assert words in str(error.value)


def test_two_resources_of_one_name_are_refused() -> None:
    with pytest.raises(ProfileError) as error:
        loads(OWN + NOTES + NOTES, source="p.toml")
    assert error.value.field_path == "resources[1].name"


@pytest.mark.parametrize("check_id", TENANCY)
def test_each_check_judges_each_resource_of_the_reference(check_id: str) -> None:
    result = run_on_reference(check_id)
    assert result.verdict is Verdict.PASS, result.reason
    judged = result.details["resources"]["judged"]
    assert judged == (["notes"] if check_id == "TEN-ID-NEIGHBOUR" else ["documents", "notes"])


@pytest.mark.parametrize("fault", ["note-idor", "note-id-from-query"])
def test_a_fault_of_the_second_resource_is_named_by_it(fault: str) -> None:
    check_id = "TEN-OBJECT-ACCESS" if fault == "note-idor" else "TEN-ID-ELSEWHERE"
    result = run_on_reference(check_id, frozenset({fault}))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("notes: ") and "documents:" not in result.reason
    assert result.details["resources"]["each"] == {"documents": "pass", "notes": "fail"}
    assert any(str(item.get("note", "")).startswith("notes: ") for item in result.evidence)
    assert run_on_reference(check_id, frozenset({fault}), base=_only("documents")).verdict is Verdict.PASS


def test_a_resource_that_cannot_be_judged_makes_the_verdict_partial() -> None:
    base = profile.load()
    ghost = base.resources[1].model_copy(update={"name": "ghosts", "create": base.resources[1].create.model_copy(
        update={"path": "/ghosts"})})
    result = run_on_reference("TEN-OBJECT-ACCESS", base=base.model_copy(update={"resources": [*base.resources,
                                                                                              ghost]}))
    assert result.verdict is Verdict.PARTIAL, result.reason
    assert result.coverage is not None and (result.coverage["judged"], result.coverage["asked"]) == (2, 3)
    assert result.coverage["missing"][0].startswith("ghosts (")


def test_object_checks_need_no_tenants() -> None:
    # Without tenants, the owner and the intruder are two unrelated users (judged over HTTP on the
    # example services notes and ledger, tests/targets): the reference's sign-up needs a tenant.
    for check_id in ("TEN-OBJECT-ACCESS", "TEN-ID-NEIGHBOUR", "TEN-ID-ELSEWHERE"):
        assert "tenants" not in registry.get(check_id).needs


def test_neighbouring_ids_are_not_applicable_without_numeric_ids() -> None:
    result = run_on_reference("TEN-ID-NEIGHBOUR", base=_only("documents"))
    assert result.verdict is Verdict.NOT_APPLICABLE and "numeric" in result.reason


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    sent: list[str] = []
    original = CheckContext._exchange

    def exchange(self: CheckContext, method: str, path: str, **kwargs: Any) -> Any:
        sent.append(f"{method} {path}")
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(CheckContext, "_exchange", exchange)
    yield sent


def test_a_resource_costs_a_bounded_number_of_requests(counted: list[str]) -> None:
    figures = {}
    for check_id in TENANCY:
        counted.clear()
        assert run_on_reference(check_id, base=_only("notes")).verdict is Verdict.PASS
        figures[check_id] = sum(1 for line in counted if "/notes" in line)
    assert all(0 < n <= 120 for n in figures.values()), figures


def test_upgrade_writes_the_document_operations_as_a_resource(tmp_path: Any) -> None:
    from conformance.profile_cli import upgrade

    path = tmp_path / "old.toml"
    path.write_text(OWN + """
[operations.document_create]
method = "POST"
path = "/memos"
fields = { title = "subject" }
id_field = "memo_id"
[operations.document_get]
method = "GET"
path = "/memos/{id}"
""")
    text, notes = upgrade(path, resources=True)
    assert any("written as the resource 'documents'" in note for note in notes)
    upgraded = loads(text, source="new.toml")
    assert upgraded.resources == loads(path.read_text(), source="old.toml").resource_list()
    path.write_text(text)
    again, notes = upgrade(path, resources=True)
    assert any("already declared" in note for note in notes) and again.count("[[resources]]") == 1
