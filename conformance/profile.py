"""Target profiles: what a target is, how the contract's operations map onto it, what it declares.

A profile is TOML validated by the pydantic models below. It describes one target on its own: an
operation it does not map does not exist. Only a profile that says ``extends = "reference"`` (the
bundled default, and profiles for the reference) is read over the bundled default, key by key.
``${NAME}`` is expanded from the environment, and any field can be overridden from the command
line (``--set tokens.access_ttl=60``). Every mistake is reported as one ``ProfileError`` naming the
file, the dotted field and the fix.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "reference.toml"
# The only profile another may extend: the bundled default, which describes the reference.
EXTENDABLE = {"reference": DEFAULT_PROFILE}

# Capabilities a profile may declare; a check needing an undeclared one is "not applicable".
CAPABILITIES: dict[str, str] = {
    "signup": "an open sign-up route creates a tenant with the caller as admin",
    "refresh": "refresh tokens and a refresh operation",
    "logout": "a logout operation",
    "logout_all": "a logout-everywhere operation",
    "sessions": "sessions can be listed and ended",
    "session_limit": "a maximum number of sessions per user, the oldest evicted",
    "idle_timeout": "sessions end after an idle period",
    "absolute_timeout": "sessions end a fixed time after login",
    "password_change": "a password change operation",
    "delete_account": "users can delete their own account",
    "user_admin": "tenant admins list, create, re-role and delete users",
    "roles": "the contract's role hierarchy",
    "tenants": "users belong to tenants that must be isolated",
    "documents": "resources whose objects belong to users, with owner rules ([[resources]]; without them, the "
                 "document operations)",
    "audit": "an audit log behind the audit permission",
    "jwks": "public keys at a JWKS endpoint",
    "rate_limit_api": "a per-user limit on the authenticated API",
    "rate_limit_login": "login limits per account and per client IP",
    "cookies": "tokens delivered in cookies (contract section 8)",
    "mfa": "a TOTP second factor: enrolment, a two-step login, backup codes (contract section 9)",
}

# The contract section each capability belongs to: profiles, ``init`` and the dry run group the
# declared capabilities by section, so a reader sees which parts of the contract a target has.
CAPABILITY_SECTIONS: dict[str, str] = {
    "signup": "0", "jwks": "1", "delete_account": "1",
    "refresh": "2", "logout": "2", "logout_all": "2", "password_change": "2",
    "roles": "3", "user_admin": "3", "audit": "3",
    "sessions": "4", "session_limit": "4", "idle_timeout": "4", "absolute_timeout": "4",
    "tenants": "5", "documents": "5",
    "rate_limit_api": "6", "rate_limit_login": "6",
    "cookies": "8",
    "mfa": "9",
}
SECTION_TITLES: dict[str, str] = {
    "0": "API surface", "1": "tokens", "2": "refresh, logout, revocation", "3": "roles and permissions",
    "4": "sessions", "5": "tenant isolation", "6": "rate limiting", "8": "cookie mode",
    "9": "multi-factor authentication",
}

# The contract's operations and the capability each belongs to ("" = every target has it). An
# operation whose capability the profile does not declare is never called by a check.
OPERATION_CAPABILITY: dict[str, str] = {
    "login": "", "me": "", "health": "",
    "signup": "signup", "refresh": "refresh", "logout": "logout", "logout_all": "logout_all",
    "sessions_list": "sessions", "session_delete": "sessions",
    "me_update": "password_change", "me_delete": "delete_account", "me_role": "",
    "users_list": "user_admin", "user_create": "user_admin", "user_role": "user_admin",
    "user_delete": "user_admin",
    "documents_list": "documents", "document_create": "documents", "document_get": "documents",
    "document_update": "documents", "document_delete": "documents",
    "audit": "audit", "jwks": "jwks",
    "mfa_setup": "mfa", "mfa_confirm": "mfa", "mfa_verify": "mfa", "mfa_disable": "mfa", "mfa_backup_codes": "mfa",
}
# Protections every JWT API owes (contract, header): probed whether declared or not, wherever
# their ground exists, with the contract's defaults as the bound when the profile gives none.
# Everything else in CAPABILITIES is an optional feature, not applicable unless declared.
PROTECTIONS: dict[str, typing.Callable[[Profile], bool]] = {
    "rate_limit_login": lambda profile: "login" in profile.operations,
    "logout": lambda profile: "logout" in profile.operations,
    "refresh": lambda profile: "refresh" in profile.operations,
    "session_limit": lambda profile: any(profile.declares(c) for c in ("sessions", "idle_timeout",
                                                                       "absolute_timeout")),
}
# A check's need "op:NAME" is met when the profile offers operation NAME (``Profile.offers``).
OPERATION_NEED = "op:"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The contract's role hierarchy and permissions (CONTRACT.md §3): what a profile without [roles] has.
CONTRACT_ROLES: dict[str, int] = {"viewer": 10, "editor": 20, "admin": 30, "superadmin": 40}
CONTRACT_PERMISSIONS: dict[str, list[str]] = {
    "viewer": ["read"],
    "editor": ["read", "write"],
    "admin": ["read", "write", "delete", "manage_users"],
    "superadmin": ["read", "write", "delete", "manage_users", "manage_roles", "audit"],
}
# The contract's longest password (CONTRACT.md: 8-128 characters); a target without a maximum must take it.
CONTRACT_PASSWORD_MAX = 128
# Tables a profile replaces whole, even over the default it extends (merging roles made a target
# with "user" and "admin" a target with six roles).
REPLACED_TABLES = ("roles", "permissions")


class ProfileError(Exception):
    def __init__(self, source: str, field_path: str, problem: str, fix: str) -> None:
        self.source, self.field_path, self.problem, self.fix = source, field_path, problem, fix
        where = f"{source}: {field_path}" if field_path else source
        super().__init__(f"{where}: {problem}. Fix: {fix}")


class Problem(ValueError):
    """What a field validator found wrong, with the fix; becomes a ProfileError naming the field."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}. Fix: {fix}")
        self.problem, self.fix = problem, fix


def doc(text: str, default: Any = ..., **kwargs: Any) -> Any:
    """A field with its meaning (the reference page and the JSON Schema print it)."""
    if isinstance(default, (list, dict)):
        return Field(default_factory=lambda: copy.deepcopy(default), description=text, **kwargs)
    return Field(default, description=text, **kwargs)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSection(Section):
    """Where the target is and how patiently to talk to it."""

    base_url: str = doc("URL of the target, e.g. http://127.0.0.1:8000", "")
    connect_timeout: float = doc("seconds to wait for a TCP connection", 3.0)
    read_timeout: float = doc("seconds to wait for a response", 10.0)
    verify_tls: bool = doc("verify the target's TLS certificate (also written verify)", True)
    ca_file: str = doc("CA bundle to verify the target with (empty: system store)", "")
    ready_timeout: float = doc("seconds the readiness probe waits for the target", 20.0)
    ready_path: str = doc("path probed for readiness (any HTTP answer counts)", "/healthz")
    max_wait: float = doc("longest real wait a time-dependent check may do over HTTP (s)", 120.0)
    max_concurrency: int = doc("checks run side by side against this target over HTTP (`authconform run "
                               "--jobs N` overrides); 1 runs them one after another. The checks that wait on "
                               "the target's clock start first; a check that needs the target quiet runs "
                               "alone. In-process runs are always serial", 8, ge=1, le=64)
    client_addresses: Literal["one", "loopback"] = doc(
        '"loopback": on a target reached over loopback, each check connects from a loopback address of '
        "its own (127.1.0.1, 127.1.0.2, ...), so a limit the target keeps per client address (logins per IP) "
        'never carries over from one check to another; "one": every request from the system\'s one address '
        "(also where the system cannot bind those addresses, or the target is not on loopback)", "one")
    refusal_statuses: list[int] = doc("statuses with which the target refuses a request for its credentials "
                                      "(a Flask-JWT-Extended service answers 422 to a malformed token)", [401, 403])
    rate_limited_statuses: list[int] = doc("statuses that mean the target's rate limiter answered, never a "
                                           "refusal on the rule a check probes", [429])

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise Problem(f"{value!r} is not an http(s) URL", "write it like http://127.0.0.1:8000")
        return value

    @field_validator("refusal_statuses", "rate_limited_statuses")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        wrong = [status for status in value if not 100 <= status <= 599]
        if wrong:
            raise Problem(f"{wrong[0]} is not an HTTP status", "list statuses from 100 to 599, e.g. [401, 403]")
        return value


class TokensSection(Section):
    """How tokens come back from login and refresh, how they are presented, and what they declare."""

    delivery: Literal["json", "cookie"] = doc('where tokens come back and go: "json" (body + header) or "cookie"',
                                              "json")
    access_field: str = doc("JSON path of the access token in a login or refresh answer (an operation's "
                            "access_token_path overrides it)", "access_token")
    refresh_field: str = doc("JSON path of the refresh token in a login or refresh answer (an operation's "
                             "refresh_token_path overrides it)", "refresh_token")
    session_field: str = doc("JSON path of the session id in a login answer (empty: none)", "session_id")
    header: str = doc("request header that carries the access token", "Authorization")
    scheme: str = doc("scheme before the token in that header (empty: bare token)", "Bearer")
    refresh_header: str = doc("header that carries the refresh token where an operation sends it in a header "
                              "(empty: the access token's header and scheme)", "")
    refresh_scheme: str = doc("scheme before the refresh token in refresh_header (empty: bare token)", "")
    access_cookie: str = doc("cookie holding the access token (cookie delivery)", "access_token")
    refresh_cookie: str = doc('cookie holding the refresh token (cookie delivery, or refresh_in = "cookie")',
                              "refresh_token")
    csrf_cookie: str = doc("cookie holding the CSRF token (cookie delivery)", "csrf_token")
    csrf_header: str = doc("header that must echo the CSRF cookie", "X-CSRF-Token")
    algorithm: str = doc("the one signing algorithm the target accepts", "HS256")
    issuer: str = doc("expected iss claim (empty: the target sets none)", "")
    audience: str = doc("expected aud claim (empty: the target sets none)", "")
    subject_claim: str = doc("claim naming the user (e.g. user_id)", "sub")
    role_claim: str = doc("claim naming the user's role", "role")
    tenant_claim: str = doc("claim naming the user's tenant", "tid")
    access_ttl: int = doc("access token lifetime (s)", 900, gt=0)
    refresh_ttl: int = doc("refresh token lifetime (s)", 604800, gt=0)
    leeway: int = doc("clock leeway the target allows (s, 0-30)", 0)

    @field_validator("leeway")
    @classmethod
    def _leeway(cls, value: int) -> int:
        if not 0 <= value <= 30:
            raise Problem(f"{value} is outside 0-30 s",
                          "declare the leeway your target really allows (the contract caps it at 30 s)")
        return value


class SessionsSection(Section):
    """The declared session limits (capabilities session_limit, idle_timeout, absolute_timeout)."""

    max_sessions: int = doc("active sessions per user before the oldest is evicted", 5, gt=0)
    idle_timeout: int = doc("seconds of inactivity that end a session", 1800, gt=0)
    absolute_timeout: int = doc("seconds after login that end a session", 28800, gt=0)


class RateLimitsSection(Section):
    """The declared rate limits (capabilities rate_limit_api, rate_limit_login)."""

    api_limit: int = doc("authenticated requests per user per window", 60, gt=0)
    api_window: int = doc("window of the per-user limit (s)", 60, gt=0)
    login_account_limit: int = doc("login attempts per (client IP, username) per window", 5, gt=0)
    login_ip_limit: int = doc("login attempts per client IP per window", 20, gt=0)
    login_window: int = doc("window of the login limits (s)", 60, gt=0)
    trusted_proxies: int = doc("proxies whose X-Forwarded-For is trusted", 0, ge=0)


class PasswordsSection(Section):
    """The declared password length limits (also written [credentials] password_min / password_max)."""

    min_length: int = doc("shortest password accepted", 8, ge=0)
    max_length: int = doc("longest password accepted; 0 (or left out): the target has no maximum (a password "
                          "of the contract's 128 characters must then be accepted)", 0, ge=0)

    @property
    def has_maximum(self) -> bool:
        return self.max_length > 0


class MfaSection(Section):
    """The second factor (capability mfa): where its answers carry what, and the declared numbers.
    Request fields (code, mfa_token, password) are renamed by each operation's fields."""

    secret_field: str = doc("JSON path of the base32 TOTP secret in the mfa_setup answer", "secret")
    uri_field: str = doc("JSON path of the otpauth:// URI in the mfa_setup answer", "otpauth_uri")
    required_field: str = doc("JSON path of the flag that says the login needs a second step", "mfa_required")
    challenge_field: str = doc("JSON path of the MFA challenge token in the login answer", "mfa_token")
    backup_codes_field: str = doc("JSON path of the backup-code list in the mfa_confirm and mfa_backup_codes "
                                  "answers", "backup_codes")
    algorithm: Literal["SHA1", "SHA256", "SHA512"] = doc("TOTP hash", "SHA1")
    digits: int = doc("digits of a code", 6, gt=0)
    step: int = doc("TOTP time step (s)", 30, gt=0)
    window: int = doc("steps either side of the current one the target accepts", 1, ge=0)
    challenge_ttl: int = doc("lifetime of the MFA challenge token (s)", 300, gt=0)
    attempt_limit: int = doc("verification attempts per challenge, and failures per account, per window", 5, gt=0)
    attempt_window: int = doc("window of the attempt limits (s)", 300, gt=0)
    backup_codes: int = doc("backup codes generated at confirmation (0: the target has none)", 10, ge=0)
    source: Literal["", "enrol", "accounts"] = doc(
        'whose second factor the checks use: "enrol" (fresh users the suite enrols through mfa_setup and '
        'mfa_confirm, so it holds their secrets), "accounts" (the [[users.accounts]] with a totp_secret: MFA '
        'already on); left out: "enrol" where the suite creates users and may enrol them, else "accounts"', "")


def http_method(value: str) -> str:
    """An operation's method, as the profile must write it (one rule for operations and resources)."""
    if value not in HTTP_METHODS:
        raise Problem(f"{value!r} is not an HTTP method", "use one of " + ", ".join(HTTP_METHODS) + " (upper case)")
    return value


class Operation(Section):
    """One contract operation (login, refresh, me, ...) in the target's own terms."""

    method: str = doc("HTTP method (upper case)", "GET")
    path: str = doc("path; each {placeholder} is filled from the user (username, email, id, tenant) or the "
                    "object (id, or any field the client sent, e.g. {title})")
    body: Literal["json", "form"] = doc('"json" or "form"', "json")
    auth: Literal["access", "none", "basic"] = doc(
        '"access": the caller\'s access token goes along (as tokens.delivery says; the refresh operation sends '
        'it only where send lists it); "none": it does not (e.g. an OAuth2 revocation endpoint that takes the '
        'refresh token in the body); "basic": HTTP Basic with the user\'s own username and password (a login '
        "that takes no body)", "access")
    refresh_in: Literal["", "body", "header", "cookie"] = doc(
        'where the operation presents the refresh token: "body" (field refresh_token, renamed by fields), '
        '"header" (tokens.refresh_header) or "cookie" (tokens.refresh_cookie); empty: not at all, except the '
        'refresh operation itself, which then uses "body" ("cookie" with cookie delivery)', "")
    send: list[Literal["access_token", "refresh_token", "session_id"]] = doc(
        "tokens the operation also sends in its body, each under its contract name renamed by fields (e.g. "
        'a refresh that takes both: ["refresh_token", "access_token"])', [])
    fields: dict[str, str] = doc("contract field name -> the target's field name", {})
    extra: dict[str, str] = doc("constant fields sent with every call (e.g. grant_type)", {})
    access_token_path: str = doc("JSON path of the access token in this operation's answer (empty: "
                                 "tokens.access_field)", "")
    refresh_token_path: str = doc("JSON path of the refresh token in this operation's answer (empty: "
                                  "tokens.refresh_field)", "")
    session_id_path: str = doc("JSON path of the session id in this operation's answer (empty: "
                               "tokens.session_field)", "")
    session_header: str = doc("header that carries the caller's session id (e.g. X-Session-ID; empty: none)", "")
    id_field: str = doc('field holding the object\'s id in this operation\'s answer and in each row it lists; '
                        "when the answer lacks it, the value the client sent under that field is the id (an "
                        "object named by its title or slug)", "id")

    _method = field_validator("method")(classmethod(lambda cls, value: http_method(value)))

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise Problem(f"{value!r} does not start with /",
                          f"write the path from the root of the target, e.g. /{value.lstrip('/') or 'api/login'}")
        return value

    def placeholders(self) -> list[str]:
        """The {names} of the path, in order."""
        return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", self.path)


class Account(Section):
    """A pre-provisioned account (for targets without sign-up)."""

    role: str = doc("role of this pre-provisioned account", "viewer")
    tenant: str = doc("tenant of the account", "")
    username: str = doc("username (use ${ENV_VAR})", "")
    password: str = doc("password (use ${ENV_VAR})", "")
    email: str = doc("e-mail address of the account, where a route names users by it (empty: the username "
                     "when it is one)", "")
    totp_secret: str = doc("base32 TOTP secret of an account that has MFA on (use ${ENV_VAR}; redacted from every "
                           "report): the MFA checks log in with it, the other checks never hand the account out",
                           "")

    @field_validator("totp_secret")
    @classmethod
    def _totp_secret(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Z2-7]{16,}=*", value.replace(" ", "").upper()):
            raise Problem("is not a base32 TOTP secret of 80 bits or more (the value is not shown)",
                          "give the secret the account's authenticator was set up with (base32, as in its "
                          "otpauth:// URI), through ${ENV_VAR}")
        return value.replace(" ", "").upper()


class UsersSection(Section):
    """How the suite gets test users."""

    source: Literal["signup", "accounts"] = doc('"signup" (fresh users per check) or "accounts" '
                                                '(pre-provisioned); left out: "signup" when the capability is '
                                                'declared, else "accounts"', "signup")
    username_template: str = doc('how the suite names users it creates: {name} becomes a fresh name (e.g. '
                                 '"{name}@example.test" for a target that wants email addresses)', "{name}")
    signup_role: str = doc("role a sign-up gives (the contract: the admin of a new tenant); another role makes "
                           "the suite take the other roles from [[users.accounts]]", "admin")
    accounts: list[Account] = doc("pre-provisioned accounts per role and tenant", [])

    @field_validator("username_template")
    @classmethod
    def _template(cls, value: str) -> str:
        if "{name}" not in value:
            raise Problem("does not contain {name}", 'write it around {name}, e.g. "{name}@example.test"')
        return value


class SigningSection(Section):
    """The target's signing key, when you have it: time and claim checks then mint tokens."""

    algorithm: str = doc("algorithm of the key below (empty: same as tokens.algorithm)", "")
    key: str = doc("signing key (HS secret or PEM private key); lets checks mint tokens", "")
    key_file: str = doc("file holding the signing key", "")
    kid: str = doc("kid header to put on minted tokens", "")
    wordlists: list[str] = doc("your own word lists of candidate HS secrets (one per line, any size), tried "
                               "offline against a captured token by TOK-SECRET-WEAK after the bundled list; "
                               "a secret found in one is redacted (--wordlist adds to these)", [])


class ClientSection(Section):
    """OAuth2 client credentials, sent with the operations that need them (RFC 6749 §2.3.1)."""

    id: str = doc("client_id (empty: no client credentials are sent)", "")
    secret: str = doc("client_secret (use ${ENV_VAR}; redacted from every report)", "")
    method: Literal["basic", "body"] = doc('"basic" (HTTP Basic, the RFC\'s default) or "body" (client_id and '
                                           "client_secret fields, renamed by the operation's fields)", "basic")
    operations: list[str] = doc("operations that send the client credentials", ["login", "refresh"])


class Route(Section):
    """A protected route and the permission it needs (read by the role checks)."""

    operation: str = doc("operation name from [operations]", "")
    permission: str = doc("permission the route requires (read, write, delete, manage_users, audit)", "")


# ---------------------------------------------------------------------------- resources (BOLA / IDOR)
# The kinds of id a resource may have, and who may reach one of its objects.
ID_KINDS = ("numeric", "uuid", "slug")
OWNERSHIP_RULES: dict[str, str] = {
    "owner": "only the user who created an object reads, changes, deletes and lists it",
    "owner-admin": "the owner, and an admin of the owner's tenant; nobody else",
    "tenant-read": "every user of the owner's tenant reads and lists it; only the owner and a tenant admin "
                   "change or delete it",
}
RESOURCE_VERBS = ("create", "read", "update", "delete", "list")
# The text a body template's "{marker}" becomes: unique per object, so finding it in an answer
# means the object leaked.
MARKER = "{marker}"
# The contract operations an older profile maps its one resource to (read as the resource "documents").
LEGACY_RESOURCE = "documents"
LEGACY_OPERATIONS = {"create": "document_create", "read": "document_get", "update": "document_update",
                     "delete": "document_delete", "list": "documents_list"}


class ResourceOperation(Section):
    """One operation on a resource; an empty path means the resource has no such operation."""

    method: str = doc("HTTP method (upper case)", "GET")
    path: str = doc("path; {id} is the object's id (read, update, delete); other {placeholders} are filled from "
                    "the user (username, id, tenant)", "")
    body: dict[str, Any] = doc('body template in the target\'s own field names; "{marker}" in a string becomes a '
                               "text unique to the object (the suite looks for it in answers, so put it in a field "
                               "the target answers with, e.g. a title)", {})
    form: Literal["json", "form"] = doc('how the body goes: "json" or "form"', "json")
    id_path: str = doc("create: JSON path of the new object's id in the answer (e.g. data.id)", "id")
    id_sent: str = doc("create: the body field whose sent value is the id (an object named by its title or "
                       "slug); wins over id_path", "")
    rows: str = doc("list: JSON path of the rows in the answer (empty: the answer itself when it is a list, "
                    "else the first list in it)", "")

    _method = field_validator("method")(classmethod(lambda cls, value: http_method(value)))

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise Problem(f"{value!r} does not start with /",
                          f"write the path from the root of the target, e.g. /{value.lstrip('/')}")
        return value

    @property
    def offered(self) -> bool:
        return bool(self.path)

    def placeholders(self) -> list[str]:
        return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", self.path)


class Resource(Section):
    """A resource of the target's own API whose objects belong to users (read by the TEN-* checks)."""

    name: str = doc("a name for reports, e.g. notes")
    id_kind: Literal["numeric", "uuid", "slug"] = doc('the ids\' form: "numeric" (neighbouring ids are guessed '
                                                      '± 1), "uuid" or "slug" (a name the client chose)', "numeric")
    ownership: Literal["owner", "owner-admin", "tenant-read"] = doc(
        "who may reach an object: " + "; ".join(f'"{k}": {v}' for k, v in OWNERSHIP_RULES.items()), "owner-admin")
    owner_role: str = doc("role of the users who create objects (empty: the role that stands for the contract's "
                          "editor, or any user without [roles])", "")
    id_field: str = doc("field holding an object's id in each row a list answers", "id")
    create: ResourceOperation = Field(default_factory=ResourceOperation, description="create an object "
                                      "(required): method, path, body template, where the id comes back")
    read: ResourceOperation = Field(default_factory=ResourceOperation, description="read one object by {id} "
                                    "(required)")
    update: ResourceOperation = Field(default_factory=ResourceOperation, description="change one object by {id} "
                                      "(empty path: none)")
    delete: ResourceOperation = Field(default_factory=ResourceOperation, description="delete one object by {id} "
                                      "(empty path: none)")
    list: ResourceOperation = Field(default_factory=ResourceOperation, description="list the caller's objects "
                                    "(empty path: none)")

    def operation(self, verb: str) -> ResourceOperation:
        return typing.cast(ResourceOperation, getattr(self, verb))

    def offers(self, verb: str) -> bool:
        return self.operation(verb).offered


def _legacy_resource(profile: Profile) -> Resource | None:
    """The one resource an older profile describes with the contract's document operations."""
    if not profile.declares("documents") or not all(
            profile.offers(LEGACY_OPERATIONS[verb]) for verb in ("create", "read")):
        return None
    verbs: dict[str, Any] = {}
    for verb, name in LEGACY_OPERATIONS.items():
        op = profile.operations.get(name)
        if op is None:
            continue
        fields = op.fields
        body = {fields.get("title", "title"): MARKER, fields.get("body", "body"): "tenant isolation probe"} \
            if verb in ("create", "update") else {}
        verbs[verb] = ResourceOperation(method=op.method, path=op.path, body=body, form=op.body,
                                        id_path=op.id_field)
    id_field = profile.operations[LEGACY_OPERATIONS["list"]].id_field \
        if LEGACY_OPERATIONS["list"] in profile.operations else "id"
    return Resource(name=LEGACY_RESOURCE, id_kind="uuid", ownership="owner-admin", id_field=id_field, **verbs)


class LoadSection(Section):
    """The load profiles' settings and thresholds (`authconform load`)."""

    users: int = doc("simulated users of `authconform load` (--users overrides)", 20)
    spawn_rate: float = doc("users started per second (--spawn-rate overrides)", 10.0)
    run_time: int = doc("seconds of load, after which the run stops by itself (--run-time overrides)", 20)
    workers: int = doc("locust worker processes; 0 runs one local process (--workers overrides)", 0)
    max_run_time: int = doc("longest run the profile allows (s); a longer --run-time is refused", 600)
    max_requests: int = doc("requests after which the load stops by itself, whatever the run time", 200000)
    users_per_account: int = doc("simulated users sharing one account (and one client address): concurrency "
                                 "on one limiter key, one token, one refresh family", 4)
    wrong_password_ratio: float = doc("login_storm: share of logins with a wrong password", 0.3)
    unknown_user_ratio: float = doc("login_storm: share of logins naming an unknown user", 0.2)
    route: str = doc("operation the probes hammer (rate_limit_probe, revocation_race)", "me")
    max_over_admission: int = doc("threshold: requests admitted that the contract says must be refused (over "
                                  "a rate limit, with a revoked token, with a reused refresh token)", 0)
    max_error_ratio: float = doc("threshold: share of requests with an unexpected outcome", 0.01)
    max_p95_ms: float = doc("threshold: 95th percentile response time over all requests (ms)", 2000.0)
    max_5xx: int = doc("threshold: answers with a 5xx status", 0)


class AttackerSection(Section):
    """Where the suite's attacker endpoints (jku / x5u key servers) listen, so the target can reach them."""

    bind: str = doc("address the attacker server binds; loopback serves only loopback targets", "127.0.0.1")
    public_url: str = doc("URL under which the target reaches the attacker server (empty: http://bind:port, "
                          "only for a loopback target)", "")


# ---------------------------------------------------------------------------- operations (issue 20 §2-3)
# The route matrix and the forgery checks judge every operation of the catalog (conformance.operations_catalog):
# the [[routes]] above, or the operations of an OpenAPI document.


class OpenApiSection(Section):
    """The target's OpenAPI document: with one, the route matrix and the forged-token checks judge every
    operation it describes (read with Schemathesis: pip install 'authconform[openapi]')."""

    document: str = doc("URL or file of the OpenAPI document; a path such as /openapi.json is fetched from the "
                        "target (--openapi sets it; empty: the operations are the profile's [[routes]])", "")
    min_roles: dict[str, str] = doc('path pattern -> the lowest role that may call it, e.g. "/admin/**" = "admin" '
                                    "(* one path segment, ** any); without a match, the operation's "
                                    "x-authconform-min-role, else the lowest role holding its x-permission, "
                                    "else any signed-in user", {})
    exclude: list[str] = doc('operations the catalog leaves out, each "METHOD /path" or a path pattern', [])


class SafetySection(Section):
    """What the suite may do to the target beyond reading."""

    mutate: bool | None = doc("send the state-changing requests (POST, PUT, PATCH, DELETE) the route probes need, "
                              "only ever on objects the suite created or ids that name nothing; left out: true for a "
                              "loopback target, false otherwise", None)


class LimitsSection(Section):
    """Bounds on the per-operation checks."""

    operations: int = doc("operations a per-operation check judges; with more, a sample of this many is judged "
                          "and the result says which (partial)", 200, gt=0)


class Profile(Section):
    """A target: where it is, how the contract's operations map onto it, and what it declares."""

    name: str = doc("a name for reports", "target")
    extends: Literal["", "reference"] = doc('"reference": read this profile over the bundled default (for the '
                                            "reference itself); empty: the profile says everything, and an "
                                            "operation it does not map does not exist", "")
    source: str = doc("where the profile came from (set by the loader)", "")
    capabilities: list[str] = doc("capabilities the target declares (see Capabilities by contract section)", [],
                                  json_schema_extra={"items": {"enum": list(CAPABILITIES)}})
    target: TargetSection = Field(default_factory=TargetSection)
    tokens: TokensSection = Field(default_factory=TokensSection)
    sessions: SessionsSection = Field(default_factory=SessionsSection)
    rate_limits: RateLimitsSection = Field(default_factory=RateLimitsSection)
    passwords: PasswordsSection = Field(default_factory=PasswordsSection)
    mfa: MfaSection = Field(default_factory=MfaSection)
    roles: dict[str, int] = doc("role name -> level; replaces the contract's four (viewer 10, editor 20, admin 30, "
                                "superadmin 40), never merged with them", CONTRACT_ROLES)
    permissions: dict[str, list[str]] = doc("role name -> permissions (without [roles]: the contract's; with "
                                            "[roles]: only what this table says)", CONTRACT_PERMISSIONS)
    operations: dict[str, Operation] = doc("contract operation -> how the target does it", {})
    routes: list[Route] = doc("protected routes and the permission each needs", [])
    resources: list[Resource] = doc("resources of the target's own API whose objects belong to users; the TEN-* "
                                    "checks judge each (without any: the document operations, as the resource "
                                    "documents)", [])
    users: UsersSection = Field(default_factory=UsersSection)
    signing: SigningSection = Field(default_factory=SigningSection)
    load: LoadSection = Field(default_factory=LoadSection)
    client: ClientSection = Field(default_factory=ClientSection)
    attacker: AttackerSection = Field(default_factory=AttackerSection)
    openapi: OpenApiSection = Field(default_factory=OpenApiSection)
    safety: SafetySection = Field(default_factory=SafetySection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    waive: dict[str, str] = doc("protection -> the reason it is waived; a waived protection's checks are not "
                                "applicable with that reason, shown in the report", {})

    @model_validator(mode="before")
    @classmethod
    def _implied_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # A profile that names its own roles has only the permissions it names for them.
        if "roles" in data and "permissions" not in data:
            data = {**data, "permissions": {}}
        # Without a users.source: fresh sign-ups where the target has sign-up, else its accounts.
        users = data.get("users", {})
        capabilities = data.get("capabilities", [])
        if isinstance(users, dict) and "source" not in users and isinstance(capabilities, list):
            data = {**data, "users": {**users, "source": "signup" if "signup" in capabilities else "accounts"}}
        return data

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: list[str]) -> list[str]:
        for capability in value:
            if capability not in CAPABILITIES:
                close = difflib.get_close_matches(capability, CAPABILITIES, n=1)
                raise Problem(f"unknown capability {capability!r}",
                              f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(CAPABILITIES))
        return value

    @field_validator("waive")
    @classmethod
    def _waived_protections(cls, value: dict[str, str]) -> dict[str, str]:
        for name, reason in value.items():
            if name not in PROTECTIONS:
                close = difflib.get_close_matches(name, PROTECTIONS, n=1)
                raise Problem(f"{name!r} is not a protection every JWT API owes",
                              f"did you mean {close[0]!r}?" if close else "waive one of " + ", ".join(PROTECTIONS)
                              + " (an optional feature is simply left out of capabilities)")
            if not reason.strip():
                raise Problem(f"{name} is waived without a reason", f'say why, e.g. {name} = "the gateway does it"')
        return value

    def declares(self, capability: str) -> bool:
        return capability in self.capabilities

    def probes(self, capability: str) -> bool:
        """Are the checks of ``capability`` run? An optional feature's only when declared; a
        protection every JWT API owes whenever its ground exists (see PROTECTIONS)."""
        if self.declares(capability):
            return True
        ground = PROTECTIONS.get(capability)
        return ground is not None and ground(self)

    def offers(self, operation: str) -> bool:
        """Is the operation described, and its capability declared? Checks call no other."""
        if operation not in self.operations:
            return False
        capability = OPERATION_CAPABILITY.get(operation, "")
        return not capability or self.declares(capability)

    def operation(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError:
            raise ProfileError(self.source, f"operations.{name}", "the operation is not described",
                               f"add an [operations.{name}] table with method and path") from None

    def access_path(self, operation: str) -> str:
        """Where this operation's answer holds the access token (the profile-wide path by default)."""
        op = self.operations.get(operation)
        return (op.access_token_path if op else "") or self.tokens.access_field

    def refresh_path(self, operation: str) -> str:
        op = self.operations.get(operation)
        return (op.refresh_token_path if op else "") or self.tokens.refresh_field

    def session_path(self, operation: str) -> str:
        op = self.operations.get(operation)
        return (op.session_id_path if op else "") or self.tokens.session_field

    def resource_list(self) -> list[Resource]:
        """The resources the object-level checks judge: those declared, else the one an older
        profile describes with the contract's document operations."""
        if not self.declares("documents"):
            return []
        if self.resources:
            return list(self.resources)
        legacy = _legacy_resource(self)
        return [legacy] if legacy is not None else []

    def role_level(self, role: str) -> int:
        return self.roles[role]

    def roles_by_level(self) -> list[str]:
        return sorted(self.roles, key=self.roles.__getitem__)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json(exclude={"source"}).encode()).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any]) -> Profile:
        data = self.model_dump(exclude={"source"})
        for dotted, value in overrides.items():
            _set_dotted(data, dotted, value)
        return build(data, self.source, overridden=set(overrides))


# ---------------------------------------------------------------------------- loading

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def bundled(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """A bundled profile named without a path (``--profile quick``: conformance/profiles/quick.toml),
    unless a file of that name exists here."""
    name = str(path)
    candidate = DEFAULT_PROFILE.parent / f"{name}.toml"
    if re.fullmatch(r"[a-z][a-z0-9-]*", name) and not Path(name).exists() and candidate.is_file():
        return candidate
    return path


def load(path: str | os.PathLike[str] | None = None, *, overrides: dict[str, Any] | None = None,
         environ: typing.Mapping[str, str] | None = None) -> Profile:
    """Load a profile (the bundled default without a path), read it over the profile it extends,
    apply overrides, expand ${VARS}, validate."""
    environ = os.environ if environ is None else environ
    source = str(DEFAULT_PROFILE if path is None else bundled(path))
    data = read_data(Path(source))
    for dotted, value in (overrides or {}).items():  # before expansion: an overridden ${VAR} need not be set
        _set_dotted(data, dotted, value, source="command line")
    data = _expand(data, environ, source, "")
    return build(data, source, overridden=set(overrides or {}))


def loads(text: str, *, source: str, environ: typing.Mapping[str, str] | None = None) -> Profile:
    """A profile from TOML text (``source`` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"not valid TOML ({exc})", "correct the TOML syntax") from None
    data = _expand(_extended(raw, source), os.environ if environ is None else environ, source, "")
    return build(data, source)


def read_data(path: Path) -> dict[str, Any]:
    """The profile's TOML as data, read over the profile it extends (no validation yet)."""
    return _extended(_read_toml(path), str(path))


def _extended(raw: dict[str, Any], source: str) -> dict[str, Any]:
    data = _legacy(raw, source)
    extends = data.get("extends", "")
    if extends:
        if not isinstance(extends, str) or extends not in EXTENDABLE:
            raise ProfileError(source, "extends", f"{extends!r} is not a profile that can be extended",
                               'write extends = "reference", or leave it out for a target other than the '
                               "reference")
        base = _read_toml(EXTENDABLE[extends])
        data = _merge(base, data)
    return data


def _legacy(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Read the spellings of older profiles that mean the same as a current one."""
    data = dict(data)
    if "inherit" in data:
        if data.pop("inherit") is not False:
            raise ProfileError(source, "inherit", "profiles no longer inherit from the reference unless they say so",
                               'write extends = "reference" instead (authconform profile upgrade FILE does it)')
    credentials = data.pop("credentials", None)
    if isinstance(credentials, dict):
        passwords = dict(data.get("passwords") or {})
        for old, new in (("password_min", "min_length"), ("password_max", "max_length")):
            if old in credentials:
                passwords[new] = credentials.pop(old)
        if credentials:
            raise ProfileError(source, f"credentials.{next(iter(credentials))}", "unknown field",
                               "[credentials] knows password_min and password_max (the [passwords] table is "
                               "the other spelling)")
        data["passwords"] = passwords
    elif credentials is not None:
        raise ProfileError(source, "credentials", "expected a table", "write [credentials] with password_max")
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """``a.b=value`` with value read as TOML when it parses, else as a string."""
    if "=" not in text:
        raise ProfileError("command line", text, "an override needs the form FIELD=VALUE",
                           "write e.g. --set tokens.access_ttl=60")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


# Other names a profile may use for a field (section -> {alias: field}); the alias wins when both are set.
ALIASES: dict[str, dict[str, str]] = {"target": {"verify": "verify_tls"}}


def _apply_aliases(data: dict[str, Any]) -> None:
    for section, names in ALIASES.items():
        table = data.get(section)
        if not isinstance(table, dict) or not any(alias in table for alias in names):
            continue
        table = dict(table)
        for alias, name in names.items():
            if alias in table:
                table[name] = table.pop(alias)
        data[section] = table


def build(data: dict[str, Any], source: str, *, overridden: set[str] | None = None) -> Profile:
    """Validate profile data; a mistake becomes a ProfileError naming the field (and the --set
    option when the field came from the command line)."""
    data = dict(data)
    _apply_aliases(data)
    data["source"] = source
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, source, overridden or set()) from None
    try:
        _validate(profile)
    except ProfileError as exc:
        raise _blame_override(exc, overridden or set()) from None
    return profile


def _blame_override(error: ProfileError, overridden: set[str]) -> ProfileError:
    for key in sorted(overridden, key=len, reverse=True):
        aliased = {f"{section}.{alias}": f"{section}.{name}" for section, names in ALIASES.items()
                   for alias, name in names.items()}.get(key, key)
        if error.field_path == aliased or error.field_path.startswith((aliased + ".", aliased + "[")):
            return ProfileError(f"command line (--set {key})", error.field_path, error.problem, error.fix)
    return error


_TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "a string"}


def _error(exc: ValidationError, source: str, overridden: set[str]) -> ProfileError:
    """The first problem pydantic found, in the profile's words: dotted field, problem, fix."""
    error = exc.errors()[0]
    loc = tuple(part for part in error["loc"])
    path = dotted(loc)
    kind, value = error["type"], error.get("input")
    context = error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = [name for name in _fields_at(loc[:-1]) if name != "source"]
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            hint = f"did you mean {close[0]!r}?"
            if loc[:1] == ("operations",) and len(loc) == 2:
                hint = f"did you mean [operations.{close[0]}]?"
        else:
            hint = "known fields: " + ", ".join(sorted(known))
        problem = "unknown field"
    elif kind == "value_error" and isinstance(context.get("error"), Problem):
        problem, hint = context["error"].problem, context["error"].fix
    elif kind == "missing":
        problem, hint = "is required", f"add {loc[-1]} = ... to [{dotted(loc[:-1])}]"
    elif kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", '"')
        problem, hint = f"{value!r} is not a value this field takes", f"use {expected}"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        fields = _fields_at(loc)
        problem = f"expected a table, got {value!r}"
        hint = f"write [{path}] with fields " + ", ".join(f for f in fields if f != "source") if fields \
            else "write it as a TOML table"
    elif kind == "list_type":
        problem, hint = f"expected a list, got {value!r}", "write it as [ ... ]"
    elif kind in ("greater_than", "greater_than_equal"):
        bound = context.get("gt", context.get("ge"))
        problem = f"must be above {bound}" if kind == "greater_than" else f"must be {bound} or more"
        hint = f"declare a value above {bound}" if kind == "greater_than" else f"declare {bound} or more"
    else:
        word = next((w for t, w in _TYPE_WORDS.items() if kind.startswith(t)), "")
        if word:
            problem, hint = f"expected {word}, got {value!r}", f"set it to {word}"
        else:
            problem, hint = error["msg"], "see docs/profile-reference.md"
    others = sorted({dotted(tuple(other["loc"])) for other in exc.errors()[1:]} - {path})
    if others:
        hint += f" (also to fix: {', '.join(others[:5])}{' ...' if len(others) > 5 else ''})"
    return _blame_override(ProfileError(source, path, problem, hint), overridden)


def dotted(loc: tuple[Any, ...]) -> str:
    """('users', 'accounts', 0, 'password') -> users.accounts[0].password"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model at ``loc`` (walked from Profile through tables, lists and maps)."""
    hint: Any = Profile
    for part in loc:
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            if not isinstance(part, str) or part not in hint.model_fields:
                return []
            hint = hint.model_fields[part].annotation
        elif typing.get_origin(hint) in (list, dict):
            hint = typing.get_args(hint)[-1]
        else:
            return []
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return list(hint.model_fields)
    return []


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ProfileError(str(path), "", "the file does not exist",
                           "pass the path of an existing profile (see examples/profiles/)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "", f"not valid TOML ({exc})", "correct the TOML syntax") from None
    except OSError as exc:
        raise ProfileError(str(path), "", f"cannot be read ({exc.strerror})",
                           "check the path and its permissions") from None


def _merge(base: dict[str, Any], top: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    merged = dict(base)
    if depth == 0 and "roles" in top and "permissions" not in top:
        merged.pop("permissions", None)  # the base's permissions name the base's roles
    for key, value in top.items():
        replaced = depth == 0 and key in REPLACED_TABLES
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not replaced:
            merged[key] = _merge(merged[key], value, depth + 1)
        else:
            merged[key] = value
    return merged


def _expand(value: Any, environ: typing.Mapping[str, str], source: str, path: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, environ, source, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, source, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ProfileError(source, path, f"environment variable {name} is not set",
                                   f"export {name}=... before running, or write the value in the profile")
            return environ[name]

        return _ENV.sub(replace, value)
    return value


def _set_dotted(data: dict[str, Any], dotted_name: str, value: Any, source: str = "command line") -> None:
    parts = dotted_name.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ProfileError(f"{source} (--set {dotted_name})", dotted_name, f"{part} is not a table",
                               "override a field inside a table")
        node = child
    node[parts[-1]] = value


# ---------------------------------------------------------------------------- rules across fields


def _validate(profile: Profile) -> None:
    """What no single field can check: operations against capabilities, accounts against roles,
    names that must refer to each other."""
    src = profile.source
    _validate_operations(profile)
    if profile.users.source == "signup" and not profile.declares("signup"):
        raise ProfileError(src, "users.source", 'is "signup" but the profile does not declare signup',
                           'add "signup" to capabilities, or use source = "accounts" with [[users.accounts]]')
    _validate_users(profile)
    _validate_client(profile)
    for role in profile.permissions:
        if role not in profile.roles:
            raise ProfileError(src, f"permissions.{role}", f"{role!r} is not a role of the profile",
                               "name one of [roles]: " + ", ".join(profile.roles_by_level()))
    for i, route in enumerate(profile.routes):
        if route.operation not in profile.operations:
            raise ProfileError(src, f"routes[{i}].operation", f"no operation named {route.operation!r}",
                               "name one of: " + ", ".join(sorted(profile.operations)))
    for pattern, role in profile.openapi.min_roles.items():
        if role not in profile.roles:
            raise ProfileError(src, f"openapi.min_roles.{pattern}", f"{role!r} is not a role of the profile",
                               "name one of [roles]: " + ", ".join(profile.roles_by_level()))
        if not pattern.startswith("/"):
            raise ProfileError(src, f"openapi.min_roles.{pattern}", "a path pattern starts with /",
                               f'write it from the root, e.g. "/{pattern.lstrip("/")}"')
    _validate_resources(profile)


def _validate_resources(profile: Profile) -> None:
    """Each [[resources]] entry: a unique name, create and read, {id} exactly where an object is named,
    a marker in the create body, the id found somewhere."""
    src = profile.source
    if profile.resources and not profile.declares("documents") and not profile.extends:
        raise ProfileError(src, "capabilities", "[[resources]] are declared but the capability \"documents\" is not, "
                           "so no check would judge them",
                           'add "documents" to capabilities (its checks judge every declared resource), or drop '
                           "the [[resources]] entries")
    seen: set[str] = set()
    for i, resource in enumerate(profile.resources):
        where = f"resources[{i}]"
        if not resource.name.strip():
            raise ProfileError(src, f"{where}.name", "is empty", 'name the resource, e.g. name = "notes"')
        if resource.name in seen:
            raise ProfileError(src, f"{where}.name", f"a second resource named {resource.name!r}",
                               "give each [[resources]] entry its own name")
        seen.add(resource.name)
        for verb in ("create", "read"):
            if not resource.offers(verb):
                raise ProfileError(src, f"{where}.{verb}.path", f"resource {resource.name!r} has no {verb} operation",
                                   f"add {verb} = {{ method = ..., path = ... }}: the checks create an object and "
                                   "read it back")
        for verb in RESOURCE_VERBS:
            op = resource.operation(verb)
            if not op.offered:
                continue
            names = op.placeholders()
            if verb in ("read", "update", "delete") and "id" not in names:
                raise ProfileError(src, f"{where}.{verb}.path", f"{op.path!r} does not name the object",
                                   f"put {{id}} where the object's id goes, e.g. {op.path.rstrip('/')}/{{id}}")
            if verb in ("create", "list") and "id" in names:
                raise ProfileError(src, f"{where}.{verb}.path", f"{op.path!r} names an object with {{id}}",
                                   f"{verb} is about the collection: write its path without {{id}}")
        create = resource.create
        if not any(isinstance(v, str) and MARKER in v for v in create.body.values()):
            raise ProfileError(src, f"{where}.create.body", 'no field of the template holds "{marker}"',
                               'put "{marker}" in a field the target answers with, e.g. body = { title = '
                               '"{marker}" }')
        if create.id_sent and create.id_sent not in create.body:
            raise ProfileError(src, f"{where}.create.id_sent", f"{create.id_sent!r} is not a field of the create body",
                               "name a field of create.body, whose sent value is the id")
        if resource.id_kind == "slug" and not create.id_sent:
            raise ProfileError(src, f"{where}.create.id_sent", 'id_kind is "slug" but no sent field is the id',
                               'name the field the client sends the slug in, e.g. id_sent = "title"')
        if resource.owner_role and profile.declares("roles") and resource.owner_role not in profile.roles:
            raise ProfileError(src, f"{where}.owner_role", f"{resource.owner_role!r} is not a role of the profile",
                               "use one of " + ", ".join(profile.roles_by_level()))


def _validate_operations(profile: Profile) -> None:
    src = profile.source
    routed = {route.operation for route in profile.routes}
    for name in profile.operations:
        if name not in OPERATION_CAPABILITY and name not in routed:
            close = difflib.get_close_matches(name, OPERATION_CAPABILITY, n=1)
            hint = f"did you mean [operations.{close[0]}]?" if close else \
                "name a contract operation (" + ", ".join(OPERATION_CAPABILITY) + ")"
            raise ProfileError(src, f"operations.{name}", "not a contract operation, and no [[routes]] entry uses it",
                               hint + "; an operation of your own needs a [[routes]] entry naming it")
    upgrade = "" if profile.extends else (' (a profile that relied on the reference\'s routes: add extends = '
                                          '"reference" if it describes the reference, or run authconform profile '
                                          "upgrade FILE)")
    for name in ("login", "me"):
        if name not in profile.operations:
            raise ProfileError(src, f"operations.{name}", "every target needs this operation",
                               f"add [operations.{name}] with its method and path{upgrade}")
    for capability in profile.capabilities:
        own = [name for name, needed in OPERATION_CAPABILITY.items() if needed == capability]
        if capability == "documents" and profile.resources:
            continue  # its objects are the declared [[resources]]
        if own and not any(name in profile.operations for name in own):
            raise ProfileError(src, f"operations.{own[0]}",
                               f"capability {capability!r} is declared but none of its operations "
                               f"({', '.join(own)}) is described",
                               f"add [operations.{own[0]}] with method and path, or drop {capability!r} "
                               "from capabilities")
    if profile.tokens.delivery == "json" and not profile.tokens.access_field:
        raise ProfileError(src, "tokens.access_field", "is empty, so no access token can be found",
                           'name the JSON path of the access token in the login answer, e.g. "data.token"')


def _validate_users(profile: Profile) -> None:
    src = profile.source
    users = profile.users
    if users.source == "accounts" and not users.accounts:
        raise ProfileError(src, "users.accounts", 'users.source is "accounts" but no account is listed',
                           'add [[users.accounts]] tables with role, username = "${VAR}" and '
                           'password = "${VAR}"')
    if profile.declares("roles") and profile.declares("signup") and users.signup_role not in profile.roles:
        raise ProfileError(src, "users.signup_role", f"{users.signup_role!r} is not a role of the profile",
                           "name the role a sign-up gives, one of " + ", ".join(profile.roles_by_level()))
    for i, account in enumerate(users.accounts):
        where = f"users.accounts[{i}]"
        for name in ("username", "password"):
            if not getattr(account, name):
                raise ProfileError(src, f"{where}.{name}", "is empty",
                                   f'set it, e.g. {name} = "${{APP_{account.role.upper()}_{name.upper()}}}"')
        if profile.roles and account.role not in profile.roles:
            raise ProfileError(src, f"{where}.role", f"{account.role!r} is not a role of the profile",
                               "use one of " + ", ".join(profile.roles_by_level()))


def _validate_client(profile: Profile) -> None:
    src = profile.source
    client = profile.client
    if client.secret and not client.id:
        raise ProfileError(src, "client.id", "a client secret is set without a client id",
                           "set client.id to the target's client_id")
    for i, name in enumerate(client.operations):
        if name not in profile.operations and name not in OPERATION_CAPABILITY:
            raise ProfileError(src, f"client.operations[{i}]", f"no operation named {name!r}",
                               "name one of: " + ", ".join(sorted(profile.operations)))
        op = profile.operations.get(name)
        if client.id and client.method == "basic" and op is not None and op.auth == "basic":
            raise ProfileError(src, f"operations.{name}.auth",
                               '"basic" sends the user\'s credentials in the Authorization header, where the '
                               "client's HTTP Basic credentials also go",
                               f'send the client credentials in the body ([client] method = "body"), or drop {name!r} '
                               "from client.operations")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a profile, for editors (``authconform profile schema``)."""
    schema = Profile.model_json_schema()
    schema["properties"].pop("source", None)
    # The other spellings the loader reads (ALIASES, _legacy), so an editor does not flag them.
    schema["properties"]["credentials"] = {
        "type": "object", "additionalProperties": False,
        "description": "another spelling of [passwords]: password_min, password_max (0: no maximum)",
        "properties": {"password_min": {"type": "integer", "minimum": 0},
                       "password_max": {"type": "integer", "minimum": 0}}}
    target = schema["$defs"]["TargetSection"]["properties"]
    target["verify"] = {**target["verify_tls"], "description": "another name for verify_tls"}
    # A profile that extends the reference may change one field of an operation and keep its path.
    schema["$defs"]["Operation"].pop("required", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "authconform profile"
    return schema
