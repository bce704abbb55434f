"""The audit log: security events per tenant (never passwords or tokens), readable with the
``audit`` permission."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, request
from sqlalchemy import Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl.db import Base, db
from reference_impl.role_access import current, require

bp = Blueprint("audit", __name__)
MAX_EVENTS = 500


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


@bp.get("/audit")
@require(permission="audit")
def list_events() -> Any:
    principal = current()
    limit = request.args.get("limit", "")
    count = int(limit) if limit.isdigit() and 0 < int(limit) <= MAX_EVENTS else MAX_EVENTS
    rows = db().scalars(select(AuditEvent).where(AuditEvent.tenant == principal.tenant)
                        .order_by(AuditEvent.id.desc()).limit(count))
    return {"events": [row.as_json() for row in rows]}
