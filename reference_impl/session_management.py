"""Sign-up, login, refresh (rotation with reuse detection), logout, logout-all and the sessions
list. One login is one session and one refresh family: ending the session ends every token of it.
In cookie mode the tokens travel in HttpOnly cookies and writes need the CSRF header."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, NoReturn

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from reference_impl import audit, mfa, rate_limiting
from reference_impl.bodies import decimal, json_object, string_field
from reference_impl.config import Config
from reference_impl.db import db
from reference_impl.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from reference_impl.openapi import STRING, listing, obj, ref
from reference_impl.operations import Access, Operation, route
from reference_impl.role_access import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE, ROLES, current
from reference_impl.services import services
from reference_impl.store import OnReuse, StoreUnavailable
from reference_impl.tenancy import TENANT_SCHEMA, Tenant, ensure_tenant, valid_tenant
from reference_impl.token_validation import InvalidToken
from reference_impl.tokens import TokenPair, new_jti
from reference_impl.users import (
    MAX_ID_DIGITS,
    PASSWORD_SCHEMA,
    USERNAME_SCHEMA,
    User,
    check_new_password,
    create_user,
    end_everything,
    find_user,
    serialize,
    valid_username,
)

bp = Blueprint("sessions", __name__)
REFRESH_PATH = "/auth/refresh"
MAX_SESSION_ID = 128
LOGIN_FAILED = "invalid username, password or tenant"


def _idle() -> int | None:
    config = services().config
    return None if config.has_fault("no-idle-timeout") else config.idle_timeout


# ---------------------------------------------------------------------------- cookies and answers


def set_token_cookies(response: Response, pair: TokenPair) -> None:
    config = services().config
    secure = httponly = not config.has_fault("cookie-flags-missing")
    same_site = "None" if config.has_fault("cookie-samesite-none") else None
    refresh_path = "/" if config.has_fault("refresh-cookie-any-path") else REFRESH_PATH
    response.set_cookie(ACCESS_COOKIE, pair.access, max_age=pair.expires_in, path="/", secure=secure,
                        httponly=httponly, samesite=same_site or "Lax")
    response.set_cookie(REFRESH_COOKIE, pair.refresh, max_age=config.refresh_ttl, path=refresh_path,
                        secure=secure, httponly=httponly, samesite=same_site or "Strict")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), max_age=config.refresh_ttl, path="/", secure=True,
                        httponly=False, samesite="Lax")


def clear_token_cookies(response: Response) -> None:
    config = services().config
    if not config.cookie_mode or config.has_fault("logout-keeps-cookies"):
        return
    refresh_path = "/" if config.has_fault("refresh-cookie-any-path") else REFRESH_PATH
    for name, path, same_site, httponly in ((ACCESS_COOKIE, "/", "Lax", True),
                                            (REFRESH_COOKIE, refresh_path, "Strict", True),
                                            (CSRF_COOKIE, "/", "Lax", False)):
        response.delete_cookie(name, path=path, secure=True, httponly=httponly, samesite=same_site)


def token_answer(pair: TokenPair, session_id: str) -> Response:
    config = services().config
    data: dict[str, Any] = {"token_type": "Bearer", "expires_in": pair.expires_in, "session_id": session_id}
    if not config.cookie_mode:
        data.update(access_token=pair.access, refresh_token=pair.refresh)
    response = jsonify(data)
    if config.cookie_mode:
        set_token_cookies(response, pair)
    response.headers["Cache-Control"] = "no-store"
    return response


def no_content() -> Response:
    response = Response(status=204)
    clear_token_cookies(response)
    return response


# ---------------------------------------------------------------------------- sign-up and login


def _signup_switch(config: Config) -> dict[int, str]:
    return {} if config.allow_signup else {403: "sign-up is switched off on this server"}


@route(bp, Operation(
    "post", "/auth/register", "Sign up: a new tenant with the caller as its admin", 201, ref("UserEnvelope"),
    access=Access.PUBLIC,
    body=obj(["username", "password", "tenant"], username=USERNAME_SCHEMA, password=PASSWORD_SCHEMA,
             tenant=TENANT_SCHEMA),
    answers={409: "the tenant already exists (tenant_exists)"}, configured_answers=_signup_switch))
def register() -> Any:
    if not services().config.allow_signup:
        raise Forbidden("sign-up is switched off on this server", error="signup_disabled")
    body = json_object()
    username, tenant = string_field(body, "username"), string_field(body, "tenant")
    if not valid_username(username):
        raise BadRequest("username must be 1-64 characters of A-Z a-z 0-9 _ . @ -")
    if not valid_tenant(tenant):
        raise BadRequest("tenant must be 1-64 characters of a-z 0-9 -")
    password = check_new_password(body.get("password"))
    assert username is not None and tenant is not None
    role = "admin"
    if services().config.has_fault("signup-role-accepted") and str(body.get("role")) in ROLES:
        role = body["role"]  # the bug: the body's role copied onto the new user
    session = db()
    if session.get(Tenant, tenant) is not None and not services().config.has_fault("signup-joins-existing-tenant"):
        raise Conflict("that tenant already exists", error="tenant_exists")
    try:
        ensure_tenant(tenant)  # with signup-joins-existing-tenant: the existing tenant, joined as its admin
        user = create_user(username=username, password=password, tenant=tenant, role=role)
        audit.record(tenant, "tenant.created", actor_id=user.id, subject=username)
        session.commit()
    except (IntegrityError, Conflict):
        session.rollback()
        raise Conflict("that tenant already exists", error="tenant_exists") from None
    return {"user": serialize(user)}, 201


def new_session_id(body: dict[str, Any]) -> str:
    svc = services()
    supplied = body.get("session_id")
    if svc.config.has_fault("session-fixation") and isinstance(supplied, str) and 0 < len(supplied) <= MAX_SESSION_ID:
        return supplied  # the bug: the client's session id adopted
    if svc.config.has_fault("predictable-session-id"):
        return f"session-{next(svc.local.session_counter)}"
    return secrets.token_urlsafe(32)


def _login_failed(user: User | None, tenant: str, username: str) -> NoReturn:
    config = services().config
    if valid_tenant(tenant):
        audit.record_now(tenant, "login.failed", subject=username[:64])
    if config.has_fault("enumeration-status") and user is None:
        raise NotFound("no such user", error="user_not_found")
    message = LOGIN_FAILED
    if config.has_fault("enumeration-message"):
        message = "no such user" if user is None else "wrong password"
    raise Unauthorized(message, token_sent=False, error="invalid_credentials")


def _open_session(user: User, session_id: str, refresh_jti: str, now: float) -> None:
    svc = services()
    config = svc.config
    max_sessions: int | None = config.max_sessions
    if config.has_fault("no-session-limit"):
        max_sessions = None
    elif config.has_fault("evict-newest"):
        live = svc.store.list_sessions(user.id, now, _idle())
        if len(live) >= config.max_sessions:
            svc.store.end_session(live[-1].session_id)  # the bug: the newest makes room
        max_sessions = None
    absolute = None if config.has_fault("no-absolute-timeout") else config.absolute_timeout
    svc.store.create_session(user_id=user.id, session_id=session_id, now=now, max_sessions=max_sessions,
                             idle_timeout=_idle(), absolute_timeout=absolute, refresh_jti=refresh_jti)


@route(bp, Operation(
    "post", "/auth/login", "Log in; opens a session", 200, ref("Tokens"), access=Access.PUBLIC,
    body=obj(["username", "password", "tenant"], username=STRING, password=STRING, tenant=STRING),
    answers={401: "invalid username, password or tenant", 429: "too many login attempts (see Retry-After)"}))
def login() -> Any:
    svc = services()
    config = svc.config
    body = json_object()
    username, password, tenant = body.get("username"), body.get("password"), body.get("tenant")
    if not all(isinstance(value, str) for value in (username, password, tenant)):
        raise BadRequest("username, password and tenant must be strings")
    assert isinstance(username, str) and isinstance(password, str) and isinstance(tenant, str)
    rate_limiting.check_login(tenant, username)
    user = find_user(tenant, username) if valid_tenant(tenant) and valid_username(username) else None
    if user is None and config.has_fault("enumeration-timing"):
        ok = False  # the bug: no dummy hash, so unknown users answer faster
    else:
        ok = svc.passwords.verify(user.password_hash if user is not None else None, password)
    if not ok or user is None or not user.active:
        _login_failed(user, tenant, username)
    now = time.time()
    session_id = new_session_id(body)
    challenge = mfa.challenge(user.id, user.tenant, session_id, now) if mfa.enabled_for(user.id) else None
    if challenge is not None:
        audit.record_now(user.tenant, "mfa.challenge_issued", actor_id=user.id, subject=user.username)
        if not config.has_fault("mfa-password-step-tokens"):
            return challenge  # the session opens at /auth/mfa/verify
    refresh_jti = new_jti()
    _open_session(user, session_id, refresh_jti, now)
    try:
        svc.store.put_user(user.record())
        pair = svc.issuer.pair(user_id=user.id, role=user.role, tenant=user.tenant, session_id=session_id, now=now,
                               refresh_jti=refresh_jti)
        audit.record_now(user.tenant, "login", actor_id=user.id, subject=user.username)
    except Exception:
        _abandon_session(session_id)  # no tokens went out: the session must not count or evict others
        raise
    response = token_answer(pair, session_id)
    if challenge is not None:  # fault mfa-password-step-tokens: the pair goes out with the challenge
        response.set_data(json.dumps({**challenge, **response.get_json()}))
    return response


def _abandon_session(session_id: str) -> None:
    try:
        services().store.end_session(session_id)
    except StoreUnavailable:
        pass  # nobody holds a token of it; it ends with its idle timeout


# ---------------------------------------------------------------------------- refresh


def _presented_refresh_token() -> str | None:
    data = request.get_json(silent=True) if request.data else None
    if isinstance(data, dict) and "refresh_token" in data:
        token = data["refresh_token"]
        if not isinstance(token, str):
            raise BadRequest("refresh_token must be a string")
        return token
    if request.data and not isinstance(data, dict) and not services().config.cookie_mode:
        raise BadRequest("the body must be a JSON object with refresh_token")
    if services().config.cookie_mode:
        return request.cookies.get(REFRESH_COOKIE) or None
    return None


@route(bp, Operation(
    "post", REFRESH_PATH, "Rotate the refresh token; reuse of an old one ends the session", 200, ref("Tokens"),
    access=Access.PUBLIC, body=obj([], refresh_token=STRING), body_required=False,
    answers={401: "no refresh token (in the body, or the refresh cookie in cookie mode), or one that is invalid, "
                  "reused, or whose session or account has ended"}))
def refresh() -> Any:
    svc = services()
    config = svc.config
    token = _presented_refresh_token()
    if not token:
        raise Unauthorized("a refresh token is required", token_sent=False)
    try:
        claims = svc.verifier.verify(token, "refresh")
    except InvalidToken:
        raise Unauthorized("the refresh token is invalid", token_sent=True) from None
    user_id, session_id, jti = int(claims["sub"]), str(claims["sid"]), str(claims.get("jti", ""))
    user = db().get(User, user_id)
    if user is None or not user.active or user.tenant != claims["tid"]:
        raise Unauthorized("the refresh token's user does not exist or is disabled", token_sent=True)
    if config.has_fault("revocations-in-process") and session_id in svc.local.ended_sessions:
        raise Unauthorized("the session has ended", token_sent=True)
    on_reuse: OnReuse = "end"
    if config.has_fault("refresh-reuse-accepted") or (
            config.has_fault("access-as-refresh") and claims.get("type") == "access"):
        on_reuse = "accept"  # the bug: a stale (or wrong kind of) token still refreshes
    elif config.has_fault("reuse-no-family-revoke"):
        on_reuse = "refuse"
    now = time.time()
    rotate = not config.has_fault("refresh-no-rotation")
    fresh_jti = new_jti() if rotate else jti
    result = svc.store.rotate_refresh(session_id=session_id, user_id=user_id, presented_jti=jti, new_jti=fresh_jti,
                                      now=now, idle_timeout=_idle(), on_reuse=on_reuse)
    if result == "unknown":
        raise Unauthorized("the session of this refresh token has ended", token_sent=True)
    if result == "reused" and on_reuse != "accept":
        audit.record_now(user.tenant, "refresh.reuse_detected", actor_id=user.id, subject=user.username,
                         family_revoked=on_reuse == "end")
        raise Unauthorized("this refresh token was already used; the session has ended", token_sent=True)
    svc.store.put_user(user.record())
    pair = svc.issuer.pair(user_id=user.id, role=user.role, tenant=user.tenant, session_id=session_id, now=now,
                           refresh_jti=fresh_jti)
    if not rotate:
        pair = TokenPair(pair.access, token, pair.access_jti, jti, pair.expires_in)  # the same refresh token again
    return token_answer(pair, session_id)


# ---------------------------------------------------------------------------- logout and sessions


@route(bp, Operation("post", "/auth/logout", "End the current session and revoke the access token", 204))
def logout() -> Any:
    svc = services()
    config = svc.config
    principal = current()
    if config.has_fault("logout-client-side-only"):
        return no_content()  # the bug: the server forgets nothing
    now = time.time()
    if config.has_fault("revocations-in-process"):
        svc.local.revoked_jtis.add(principal.jti)  # the bug: this worker's memory only
        svc.local.ended_sessions.add(principal.session_id)
    else:
        svc.store.revoke_jti(principal.jti, principal.expires_at + config.leeway, now)
        if not config.has_fault("logout-keeps-refresh"):
            svc.store.end_session(principal.session_id)
    audit.record_now(principal.tenant, "logout", actor_id=principal.user_id, subject=principal.username)
    return no_content()


@route(bp, Operation("post", "/auth/logout-all", "End every session of the user", 204))
def logout_all() -> Any:
    svc = services()
    config = svc.config
    principal = current()
    now = time.time()
    if config.has_fault("logout-all-current-only"):
        svc.store.end_session(principal.session_id)  # the bug: only the calling session
    else:
        end_everything(principal.user_id)
    svc.store.revoke_jti(principal.jti, principal.expires_at + config.leeway, now)
    audit.record_now(principal.tenant, "logout.all", actor_id=principal.user_id, subject=principal.username)
    return no_content()


@route(bp, Operation("get", "/auth/sessions", "The caller's live sessions", 200,
                     listing("sessions", ref("Session")),
                     links={"EndTheFirst": ("sessions.end_one_session",
                                            {"session_id": "$response.body#/sessions/0/id"})}))
def list_sessions() -> Any:
    svc = services()
    principal = current()
    now = time.time()
    user_ids = [principal.user_id]
    if svc.config.has_fault("sessions-list-all-users"):
        user_ids = list(db().scalars(select(User.id)))  # the bug: no filter on the user
    sessions = [info for uid in user_ids for info in svc.store.list_sessions(uid, now, _idle())]
    return {"sessions": [{"id": info.session_id, "created_at": info.created_at, "last_seen_at": info.last_seen_at,
                          "current": info.session_id == principal.session_id} for info in sessions]}


@route(bp, Operation(
    "delete", "/auth/sessions/{session_id}", "End one of the caller's sessions", 204,
    path_parameters={"session_id": {"type": "string", "minLength": 1, "maxLength": MAX_SESSION_ID}},
    answers={404: "the caller has no live session with this id"}))
def end_one_session(session_id: str) -> Any:
    svc = services()
    principal = current()
    info = svc.store.get_session(session_id) if len(session_id) <= MAX_SESSION_ID else None
    if info is None or info.user_id != principal.user_id:
        raise NotFound("session not found")
    if svc.config.has_fault("session-delete-noop"):
        return "", 204  # the bug: answers as if it worked
    svc.store.end_session(session_id)
    audit.record_now(principal.tenant, "session.ended", actor_id=principal.user_id, subject=principal.username)
    response = Response(status=204)
    if session_id == principal.session_id:
        clear_token_cookies(response)
    return response


def debug_token() -> Any:
    """Fault test-token-route only: mints tokens for any user id, no credentials (the tenant middleware)."""
    svc = services()
    user_id = decimal(request.args.get("user_id", ""), MAX_ID_DIGITS)
    user = db().get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("user not found")
    now = time.time()
    session_id, refresh_jti = secrets.token_urlsafe(32), new_jti()
    _open_session(user, session_id, refresh_jti, now)
    pair = svc.issuer.pair(user_id=user.id, role=user.role, tenant=user.tenant, session_id=session_id, now=now,
                           refresh_jti=refresh_jti)
    return {"access_token": pair.access, "refresh_token": pair.refresh, "token_type": "Bearer",
            "expires_in": pair.expires_in, "session_id": session_id}
