"""Users: the table, /users/me, the tenant-scoped user admin (/users) and ``provision_user``."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, Flask
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from reference_impl import audit
from reference_impl.bodies import decimal, json_object, string_field
from reference_impl.db import Base, db
from reference_impl.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from reference_impl.openapi import ROLE, STRING, listing, obj, ref
from reference_impl.operations import Operation, route
from reference_impl.passwords import MAX_LENGTH, MIN_LENGTH, length_problem
from reference_impl.role_access import ROLES, Principal, current, ensure_permission, level
from reference_impl.services import services
from reference_impl.store import UserRecord
from reference_impl.tenancy import ensure_tenant, list_tenant, valid_tenant

bp = Blueprint("users", __name__)
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
USERNAME_SCHEMA = {"type": "string", "pattern": f"^{USERNAME_PATTERN.pattern}$"}
PASSWORD_SCHEMA = {"type": "string", "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH, "writeOnly": True}
MAX_ROLE_NAME = 32
MAX_ID_DIGITS = 18  # user ids in paths and tokens: at most 18 decimal digits, so they fit a signed 64-bit int
USER_ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10**MAX_ID_DIGITS - 1}
ACCOUNT_GONE = "the access token's user does not exist or is disabled"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant", "username", name="uq_users_tenant_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64), ForeignKey("tenants.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(MAX_ROLE_NAME))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)

    def record(self) -> UserRecord:
        return UserRecord(self.id, self.username, self.role, self.tenant, self.active)


def serialize(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user.id, "username": user.username, "tenant": user.tenant, "role": user.role}
    if services().config.has_fault("hash-in-response"):
        data["password_hash"] = user.password_hash  # the serialiser dumps every column
    if services().config.has_fault("mfa-backup-codes-in-clear"):
        from reference_impl.mfa import stored_codes

        data["backup_codes"] = stored_codes(user.id)  # the bug: the stored codes are the codes
    return data


def valid_username(value: object) -> bool:
    return isinstance(value, str) and USERNAME_PATTERN.fullmatch(value) is not None


def load_user_record(user_id: int) -> UserRecord | None:
    user = db().get(User, user_id)
    return None if user is None else user.record()


def find_user(tenant: str, username: str) -> User | None:
    return db().scalar(select(User).where(User.tenant == tenant, User.username == username))


def check_new_password(password: object) -> str:
    if services().config.has_fault("short-passwords"):
        if not isinstance(password, str) or not password:
            raise BadRequest("password must be a string")
        return password
    problem = length_problem(password)
    if problem:
        raise BadRequest(problem)
    return password  # type: ignore[return-value]


def create_user(*, username: str, password: str, tenant: str, role: str) -> User:
    """Insert a user (tenant created when missing); the caller commits. 409 on a taken username."""
    session = db()
    ensure_tenant(tenant)
    user = User(tenant=tenant, username=username, password_hash=services().passwords.hash(password), role=role,
                active=True, created_at=time.time())
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("that username is taken in this tenant", error="username_taken") from None
    return user


def end_everything(user_id: int, *, keep: str | None = None) -> None:
    """End every session of the user (but ``keep``) in the shared store."""
    svc = services()
    if svc.config.has_fault("revocations-in-process"):
        live = svc.store.list_sessions(user_id, time.time(), None)  # the bug: remembered by this worker only
        svc.local.ended_sessions.update(s.session_id for s in live if s.session_id != keep)
        return
    svc.store.end_user_sessions(user_id, keep=keep)


def remove_user(user: User, actor: Principal) -> None:
    """Delete the user, their documents and notes and every session; their tokens stop working at once.

    The sessions end before the row goes, so a request of the user's that arrives meanwhile is
    refused as it would be after the deletion (401), never answered "user not found". One that was
    already past authentication finds no row, or loses its update, and answers 401 too (see
    ``own_row`` and ``commit_own_change``). The sessions end once more after the commit, for a
    login that read the row just before it went.
    """
    from reference_impl.documents import Document
    from reference_impl.mfa import forget as forget_mfa
    from reference_impl.notes import Note

    svc = services()
    session = db()
    user_id, tenant, username = user.id, user.tenant, user.username
    ends_sessions = not svc.config.has_fault("deleted-user-token-valid")  # the bug: nothing tells the token checks
    if ends_sessions:
        end_everything(user_id)
    session.execute(delete(Document).where(Document.owner_id == user_id))
    session.execute(delete(Note).where(Note.owner_id == user_id))
    forget_mfa(user_id)
    session.delete(user)
    audit.record(tenant, "user.deleted", actor_id=actor.user_id, subject=username)
    session.commit()
    if ends_sessions:
        end_everything(user_id)
        svc.store.drop_user(user_id)


def provision_user(app: Flask, *, username: str, password: str, tenant: str, role: str) -> int:
    """Create a user of any role directly (tests, the create-user command); the tenant is created
    when missing. Returns the user id. ValueError on bad input, Conflict on a taken username."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not valid_username(username):
        raise ValueError("username must be 1-64 characters of A-Z a-z 0-9 _ . @ -")
    if not valid_tenant(tenant):
        raise ValueError("tenant must be 1-64 characters of a-z 0-9 -")
    problem = length_problem(password)
    if problem:
        raise ValueError(problem)
    with app.app_context():
        user = create_user(username=username, password=password, tenant=tenant, role=role)
        db().commit()
        return user.id


# ---------------------------------------------------------------------------- /users/me


@route(bp, Operation("get", "/users/me", "The caller", 200, ref("User")))
def me() -> Any:
    principal = current()
    if services().config.has_fault("hash-in-response"):
        user = db().get(User, principal.user_id)
        if user is not None:
            return serialize(user)
    return {"id": principal.user_id, "username": principal.username, "tenant": principal.tenant,
            "role": principal.role}


def own_row(principal: Principal) -> User:
    """The caller's row. Missing only when the account was deleted while this request was being
    answered: the same 401 as a request that comes after the deletion."""
    user = db().get(User, principal.user_id)
    if user is None:
        raise Unauthorized(ACCOUNT_GONE, token_sent=True)
    return user


def commit_own_change() -> None:
    """Commit a change to the caller's row; 401 when the row was deleted since it was read."""
    try:
        db().commit()
    except StaleDataError:
        db().rollback()
        raise Unauthorized(ACCOUNT_GONE, token_sent=True) from None


@route(bp, Operation(
    "patch", "/users/me", "Change the password (needs the current one); ends the other sessions", 204,
    body=obj(["current_password", "new_password"], current_password=STRING, new_password=PASSWORD_SCHEMA),
    answers={403: "the current password is wrong (invalid_credentials)"}))
def update_me() -> Any:
    svc = services()
    principal = current()
    body = json_object()
    user = own_row(principal)
    changed = False
    if svc.config.has_fault("role-mass-assignment") and isinstance(body.get("role"), str):
        user.role = body["role"]  # the bug: every field of the body copied onto the user
        changed = True
    if "new_password" in body:
        current_password = body.get("current_password")
        # Fault password-change-no-current: the current password verified only when it is sent.
        unverified = current_password is None and svc.config.has_fault("password-change-no-current")
        if not unverified and not isinstance(current_password, str):
            raise BadRequest("current_password is required to change the password")
        new_password = check_new_password(body.get("new_password"))
        if not unverified and not svc.passwords.verify(user.password_hash, str(current_password)):
            audit.record_now(principal.tenant, "password.change_failed", actor_id=principal.user_id,
                             subject=principal.username)
            raise Forbidden("the current password is wrong", error="invalid_credentials")
        user.password_hash = svc.passwords.hash(new_password)
        audit.record(principal.tenant, "password.changed", actor_id=principal.user_id, subject=principal.username)
        commit_own_change()
        if not svc.config.has_fault("password-change-keeps-sessions"):
            end_everything(principal.user_id, keep=principal.session_id)
        changed = True
    if not changed:
        raise BadRequest("nothing to change: send current_password and new_password")
    commit_own_change()
    svc.store.put_user(user.record())
    return "", 204


@route(bp, Operation("delete", "/users/me", "Delete the caller's account", 204))
def delete_me() -> Any:
    principal = current()
    remove_user(own_row(principal), principal)
    return "", 204


# ---------------------------------------------------------------------------- user admin


def _target(user_id: str, tenant: str | None) -> User:
    """The user with this id in ``tenant`` (None: any tenant); 404 otherwise, malformed ids included."""
    number = decimal(user_id, MAX_ID_DIGITS)
    if number is None:
        raise NotFound("user not found")
    user = db().get(User, number)
    if user is None or (tenant is not None and user.tenant != tenant):
        raise NotFound("user not found")
    return user


def _role_value(value: object) -> str:
    if services().config.has_fault("unknown-role-accepted"):
        if isinstance(value, str) and 0 < len(value) <= MAX_ROLE_NAME:
            return value
        raise BadRequest("role must be a string")
    if not isinstance(value, str) or value not in ROLES:
        raise Unprocessable(f"unknown role; roles are {', '.join(ROLES)}", error="unknown_role")
    return value


def _check_grant(actor: Principal, role: str) -> None:
    if level(role) > level(actor.role) and not services().config.has_fault("grant-above-own"):
        raise Forbidden("nobody grants a role above their own")


@route(bp, Operation("get", "/users", "The users of the caller's tenant", 200, listing("users", ref("User")),
                     permission="manage_users"))
def list_users() -> Any:
    tenant = list_tenant(current())
    rows = db().scalars(select(User).where(User.tenant == tenant).order_by(User.id))
    return {"users": [serialize(row) for row in rows]}


@route(bp, Operation(
    "post", "/users", "Create a user in the caller's tenant", 201, ref("UserEnvelope"), permission="manage_users",
    body=obj(["username", "password"], username=USERNAME_SCHEMA, password=PASSWORD_SCHEMA, role=ROLE),
    answers={403: "the new user's role is above the caller's", 409: "the username is taken in this tenant "
             "(username_taken)", 422: "the role is not one of the roles (unknown_role)"},
    links={"ChangeTheRole": ("users.change_role", {"user_id": "$response.body#/user/id"}),
           "DeleteTheUser": ("users.delete_user", {"user_id": "$response.body#/user/id"})}))
def add_user() -> Any:
    actor = current()
    body = json_object()
    username = string_field(body, "username")
    if not valid_username(username):
        raise BadRequest("username must be 1-64 characters of A-Z a-z 0-9 _ . @ -")
    password = check_new_password(body.get("password"))
    role = _role_value(body.get("role", "viewer"))
    _check_grant(actor, role)
    existing = find_user(actor.tenant, str(username))
    if existing is not None and services().config.has_fault("duplicate-usernames"):
        # The bug: create-or-update on the username, so a taken name gets the new password and role.
        existing.password_hash, existing.role = services().passwords.hash(password), role
        db().commit()
        services().store.put_user(existing.record())
        return {"user": serialize(existing)}, 201
    user = create_user(username=str(username), password=password, tenant=actor.tenant, role=role)
    audit.record(actor.tenant, "user.created", actor_id=actor.user_id, subject=user.username, role=role)
    db().commit()
    return {"user": serialize(user)}, 201


def _one_level_up(current_role: str, new_role: str) -> bool:
    """No role lies strictly between the two levels."""
    low, high = level(current_role), level(new_role)
    return not any(low < value < high for value in ROLES.values())


@route(bp, Operation(
    "patch", "/users/{user_id}/role", "Change a user's role (one level up at most, never above one's own)", 200,
    ref("UserEnvelope"), permission="manage_users", permission_in_view=True, body=obj(["role"], role=ROLE),
    path_parameters={"user_id": USER_ID_SCHEMA},
    answers={403: "the caller's own role, a user above the caller, a role above the caller's, or a promotion of "
                  "more than one level", 404: "no user with this id in the caller's tenant",
             422: "the role is not one of the roles (unknown_role)"}))
def change_role(user_id: str) -> Any:
    svc = services()
    config = svc.config
    actor = current()
    body = json_object()
    if config.has_fault("self-promotion") and user_id == str(actor.user_id):
        wanted = body.get("role")
        if isinstance(wanted, str) and wanted in ROLES and level(wanted) > level(actor.role) \
                and _one_level_up(actor.role, wanted):
            return _apply_role(_target(user_id, actor.tenant), wanted, actor)  # the bug: no permission check
    ensure_permission(actor, "manage_users")
    if user_id == str(actor.user_id):
        raise Forbidden("nobody changes their own role")
    target = _target(user_id, None if config.has_fault("cross-tenant-role-change") else actor.tenant)
    role = _role_value(body.get("role"))
    if level(target.role) > level(actor.role):
        raise Forbidden("nobody changes the role of a user above their own role")
    _check_grant(actor, role)
    if level(role) > level(target.role) and not _one_level_up(target.role, role) \
            and not config.has_fault("multi-level-promotion"):
        raise Forbidden("a promotion rises at most one level per change", error="promotion_too_large")
    return _apply_role(target, role, actor)


def _apply_role(target: User, role: str, actor: Principal) -> Any:
    previous = target.role
    target.role = role
    audit.record(target.tenant, "role.changed", actor_id=actor.user_id, subject=target.username,
                 old_role=previous, new_role=role)
    db().commit()
    services().store.put_user(target.record())  # the next request sees the new role
    return {"user": serialize(target)}


@route(bp, Operation(
    "delete", "/users/{user_id}", "Delete a user of the caller's tenant", 204, permission="manage_users",
    path_parameters={"user_id": USER_ID_SCHEMA},
    answers={403: "the user's role is above the caller's", 404: "no user with this id in the caller's tenant"}))
def delete_user(user_id: str) -> Any:
    actor = current()
    target = _target(user_id, actor.tenant)
    if level(target.role) > level(actor.role):
        raise Forbidden("nobody deletes a user above their own role")
    remove_user(target, actor)
    return "", 204
