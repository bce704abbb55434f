"""Private notes: the reference's second resource type, with numeric ids. A note belongs to the
user who wrote it, within their tenant; only that user reads, changes, deletes or lists it (an
admin does not see other users' notes). Everything not reachable answers the same 404 as a
missing id, so ids do not leak. Ids are sequential on purpose: a guessed neighbouring id must get
nothing more than a missing one."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, request
from sqlalchemy import Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl.bodies import TextField, json_object
from reference_impl.db import Base, db
from reference_impl.errors import NotFound
from reference_impl.openapi import listing, obj, ref
from reference_impl.operations import Operation, route
from reference_impl.role_access import current
from reference_impl.services import services

bp = Blueprint("notes", __name__)
MAX_TITLE = 200
MAX_TEXT = 100_000
TITLE = TextField("title", MAX_TITLE, min_length=1, not_blank=True)
TEXT = TextField("text", MAX_TEXT)
NOT_FOUND_MESSAGE = "note not found"
MAX_ID_DIGITS = 18
NOTE_ID_SCHEMA = {"type": "integer", "minimum": 1}
NOT_REACHABLE = "no note with this id that the caller wrote (another user's, or another tenant's, answer the same)"


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "owner_id": self.owner_id}


def _lookup_id(note_id: int) -> int:
    """Fault note-id-from-query: the owner check below reads the path's id, yet the note loaded is
    the one an ``id`` query parameter or form field names (``request.values``), as where an
    authorisation layer and a handler read the id from different places."""
    if services().config.has_fault("note-id-from-query"):
        other = request.values.get("id", "")
        if other.isdigit() and len(other) <= MAX_ID_DIGITS:
            return int(other)
    return note_id


def _reachable(raw_id: str, *, idor: bool = False) -> Note:
    """The note if the caller wrote it, else the one 404 for every other case. ``idor``: the view
    is one the note-idor fault strips of its owner check (read and delete)."""
    principal = current()
    not_found = NotFound(NOT_FOUND_MESSAGE)
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > MAX_ID_DIGITS or int(raw_id) < 1:
        raise not_found
    note_id = int(raw_id)
    owned = db().get(Note, note_id)
    if owned is None:
        raise not_found
    if idor and services().config.has_fault("note-idor"):
        return owned  # Note.query.get(id): the id alone
    if owned.tenant != principal.tenant or owned.owner_id != principal.user_id:
        raise not_found
    loaded = _lookup_id(note_id)
    if loaded != note_id:
        other = db().get(Note, loaded)
        if other is None:
            raise not_found
        return other
    return owned


@route(bp, Operation("get", "/notes", "The caller's own notes", 200, listing("notes", ref("Note")),
                     permission="read"))
def list_notes() -> Any:
    principal = current()
    query = (select(Note).where(Note.tenant == principal.tenant, Note.owner_id == principal.user_id)
             .order_by(Note.id))
    return {"notes": [row.as_json() for row in db().scalars(query)]}


@route(bp, Operation("post", "/notes", "Write a note", 201, ref("Note"), permission="write",
                     body=obj(["title", "text"], title=TITLE.schema(), text=TEXT.schema()),
                     links={name: (target, {"note_id": "$response.body#/id"}) for name, target in (
                         ("ReadIt", "notes.get_note"), ("ChangeIt", "notes.update_note"),
                         ("DeleteIt", "notes.delete_note"))}))
def create_note() -> Any:
    principal = current()
    body = json_object()
    note = Note(tenant=principal.tenant, owner_id=principal.user_id, title=TITLE.read(body, required=True),
                text=TEXT.read(body, required=True), created_at=time.time())
    db().add(note)
    db().commit()
    return note.as_json(), 201


@route(bp, Operation("get", "/notes/{note_id}", "Read one of the caller's notes", 200, ref("Note"),
                     permission="read", path_parameters={"note_id": NOTE_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def get_note(note_id: str) -> Any:
    return _reachable(note_id, idor=True).as_json()


@route(bp, Operation("put", "/notes/{note_id}", "Change one of the caller's notes", 200, ref("Note"),
                     permission="write", body=obj([], title=TITLE.schema(), text=TEXT.schema()),
                     path_parameters={"note_id": NOTE_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def update_note(note_id: str) -> Any:
    note = _reachable(note_id)
    body = json_object()
    title = TITLE.read(body, required=False)
    text = TEXT.read(body, required=False)
    if title is not None:
        note.title = title
    if text is not None:
        note.text = text
    db().commit()
    return note.as_json()


@route(bp, Operation("delete", "/notes/{note_id}", "Delete one of the caller's notes", 204, permission="write",
                     path_parameters={"note_id": NOTE_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def delete_note(note_id: str) -> Any:
    note = _reachable(note_id, idor=True)
    db().delete(note)
    db().commit()
    return "", 204
