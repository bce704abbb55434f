"""Tenant resources: documents. The owner reads and changes their own; an admin (or superadmin)
any of their tenant's; nobody reaches another tenant's. Everything not reachable answers the same
404 as a missing id, so ids do not leak."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Blueprint
from sqlalchemy import Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl.bodies import TextField, json_object
from reference_impl.db import Base, db
from reference_impl.errors import Forbidden, NotFound
from reference_impl.openapi import listing, obj, ref
from reference_impl.operations import Operation, route
from reference_impl.role_access import ROLES, Principal, current, level
from reference_impl.services import services
from reference_impl.tenancy import list_tenant

bp = Blueprint("documents", __name__)
MAX_TITLE = 200
MAX_BODY = 100_000
TITLE = TextField("title", MAX_TITLE, min_length=1, not_blank=True)
TEXT = TextField("body", MAX_BODY)
NOT_FOUND_MESSAGE = "document not found"
DOCUMENT_ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
NOT_REACHABLE = "no document with this id that the caller may reach (another tenant's, or another user's for " \
                "a non-admin, answer the same)"


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "body": self.body, "owner_id": self.owner_id,
                "tenant": self.tenant}


def _sees_all(principal: Principal) -> bool:
    return level(principal.role) >= ROLES["admin"]


def _reachable(document_id: str) -> Document:
    """The document if the caller may reach it, else the one 404 for every other case."""
    config = services().config
    principal = current()
    not_found = NotFound(NOT_FOUND_MESSAGE)
    if len(document_id) != 32 or not all(c in "0123456789abcdef" for c in document_id):
        raise not_found
    document = db().get(Document, document_id)
    if document is None:
        raise not_found
    same_tenant = document.tenant == principal.tenant
    crosses = config.has_fault("document-idor") or (
        config.has_fault("superadmin-any-tenant") and principal.role == "superadmin")
    if not same_tenant and not crosses:
        if config.has_fault("cross-tenant-403"):
            raise Forbidden("this document belongs to another tenant")
        if config.has_fault("cross-tenant-404-tells"):
            raise NotFound("this document belongs to another tenant", error="wrong_tenant")
        raise not_found
    if document.owner_id != principal.user_id and not _sees_all(principal) \
            and not config.has_fault("owner-check-missing") and not crosses:
        raise not_found
    return document


@route(bp, Operation("get", "/documents", "Documents: an admin sees the tenant's, others their own", 200,
                     listing("documents", ref("Document")), permission="read"))
def list_documents() -> Any:
    principal = current()
    query = select(Document).order_by(Document.created_at, Document.id)
    if not (services().config.has_fault("superadmin-any-tenant") and principal.role == "superadmin"):
        query = query.where(Document.tenant == list_tenant(principal))
    if not _sees_all(principal):
        query = query.where(Document.owner_id == principal.user_id)
    return {"documents": [row.as_json() for row in db().scalars(query)]}


@route(bp, Operation("post", "/documents", "Create a document", 201, ref("Document"), permission="write",
                     body=obj(["title", "body"], title=TITLE.schema(), body=TEXT.schema()),
                     links={name: (target, {"document_id": "$response.body#/id"}) for name, target in (
                         ("ReadIt", "documents.get_document"), ("ChangeIt", "documents.update_document"),
                         ("DeleteIt", "documents.delete_document"))}))
def create_document() -> Any:
    principal = current()
    body = json_object()
    now = time.time()
    document = Document(id=uuid.uuid4().hex, tenant=principal.tenant, owner_id=principal.user_id,
                        title=TITLE.read(body, required=True), body=TEXT.read(body, required=True),
                        created_at=now, updated_at=now)
    db().add(document)
    db().commit()
    return document.as_json(), 201


@route(bp, Operation("get", "/documents/{document_id}", "Read a document", 200, ref("Document"), permission="read",
                     path_parameters={"document_id": DOCUMENT_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def get_document(document_id: str) -> Any:
    return _reachable(document_id).as_json()


@route(bp, Operation("put", "/documents/{document_id}", "Change a document", 200, ref("Document"),
                     permission="write", body=obj([], title=TITLE.schema(), body=TEXT.schema()),
                     path_parameters={"document_id": DOCUMENT_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def update_document(document_id: str) -> Any:
    document = _reachable(document_id)
    body = json_object()
    title = TITLE.read(body, required=False)
    text = TEXT.read(body, required=False)
    if title is not None:
        document.title = title
    if text is not None:
        document.body = text
    document.updated_at = time.time()
    db().commit()
    return document.as_json()


@route(bp, Operation("delete", "/documents/{document_id}", "Delete a document", 204, permission="delete",
                     path_parameters={"document_id": DOCUMENT_ID_SCHEMA}, answers={404: NOT_REACHABLE}))
def delete_document(document_id: str) -> Any:
    document = _reachable(document_id)
    db().delete(document)
    db().commit()
    return "", 204
