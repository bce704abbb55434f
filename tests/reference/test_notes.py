"""Notes, the reference's second resource: numeric ids, the writer alone reaches one; everything
else is the same 404. The two faults of the notes each break one rule, and only that."""

from __future__ import annotations

from typing import Any

from .conftest import Harness

NOT_FOUND = {"error": "not_found", "message": "note not found"}


def _write(ref: Harness, login: Any, title: str = "t") -> int:
    answer = ref.call("POST", "/notes", login, json={"title": title, "text": "text"})
    assert answer.status_code == 201
    assert set(answer.json) == {"id", "title", "text", "owner_id"}
    assert isinstance(answer.json["id"], int)
    return int(answer.json["id"])


def test_only_the_writer_reaches_a_note(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    editor = ref.login("editor", tenant=admin.tenant)
    colleague = ref.login("editor", tenant=admin.tenant)
    outsider = ref.login("superadmin", tenant=ref.login("admin").tenant)
    note = _write(ref, editor, "mine")
    assert ref.get(f"/notes/{note}", editor).json["title"] == "mine"
    for who in (admin, colleague, outsider):  # the tenant admin too: notes are private
        for method in ("GET", "PUT", "DELETE"):
            answer = ref.call(method, f"/notes/{note}", who, json={"title": "x"})
            assert (answer.status_code, answer.json) == (404, NOT_FOUND), (method, who.role)
    for missing in (note + 1, 0, "nope", "99999999999999999999"):
        assert (ref.get(f"/notes/{missing}", editor).status_code, ref.get(f"/notes/{missing}", editor).json) \
            == (404, NOT_FOUND)
    assert ref.call("PUT", f"/notes/{note}", editor, json={"text": "changed"}).json["text"] == "changed"
    assert ref.call("DELETE", f"/notes/{note}", editor).status_code == 204
    assert ref.get(f"/notes/{note}", editor).status_code == 404


def test_the_list_holds_the_callers_notes_only(ref: Harness, clock: Any) -> None:
    admin = ref.login("admin")
    editor = ref.login("editor", tenant=admin.tenant)
    mine, theirs = _write(ref, editor), _write(ref, admin)
    listed = lambda who, **q: {n["id"] for n in ref.get("/notes", who, query_string=q).json["notes"]}  # noqa: E731
    assert listed(editor) == {mine}
    assert listed(admin) == {theirs}
    assert listed(editor, id=str(theirs), owner_id=str(admin.user_id)) == {mine}


def test_note_idor_reads_and_deletes_by_id_alone(make: Any, clock: Any) -> None:
    ref = make(faults={"note-idor"})
    owner = ref.login("editor")
    stranger = ref.login("editor")
    note = _write(ref, owner, "secret")
    assert ref.get(f"/notes/{note}", stranger).json["title"] == "secret"
    assert ref.call("PUT", f"/notes/{note}", stranger, json={"title": "x"}).status_code == 404  # update kept its check
    assert ref.call("DELETE", f"/notes/{note}", stranger).status_code == 204
    assert ref.get(f"/notes/{note}", owner).status_code == 404


def test_note_id_from_query_loads_another_note_after_the_owner_check(make: Any, clock: Any) -> None:
    ref = make(faults={"note-id-from-query"})
    owner = ref.login("editor")
    stranger = ref.login("editor")
    theirs, mine = _write(ref, owner, "secret"), _write(ref, stranger, "mine")
    assert ref.get(f"/notes/{theirs}", stranger).status_code == 404  # by the path: checked
    assert ref.get(f"/notes/{mine}?id={theirs}", stranger).json["title"] == "secret"
    assert ref.get(f"/notes/{mine}", stranger).json["title"] == "mine"
