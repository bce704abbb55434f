"""Multi-factor authentication (contract section 9): TOTP (RFC 6238) enrolment, the two-step
login, backup codes and disabling.

With MFA on, the password step answers only a challenge token (``type="mfa"``, short-lived,
naming the session the login will open); ``/auth/mfa/verify`` trades it and a code for the token
pair. A code is accepted within one step either side and once: the last step a user spent is kept
in the shared store. A challenge is spent by its first success. Backup codes are argon2id hashes.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

import pyotp
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from reference_impl import audit, rate_limiting
from reference_impl.bodies import json_object
from reference_impl.db import Base, db
from reference_impl.errors import BadRequest, Conflict, Forbidden, Unauthorized
from reference_impl.openapi import INTEGER, STRING, obj, ref
from reference_impl.operations import Access, Operation, route
from reference_impl.role_access import Principal, current
from reference_impl.services import services
from reference_impl.store import RateDecision
from reference_impl.token_validation import InvalidToken
from reference_impl.tokens import new_jti

bp = Blueprint("mfa", __name__)
BOOLEAN = {"type": "boolean"}
CODE_LIST = {"type": "array", "items": STRING}
TOTP_STEP, TOTP_DIGITS, TOTP_WINDOW = 30, 6, 1  # RFC 6238 defaults: SHA-1, 6 digits, 30 s; one step either side
# Fault mfa-wide-window: codes from ten minutes either side accepted.
WIDE_WINDOW = 20
BACKUP_CODE_BYTES = 5  # 10 hex digits, shown as two groups of five
MAX_CODE_LENGTH = 32
CODE_FAILED = "the code is not valid"


class MfaFactor(Base):
    """A user's TOTP secret: ``pending_secret`` between setup and confirm, ``secret`` once enabled."""

    __tablename__ = "mfa_factors"

    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pending_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class BackupCode(Base):
    __tablename__ = "mfa_backup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(255))  # argon2id (in clear only with a fault)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


def _factor(user_id: int) -> MfaFactor | None:
    return db().get(MfaFactor, user_id)


def enabled_for(user_id: int) -> bool:
    factor = _factor(user_id)
    return factor is not None and factor.enabled and factor.secret is not None


def forget(user_id: int) -> None:
    """Drop the user's factor and backup codes (account deletion); the caller commits."""
    session = db()
    session.execute(delete(BackupCode).where(BackupCode.user_id == user_id))
    session.execute(delete(MfaFactor).where(MfaFactor.user_id == user_id))


def stored_codes(user_id: int) -> list[str]:
    """What the backup-code table holds for the user (fault mfa-backup-codes-in-clear only)."""
    return [row.digest for row in db().scalars(select(BackupCode).where(BackupCode.user_id == user_id))]


# ---------------------------------------------------------------------------- codes


CODE = {"type": "string", "minLength": 1, "maxLength": MAX_CODE_LENGTH}
PROOF = obj([], code=CODE, password=STRING)


def _code_field(body: dict[str, Any], name: str = "code") -> str | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CODE_LENGTH:
        raise BadRequest(f"{name} must be a short string")
    return value.strip().replace(" ", "")


def _proof(body: dict[str, Any], *required: str) -> dict[str, Any]:
    """The body's code and password checked against the route's schema before any state is read, so a
    malformed request is a 400 whatever the account's MFA state."""
    for name in required:
        if name not in body:
            raise BadRequest(f"{name} is required")
    _code_field(body)
    if "password" in body and not isinstance(body["password"], str):
        raise BadRequest("password must be a string")
    return body


def _is_totp(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isdigit()


def totp_step(secret: str, code: str, now: float) -> int | None:
    """The step (within the window) whose code this is, or None."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    window = WIDE_WINDOW if services().config.has_fault("mfa-wide-window") else TOTP_WINDOW
    current_step = int(now // TOTP_STEP)
    for step in range(current_step - window, current_step + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user_id: int, step: int, now: float) -> bool:
    """A code's step is used once per user: this step must be above the last one spent."""
    if services().config.has_fault("mfa-code-replay"):
        return True
    until = now + (TOTP_WINDOW + 1) * TOTP_STEP
    return services().store.advance(f"totp-step:{user_id}", step, until, now)


def check_totp(user_id: int, secret: str, code: str | None, now: float) -> bool:
    if code is None or not _is_totp(code):
        return False
    step = totp_step(secret, code, now)
    return step is not None and _spend_step(user_id, step, now)


def _use_backup_code(user_id: int, code: str, now: float) -> bool:
    svc = services()
    config = svc.config
    rows = db().scalars(select(BackupCode).where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None)))
    normalised = code.lower()
    for row in rows:
        if config.has_fault("mfa-backup-codes-in-clear"):
            matches = hmac.compare_digest(row.digest, normalised)
        else:
            matches = svc.passwords.verify(row.digest, normalised)
        if matches:
            if not config.has_fault("mfa-backup-code-reusable"):
                row.used_at = now
            return True
    return False


def check_second_factor(user_id: int, secret: str, code: str | None, now: float) -> tuple[bool, str]:
    """(accepted, "totp" or "backup"): a 6-digit code is TOTP, anything else a backup code."""
    if code is None:
        return False, "totp"
    if _is_totp(code):
        return check_totp(user_id, secret, code, now), "totp"
    return _use_backup_code(user_id, code, now), "backup"


def _new_backup_codes(user_id: int) -> list[str]:
    """Replace the user's whole set of backup codes; the caller commits. Returns them in clear, once."""
    svc = services()
    db().execute(delete(BackupCode).where(BackupCode.user_id == user_id))
    codes = []
    for _ in range(svc.config.mfa_backup_codes):
        raw = secrets.token_hex(BACKUP_CODE_BYTES)
        code = f"{raw[:5]}-{raw[5:]}"
        digest = code if svc.config.has_fault("mfa-backup-codes-in-clear") else svc.passwords.hash(code)
        db().add(BackupCode(user_id=user_id, digest=digest))
        codes.append(code)
    return codes


def _password_ok(principal: Principal, password: object) -> bool:
    from reference_impl.users import User

    user = db().get(User, principal.user_id)
    return isinstance(password, str) and user is not None and services().passwords.verify(user.password_hash,
                                                                                          password)


def _recent_proof(principal: Principal, factor: MfaFactor, body: dict[str, Any], now: float) -> bool:
    """A current code, or the password: what a change to an enabled factor needs."""
    code = _code_field(body)
    if code is not None and factor.secret is not None and check_totp(principal.user_id, factor.secret, code, now):
        return True
    return "password" in body and _password_ok(principal, body.get("password"))


# ---------------------------------------------------------------------------- enrolment


@route(bp, Operation(
    "post", "/auth/mfa/setup", "Start TOTP enrolment: a fresh secret and its otpauth URI", 200,
    obj(["secret", "otpauth_uri"], secret=STRING, otpauth_uri=STRING, digits=INTEGER, period=INTEGER),
    body=PROOF, body_required=False,
    answers={403: "MFA is on and neither a current code nor the password came along (mfa_proof_required)"}))
def setup() -> ResponseReturnValue:
    svc = services()
    principal = current()
    body = _proof(json_object() if request.data else {})
    now = time.time()
    factor = _factor(principal.user_id)
    if factor is not None and factor.enabled and not svc.config.has_fault("mfa-reenrol-unguarded") \
            and not _recent_proof(principal, factor, body, now):
        audit.record_now(principal.tenant, "mfa.setup_refused", actor_id=principal.user_id,
                         subject=principal.username)
        raise Forbidden("MFA is on: setting it up again needs a current code or the password",
                        error="mfa_proof_required")
    if factor is None:
        factor = MfaFactor(user_id=principal.user_id, enabled=False)
        db().add(factor)
    factor.pending_secret = pyotp.random_base32()
    uri = pyotp.TOTP(factor.pending_secret, digits=TOTP_DIGITS, interval=TOTP_STEP).provisioning_uri(
        name=f"{principal.username}@{principal.tenant}", issuer_name=svc.config.issuer)
    audit.record(principal.tenant, "mfa.setup", actor_id=principal.user_id, subject=principal.username)
    db().commit()
    response = jsonify({"secret": factor.pending_secret, "otpauth_uri": uri, "digits": TOTP_DIGITS,
                        "period": TOTP_STEP})
    response.headers["Cache-Control"] = "no-store"
    return response


@route(bp, Operation(
    "post", "/auth/mfa/confirm", "Switch MFA on with a valid code; answers the backup codes, once", 200,
    obj(["mfa_enabled", "backup_codes"], mfa_enabled=BOOLEAN, backup_codes=CODE_LIST),
    body=obj(["code"], code=CODE),
    answers={403: "the code is not valid (invalid_code)",
             409: "no setup waits for confirmation (mfa_not_set_up)"}))
def confirm() -> ResponseReturnValue:
    principal = current()
    code = _code_field(_proof(json_object(), "code"))
    now = time.time()
    factor = _factor(principal.user_id)
    if factor is None or factor.pending_secret is None:
        raise Conflict("no MFA setup is waiting for confirmation: call setup first", error="mfa_not_set_up")
    if not check_totp(principal.user_id, factor.pending_secret, code, now):
        audit.record_now(principal.tenant, "mfa.confirm_failed", actor_id=principal.user_id,
                         subject=principal.username)
        raise Forbidden(CODE_FAILED, error="invalid_code")
    factor.secret, factor.pending_secret, factor.enabled, factor.enabled_at = factor.pending_secret, None, True, now
    codes = _new_backup_codes(principal.user_id)
    audit.record(principal.tenant, "mfa.enabled", actor_id=principal.user_id, subject=principal.username)
    db().commit()
    response = jsonify({"mfa_enabled": True, "backup_codes": codes})
    response.headers["Cache-Control"] = "no-store"
    return response


@route(bp, Operation(
    "post", "/auth/mfa/backup-codes", "Replace the whole set of backup codes", 200,
    obj(["backup_codes"], backup_codes=CODE_LIST), body=PROOF, body_required=False,
    answers={403: "neither a current code nor the password came along (mfa_proof_required)",
             409: "MFA is not on (mfa_not_enabled)"}))
def regenerate_backup_codes() -> ResponseReturnValue:
    principal = current()
    body = _proof(json_object() if request.data else {})
    factor = _factor(principal.user_id)
    if factor is None or not factor.enabled:
        raise Conflict("MFA is not on for this account", error="mfa_not_enabled")
    if not _recent_proof(principal, factor, body, time.time()):
        raise Forbidden("new backup codes need a current code or the password", error="mfa_proof_required")
    codes = _new_backup_codes(principal.user_id)
    audit.record(principal.tenant, "mfa.backup_codes_regenerated", actor_id=principal.user_id,
                 subject=principal.username)
    db().commit()
    response = jsonify({"backup_codes": codes})
    response.headers["Cache-Control"] = "no-store"
    return response


@route(bp, Operation(
    "post", "/auth/mfa/disable", "Switch MFA off (password and a current code); ends the other sessions", 200,
    obj(["mfa_enabled"], mfa_enabled=BOOLEAN), body=PROOF,
    answers={403: "the password or the code is missing or wrong (mfa_proof_required)",
             409: "MFA is not on (mfa_not_enabled)"}))
def disable() -> ResponseReturnValue:
    from reference_impl.users import end_everything

    svc = services()
    principal = current()
    body = _proof(json_object())
    now = time.time()
    factor = _factor(principal.user_id)
    if factor is None or not factor.enabled or factor.secret is None:
        raise Conflict("MFA is not on for this account", error="mfa_not_enabled")
    password_ok = _password_ok(principal, body.get("password"))
    code_ok = svc.config.has_fault("mfa-disable-without-code") or \
        check_second_factor(principal.user_id, factor.secret, _code_field(body), now)[0]
    if not (password_ok and code_ok):
        audit.record_now(principal.tenant, "mfa.disable_refused", actor_id=principal.user_id,
                         subject=principal.username)
        raise Forbidden("turning MFA off needs the password and a current code", error="mfa_proof_required")
    forget(principal.user_id)
    audit.record(principal.tenant, "mfa.disabled", actor_id=principal.user_id, subject=principal.username)
    db().commit()
    end_everything(principal.user_id, keep=principal.session_id)
    return {"mfa_enabled": False}


# ---------------------------------------------------------------------------- the two-step login


def challenge(user_id: int, tenant: str, session_id: str, now: float) -> dict[str, Any]:
    """The password step's answer with MFA on: a challenge token for this attempt, no tokens."""
    svc = services()
    issued = int(now)
    token = svc.issuer.encode({
        "sub": str(user_id), "tid": tenant, "sid": session_id, "type": "mfa", "jti": new_jti(), "iat": issued,
        "nbf": issued, "exp": issued + svc.config.mfa_challenge_ttl, "iss": svc.config.issuer,
        "aud": svc.config.audience})
    return {"mfa_required": True, "mfa_token": token, "expires_in": svc.config.mfa_challenge_ttl}


def challenge_as_access(token: str) -> dict[str, Any] | None:
    """Fault mfa-challenge-as-access: the claims of a challenge token, for the access-token check."""
    try:
        return services().verifier.verify(token, "mfa")
    except InvalidToken:
        return None


def _account_spent(user_id: int, now: float) -> RateDecision | None:
    """The per-account failure window, when it is full (peeked at before a code is tried)."""
    config = services().config
    window = services().store.read_window(f"mfa-fail:{user_id}")
    if window is None:
        return None
    start, count = window
    if now >= start + config.mfa_attempt_window or count < config.mfa_attempt_limit:
        return None
    return RateDecision(False, config.mfa_attempt_limit, 0, start + config.mfa_attempt_window - now)


def _code_owner(claims: dict[str, Any]) -> int:
    """Whose code a verify must carry: the challenge's user. Fault mfa-challenge-unbound: the
    route doubles as step-up, so a caller's bearer token decides instead."""
    if services().config.has_fault("mfa-challenge-unbound") and request.headers.get("Authorization"):
        from reference_impl.role_access import authenticate

        try:
            return authenticate().user_id
        except Unauthorized:
            pass
    return int(claims["sub"])


@route(bp, Operation(
    "post", "/auth/mfa/verify",
    "Second step of a login: the challenge and a code (or a backup code) answer the token pair",
    200, ref("Tokens"), access=Access.PUBLIC, body=obj(["mfa_token", "code"], mfa_token=STRING, code=CODE),
    answers={401: "the challenge is missing, invalid, expired or spent, or the code is wrong (invalid_code)",
             429: "too many attempts on this challenge or this account (see Retry-After)"}))
def verify() -> ResponseReturnValue:
    from reference_impl.session_management import _open_session, token_answer
    from reference_impl.users import User

    svc = services()
    config = svc.config
    body = json_object()
    token, code = body.get("mfa_token"), _code_field(body)
    if not isinstance(token, str) or not token:
        raise Unauthorized("an mfa_token from the password step is required", token_sent=False)
    try:
        claims = svc.verifier.verify(token, "mfa")
    except InvalidToken:
        raise Unauthorized("the mfa_token is invalid", token_sent=True) from None
    user = db().get(User, int(claims["sub"]))
    if user is None or not user.active or user.tenant != claims["tid"]:
        raise Unauthorized("the mfa_token's user does not exist or is disabled", token_sent=True)
    now = time.time()
    jti = str(claims["jti"])
    if not config.has_fault("mfa-no-attempt-limit"):
        spent = _account_spent(user.id, now)
        if spent is not None:
            rate_limiting.refuse_if_over(spent, "too many wrong codes for this account; try again later")
        per_challenge = rate_limiting.hit(f"mfa-challenge:{jti}", config.mfa_attempt_limit,
                                          config.mfa_attempt_window)
        rate_limiting.refuse_if_over(per_challenge, "too many attempts with this challenge; log in again")
    owner = _code_owner(claims)
    factor = _factor(owner)
    accepted, kind = False, "totp"
    if factor is not None and factor.enabled and factor.secret is not None:
        accepted, kind = check_second_factor(owner, factor.secret, code, now)
    if not accepted:
        if not config.has_fault("mfa-no-attempt-limit"):
            svc.store.hit(f"mfa-fail:{user.id}", config.mfa_attempt_limit, config.mfa_attempt_window, now)
        audit.record_now(user.tenant, "mfa.verify_failed", actor_id=user.id, subject=user.username)
        raise Unauthorized(CODE_FAILED, token_sent=True, error="invalid_code")
    if not config.has_fault("mfa-challenge-reusable") and not svc.store.claim(f"mfa-challenge:{jti}",
                                                                                float(claims["exp"]), now):
        db().rollback()  # a backup code marked used by this refused attempt stays unused
        audit.record_now(user.tenant, "mfa.challenge_reused", actor_id=user.id, subject=user.username)
        raise Unauthorized("this mfa_token was already used; log in again", token_sent=True)
    session_id, refresh_jti = str(claims["sid"]), new_jti()
    _open_session(user, session_id, refresh_jti, now)
    svc.store.put_user(user.record())
    pair = svc.issuer.pair(user_id=user.id, role=user.role, tenant=user.tenant, session_id=session_id, now=now,
                           refresh_jti=refresh_jti)
    if kind == "backup":
        audit.record(user.tenant, "mfa.backup_code_used", actor_id=user.id, subject=user.username)
    audit.record(user.tenant, "mfa.verified", actor_id=user.id, subject=user.username, method=kind)
    audit.record_now(user.tenant, "login", actor_id=user.id, subject=user.username, mfa=True)
    return token_answer(pair, session_id)
