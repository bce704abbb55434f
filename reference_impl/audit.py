"""The audit log: security events per tenant (never passwords or tokens), readable with the
``audit`` permission."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, request
from sqlalchemy import Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl.bodies import decimal
from reference_impl.db import Base, db
from reference_impl.errors import BadRequest
from reference_impl.openapi import listing, ref
from reference_impl.operations import Operation, route
from reference_impl.role_access import current

bp = Blueprint("audit", __name__)
MAX_EVENTS = 500
LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS}


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[float] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "action": self.action, "actor_id": self.actor_id,
                "subject": self.subject, "detail": json.loads(self.detail or "{}")}


def _limit(text: str | None) -> int:
    """How many events to answer: ``limit`` (1 to MAX_EVENTS), or MAX_EVENTS when it is absent."""
    if text is None:
        return MAX_EVENTS
    count = decimal(text, len(str(MAX_EVENTS)))
    if count is None or not 1 <= count <= MAX_EVENTS:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_EVENTS}")
    return count


def record(tenant: str, action: str, *, actor_id: int | None = None, subject: str = "",
           **detail: Any) -> None:
    """Add an event to the request's database session (the caller commits with its own change)."""
    from reference_impl.rate_limiting import client_ip
    from reference_impl.services import services

    if action.startswith("mfa.") and services().config.has_fault("mfa-not-audited"):
        return  # the bug: the second factor's events never reach the log
    detail.setdefault("ip", client_ip())
    db().add(AuditEvent(tenant=tenant[:64], at=time.time(), action=action, actor_id=actor_id,
                        subject=subject[:200], detail=json.dumps(detail, sort_keys=True)))


def record_now(tenant: str, action: str, **kwargs: Any) -> None:
    record(tenant, action, **kwargs)
    db().commit()


@route(bp, Operation("get", "/audit", "Security events of the caller's tenant, newest first", 200,
                     listing("events", ref("Event")), permission="audit", query_parameters={"limit": LIMIT_SCHEMA},
                     answers={400: f"limit is not a whole number from 1 to {MAX_EVENTS}"}))
def list_events() -> Any:
    principal = current()
    count = _limit(request.args.get("limit"))
    rows = db().scalars(select(AuditEvent).where(AuditEvent.tenant == principal.tenant)
                        .order_by(AuditEvent.id.desc()).limit(count))
    return {"events": [row.as_json() for row in rows]}
