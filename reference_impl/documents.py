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

from reference_impl.bodies import json_object
from reference_impl.db import Base, db
from reference_impl.errors import BadRequest, Forbidden, NotFound
from reference_impl.role_access import ROLES, Principal, current, level, require
from reference_impl.services import services
from reference_impl.tenancy import list_tenant

bp = Blueprint("documents", __name__)
MAX_TITLE = 200
MAX_BODY = 100_000
NOT_FOUND_MESSAGE = "document not found"


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


def _field(body: dict[str, Any], name: str, maximum: int, *, required: bool) -> str | None:
    if name not in body and not required:
        return None
    value = body.get(name)
    if not isinstance(value, str) or len(value) > maximum or (name == "title" and not value.strip()):
        raise BadRequest(f"{name} must be a string of at most {maximum} characters"
                         + (", not blank" if name == "title" else ""))
    return value


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
        raise not_found
    if document.owner_id != principal.user_id and not _sees_all(principal) \
            and not config.has_fault("owner-check-missing") and not crosses:
        raise not_found
    return document


@bp.get("/documents")
@require(permission="read")
def list_documents() -> Any:
    principal = current()
    query = select(Document).order_by(Document.created_at, Document.id)
    if not (services().config.has_fault("superadmin-any-tenant") and principal.role == "superadmin"):
        query = query.where(Document.tenant == list_tenant(principal))
    if not _sees_all(principal):
        query = query.where(Document.owner_id == principal.user_id)
    return {"documents": [row.as_json() for row in db().scalars(query)]}


@bp.post("/documents")
@require(permission="write")
def create_document() -> Any:
    principal = current()
    body = json_object()
    now = time.time()
    document = Document(id=uuid.uuid4().hex, tenant=principal.tenant, owner_id=principal.user_id,
                        title=_field(body, "title", MAX_TITLE, required=True),
                        body=_field(body, "body", MAX_BODY, required=True), created_at=now, updated_at=now)
    db().add(document)
    db().commit()
    return document.as_json(), 201


@bp.get("/documents/<document_id>")
@require(permission="read")
def get_document(document_id: str) -> Any:
    return _reachable(document_id).as_json()


@bp.put("/documents/<document_id>")
@require(permission="write")
def update_document(document_id: str) -> Any:
    document = _reachable(document_id)
    body = json_object()
    title = _field(body, "title", MAX_TITLE, required=False)
    text = _field(body, "body", MAX_BODY, required=False)
    if title is not None:
        document.title = title
    if text is not None:
        document.body = text
    document.updated_at = time.time()
    db().commit()
    return document.as_json()


@bp.delete("/documents/<document_id>")
@require(permission="delete")
def delete_document(document_id: str) -> Any:
    document = _reachable(document_id)
    db().delete(document)
    db().commit()
    return "", 204
