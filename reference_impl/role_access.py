"""Who is calling, and may they: token extraction, the one authenticate round trip, the roles
table, and the ``require`` / ``require_role`` guards. 401 when the token is missing or invalid,
403 when the (server-side, current) role has too little privilege."""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import jwt
from flask import g, request

from reference_impl import rate_limiting, tenancy
from reference_impl.errors import Forbidden, Unauthorized
from reference_impl.services import services
from reference_impl.store import AuthState, StoreUnavailable, UserRecord
from reference_impl.token_validation import InvalidToken

ROLES: dict[str, int] = {"viewer": 10, "editor": 20, "admin": 30, "superadmin": 40}
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "delete", "manage_users"}),
    "superadmin": frozenset({"read", "write", "delete", "manage_users", "manage_roles", "audit"}),
}
ROLE_ORDER = sorted(ROLES, key=ROLES.__getitem__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE = "access_token", "refresh_token", "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The blueprint whose own token decorator fault admin-blueprint-unverified stands for.
UNVERIFIED_BLUEPRINT = "admin"

log = logging.getLogger("reference_impl")
F = TypeVar("F", bound=Callable[..., Any])


def level(role: str) -> int:
    return ROLES.get(role, 0)


def has_permission(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    tenant: str
    role: str
    session_id: str
    jti: str
    expires_at: float
    via_cookie: bool = False


def current() -> Principal:
    principal: Principal = g.authconform_principal
    return principal


def extract_token() -> tuple[str | None, bool]:
    """(token, came from the cookie). Only the Authorization header, or the access cookie in cookie mode."""
    config = services().config
    header = request.headers.get("Authorization")
    if header is not None:
        if config.has_fault("crash-on-malformed-header"):
            token = header.split(" ", 1)[1]  # the bug: assumes "<scheme> <token>"
            return token, False
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise Unauthorized("the Authorization header must be 'Bearer <token>'", token_sent=True)
        return parts[1], False
    if config.has_fault("token-in-query") and "access_token" in request.args:
        return request.args["access_token"], False
    if config.cookie_mode:
        cookie = request.cookies.get(ACCESS_COOKIE)
        if cookie:
            return cookie, True
    return None, False


def check_csrf() -> None:
    """Double submit: the X-CSRF-Token header must equal the csrf_token cookie."""
    if services().config.has_fault("csrf-not-checked"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise Forbidden("a cookie-authenticated change needs the X-CSRF-Token header", error="csrf_failed")


def user_record(user_id: int) -> UserRecord | None:
    """The user's current record from the database (the store's cache missed)."""
    from reference_impl.users import load_user_record

    return load_user_record(user_id)


def authenticate() -> Principal:
    """Authenticate the request or raise; sets the principal on ``g``. One store round trip."""
    existing: Principal | None = g.get("authconform_principal")
    if existing is not None:
        return existing
    svc = services()
    config = svc.config
    if config.has_fault("identity-from-headers"):
        spoofed = tenancy.record_from_identity_headers()
        if spoofed is not None:
            g.authconform_principal = Principal(spoofed.user_id, spoofed.username, spoofed.tenant, spoofed.role,
                                                "", "", time.time() + 60)
            return current()
    token, via_cookie = extract_token()
    if token is None:
        if config.has_fault("forbidden-for-anonymous"):
            raise Forbidden("authentication required")
        raise Unauthorized("an access token is required", token_sent=False)
    try:
        if config.has_fault("admin-blueprint-unverified") and request.blueprint == UNVERIFIED_BLUEPRINT:
            claims = _unverified_claims(token)  # the bug: the console's own decorator verifies nothing
        else:
            claims = svc.verifier.verify(token, "access")
    except InvalidToken as exc:
        lenient = _challenge_as_access(token) if config.has_fault("mfa-challenge-as-access") else None
        if lenient is None:
            log.info("token refused: %s", exc)
            raise Unauthorized("the access token is invalid", token_sent=True) from None
        claims = lenient  # the bug: an MFA challenge token authenticates like an access token
    if via_cookie and request.method in STATE_CHANGING:
        check_csrf()
    user_id, jti, session_id = int(claims["sub"]), str(claims.get("jti", "")), str(claims["sid"])
    # A challenge token reaches this point only through fault mfa-challenge-as-access; it names no live session.
    unbound = config.has_fault("sessions-not-bound") or claims["type"] == "mfa"
    now = time.time()
    try:
        state = svc.store.authenticate(
            jti=jti, session_id=None if unbound else session_id,
            user_id=user_id, now=now, idle_timeout=None if config.has_fault("no-idle-timeout") else config.idle_timeout,
            rate=rate_limiting.api_rate_request(user_id))
    except StoreUnavailable:
        if not config.has_fault("fail-open-store"):
            raise
        state = AuthState("ok", None, None)  # the bug: store errors swallowed, the token trusted
    if config.has_fault("revocations-in-process") and (
            jti in svc.local.revoked_jtis or session_id in svc.local.ended_sessions):
        state = AuthState("revoked", None, None)
    if not state.ok:
        raise Unauthorized(f"the access token is no longer valid ({state.status})", token_sent=True)
    user = state.user
    if user is None:
        user = user_record(user_id)
        if user is not None:
            try:
                svc.store.put_user(user)
            except StoreUnavailable:
                if not config.has_fault("fail-open-store"):
                    raise
    if user is None or not user.active or user.tenant != claims["tid"]:
        raise Unauthorized("the access token's user does not exist or is disabled", token_sent=True)
    role = claims["role"] if config.has_fault("role-from-token") else user.role
    principal = Principal(user_id, user.username, user.tenant, str(role), session_id, jti,
                          float(claims.get("exp", now)), via_cookie)
    rate_limiting.enforce_api(user_id, state.rate)
    if config.has_condition("single-use-access-tokens") or config.has_fault("access-token-single-use"):
        svc.store.revoke_jti(jti, until=float(claims.get("exp", now)), now=now)  # accepted this once
    g.authconform_principal = tenancy.apply_tenant_header(principal)
    return current()


def _unverified_claims(token: str) -> dict[str, Any]:
    """Fault admin-blueprint-unverified: jwt.decode(token, options={"verify_signature": False}) in the
    admin console's own decorator: no signature, algorithm, expiry, audience or type is checked."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc) or type(exc).__name__) from None
    if not all(isinstance(claims.get(name), str) for name in ("sub", "sid", "tid")) or not claims["sub"].isdigit():
        raise InvalidToken("the claims name no user, session or tenant")
    return {**claims, "type": "access"}


def _challenge_as_access(token: str) -> dict[str, Any] | None:
    from reference_impl.mfa import challenge_as_access

    return challenge_as_access(token)


def _permitted(role: str, permission: str) -> bool:
    config = services().config
    if permission == "manage_users" and config.has_fault("editor-manages-users"):
        return level(role) >= ROLES["editor"]  # a minimum level where the permission was meant
    if permission == "audit" and config.has_fault("audit-for-admins"):
        return level(role) >= ROLES["admin"]
    if permission == "write" and config.has_fault("viewer-can-write"):
        return True  # any valid token writes
    return has_permission(role, permission)


def ensure_permission(principal: Principal, permission: str) -> None:
    if not _permitted(principal.role, permission):
        raise Forbidden(f"this needs the {permission} permission, which the role {principal.role} lacks")


def require(permission: str | None = None) -> Callable[[F], F]:
    """Authenticate, then demand ``permission`` (None: any authenticated user)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if permission is not None:
                ensure_permission(principal, permission)
            return view(*args, **kwargs)

        wrapper.authconform_permission = permission or ""  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def require_role(role: str) -> Callable[[F], F]:
    """Authenticate, then demand at least ``role``'s level."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if level(principal.role) < ROLES[role]:
                raise Forbidden(f"this needs the role {role} or above")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def with_tenant(principal: Principal, tenant: str) -> Principal:
    return replace(principal, tenant=tenant)
