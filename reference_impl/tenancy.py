"""Tenants. The tenant of a request always comes from the verified token (through the user's
record); headers such as X-Tenant-ID / X-User-ID and query parameters never choose it."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from flask import request
from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl.db import Base, db
from reference_impl.services import services
from reference_impl.store import UserRecord

if TYPE_CHECKING:
    from reference_impl.role_access import Principal

TENANT_PATTERN = re.compile(r"[a-z0-9-]{1,64}")
TENANT_SCHEMA = {"type": "string", "pattern": f"^{TENANT_PATTERN.pattern}$"}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


def valid_tenant(value: object) -> bool:
    return isinstance(value, str) and TENANT_PATTERN.fullmatch(value) is not None


def ensure_tenant(tenant: str) -> Tenant:
    """The tenant row, created when missing (caller commits)."""
    session = db()
    row = session.get(Tenant, tenant)
    if row is None:
        row = Tenant(id=tenant, created_at=time.time())
        session.add(row)
        session.flush()
    return row


def apply_tenant_header(principal: Principal) -> Principal:
    """Fault tenant-from-header: the X-Tenant-ID header switches the tenant (the tenant middleware)."""
    if services().config.has_fault("tenant-from-header"):
        header = request.headers.get("X-Tenant-ID")
        if header:
            return replace(principal, tenant=header)
    return principal


def record_from_identity_headers() -> UserRecord | None:
    """Fault identity-from-headers: X-User-ID / X-Tenant-ID authenticate without a token."""
    from reference_impl.bodies import decimal
    from reference_impl.users import MAX_ID_DIGITS, load_user_record

    user_id = decimal(request.headers.get("X-User-ID", ""), MAX_ID_DIGITS)
    tenant = request.headers.get("X-Tenant-ID", "")
    if user_id is None:
        return None
    record = load_user_record(user_id)
    if record is None or (tenant and record.tenant != tenant):
        return None
    return record


def list_tenant(principal: Principal) -> str:
    """The tenant a listing is filtered by: the caller's, whatever the query string says."""
    if services().config.has_fault("tenant-from-query"):
        asked = request.args.get("tenant")
        if asked:
            return asked
    return principal.tenant
