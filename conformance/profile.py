"""Target profiles: what a target is, how the contract's operations map onto it, what it declares.

A profile is TOML. It is read over the bundled default (which describes the reference), so a
profile names only what differs. ``${NAME}`` is expanded from the environment, and any field can be
overridden from the command line (``--set tokens.access_ttl=60``). Every mistake is reported as
one ``ProfileError`` naming the file, the field and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "reference.toml"

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
    "documents": "tenant resources with owner/admin rules",
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
    "me_update": "password_change", "me_delete": "delete_account",
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
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REFRESH_PLACES = ("body", "header", "cookie")


class ProfileError(Exception):
    def __init__(self, source: str, field_path: str, problem: str, fix: str) -> None:
        self.source, self.field_path, self.problem, self.fix = source, field_path, problem, fix
        where = f"{source}: {field_path}" if field_path else source
        super().__init__(f"{where}: {problem}. Fix: {fix}")


def doc(text: str, **kwargs: Any) -> Any:
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class TargetSection:
    """Where the target is and how patiently to talk to it."""

    base_url: str = doc("URL of the target, e.g. http://127.0.0.1:8000", default="")
    connect_timeout: float = doc("seconds to wait for a TCP connection", default=3.0)
    read_timeout: float = doc("seconds to wait for a response", default=10.0)
    verify_tls: bool = doc("verify the target's TLS certificate (also written verify)", default=True)
    ca_file: str = doc("CA bundle to verify the target with (empty: system store)", default="")
    ready_timeout: float = doc("seconds the readiness probe waits for the target", default=20.0)
    ready_path: str = doc("path probed for readiness (any HTTP answer counts)", default="/healthz")
    max_wait: float = doc("longest real wait a time-dependent check may do over HTTP (s)", default=120.0)
    refusal_statuses: list[int] = doc("statuses with which the target refuses a request for its credentials "
                                      "(a Flask-JWT-Extended service answers 422 to a malformed token)",
                                      default_factory=lambda: [401, 403])
    rate_limited_statuses: list[int] = doc("statuses that mean the target's rate limiter answered, never a "
                                           "refusal on the rule a check probes", default_factory=lambda: [429])


@dataclass(frozen=True)
class TokensSection:
    """How tokens come back from login and refresh, how they are presented, and what they declare."""

    delivery: str = doc('where tokens come back and go: "json" (body + header) or "cookie"', default="json")
    access_field: str = doc("JSON path of the access token in a login answer", default="access_token")
    refresh_field: str = doc("JSON path of the refresh token in a login answer", default="refresh_token")
    session_field: str = doc("JSON path of the session id in a login answer (empty: none)",
                             default="session_id")
    header: str = doc("request header that carries the access token", default="Authorization")
    scheme: str = doc("scheme before the token in that header (empty: bare token)", default="Bearer")
    refresh_header: str = doc("header that carries the refresh token where an operation sends it in a header "
                              "(empty: the access token's header and scheme)", default="")
    refresh_scheme: str = doc("scheme before the refresh token in refresh_header (empty: bare token)",
                              default="")
    access_cookie: str = doc("cookie holding the access token (cookie delivery)", default="access_token")
    refresh_cookie: str = doc('cookie holding the refresh token (cookie delivery, or refresh_in = "cookie")',
                              default="refresh_token")
    csrf_cookie: str = doc("cookie holding the CSRF token (cookie delivery)", default="csrf_token")
    csrf_header: str = doc("header that must echo the CSRF cookie", default="X-CSRF-Token")
    algorithm: str = doc("the one signing algorithm the target accepts", default="HS256")
    issuer: str = doc("expected iss claim", default="authconform-reference")
    audience: str = doc("expected aud claim", default="authconform-api")
    access_ttl: int = doc("access token lifetime (s)", default=900)
    refresh_ttl: int = doc("refresh token lifetime (s)", default=604800)
    leeway: int = doc("clock leeway the target allows (s, 0-30)", default=0)


@dataclass(frozen=True)
class SessionsSection:
    """The declared session limits (capabilities session_limit, idle_timeout, absolute_timeout)."""

    max_sessions: int = doc("active sessions per user before the oldest is evicted", default=5)
    idle_timeout: int = doc("seconds of inactivity that end a session", default=1800)
    absolute_timeout: int = doc("seconds after login that end a session", default=28800)


@dataclass(frozen=True)
class RateLimitsSection:
    """The declared rate limits (capabilities rate_limit_api, rate_limit_login)."""

    api_limit: int = doc("authenticated requests per user per window", default=60)
    api_window: int = doc("window of the per-user limit (s)", default=60)
    login_account_limit: int = doc("login attempts per (client IP, username) per window", default=5)
    login_ip_limit: int = doc("login attempts per client IP per window", default=20)
    login_window: int = doc("window of the login limits (s)", default=60)
    trusted_proxies: int = doc("proxies whose X-Forwarded-For is trusted", default=0)


@dataclass(frozen=True)
class PasswordsSection:
    """The declared password length limits."""

    min_length: int = doc("shortest password accepted", default=8)
    max_length: int = doc("longest password accepted", default=128)


@dataclass(frozen=True)
class MfaSection:
    """The second factor (capability mfa): where its answers carry what, and the declared numbers.
    Request fields (code, mfa_token, password) are renamed by each operation's fields."""

    secret_field: str = doc("JSON path of the base32 TOTP secret in the mfa_setup answer", default="secret")
    uri_field: str = doc("JSON path of the otpauth:// URI in the mfa_setup answer", default="otpauth_uri")
    required_field: str = doc("JSON path of the flag that says the login needs a second step",
                              default="mfa_required")
    challenge_field: str = doc("JSON path of the MFA challenge token in the login answer", default="mfa_token")
    backup_codes_field: str = doc("JSON path of the backup-code list in the mfa_confirm and mfa_backup_codes "
                                  "answers", default="backup_codes")
    algorithm: str = doc("TOTP hash: SHA1, SHA256 or SHA512", default="SHA1")
    digits: int = doc("digits of a code", default=6)
    step: int = doc("TOTP time step (s)", default=30)
    window: int = doc("steps either side of the current one the target accepts", default=1)
    challenge_ttl: int = doc("lifetime of the MFA challenge token (s)", default=300)
    attempt_limit: int = doc("verification attempts per challenge, and failures per account, per window",
                             default=5)
    attempt_window: int = doc("window of the attempt limits (s)", default=300)
    backup_codes: int = doc("backup codes generated at confirmation (0: the target has none)", default=10)


MFA_ALGORITHMS = ("SHA1", "SHA256", "SHA512")


@dataclass(frozen=True)
class Operation:
    """One contract operation (login, refresh, me, ...) in the target's own terms."""

    method: str = doc("HTTP method", default="GET")
    path: str = doc("path; {id} is replaced by the object's id", default="/")
    body: str = doc('"json" or "form"', default="json")
    auth: str = doc('"access": the caller\'s access token goes along (as tokens.delivery says); "none": it '
                    "does not (e.g. an OAuth2 revocation endpoint that takes the refresh token in the body)",
                    default="access")
    refresh_in: str = doc('where the operation presents the refresh token: "body" (field refresh_token, renamed '
                          'by fields), "header" (tokens.refresh_header) or "cookie" (tokens.refresh_cookie); '
                          'empty: not at all, except the refresh operation itself, which then uses "body" '
                          '("cookie" with cookie delivery)', default="")
    fields: dict[str, str] = doc("contract field name -> the target's field name", default_factory=dict)
    extra: dict[str, str] = doc("constant fields sent with every call (e.g. grant_type)",
                                default_factory=dict)


@dataclass(frozen=True)
class Account:
    """A pre-provisioned account (for targets without sign-up)."""

    role: str = doc("role of this pre-provisioned account", default="viewer")
    tenant: str = doc("tenant of the account", default="")
    username: str = doc("username (use ${ENV_VAR})", default="")
    password: str = doc("password (use ${ENV_VAR})", default="")


@dataclass(frozen=True)
class UsersSection:
    """How the suite gets test users."""

    source: str = doc('"signup" (fresh users per check) or "accounts" (pre-provisioned)', default="signup")
    username_template: str = doc('how the suite names users it creates: {name} becomes a fresh name (e.g. '
                                 '"{name}@example.test" for a target that wants email addresses)',
                                 default="{name}")
    accounts: list[Account] = doc("pre-provisioned accounts per role and tenant", default_factory=list)


@dataclass(frozen=True)
class SigningSection:
    """The target's signing key, when you have it: time and claim checks then mint tokens."""

    algorithm: str = doc("algorithm of the key below (empty: same as tokens.algorithm)", default="")
    key: str = doc("signing key (HS secret or PEM private key); lets checks mint tokens", default="")
    key_file: str = doc("file holding the signing key", default="")
    kid: str = doc("kid header to put on minted tokens", default="")


@dataclass(frozen=True)
class ClientSection:
    """OAuth2 client credentials, sent with the operations that need them (RFC 6749 §2.3.1)."""

    id: str = doc("client_id (empty: no client credentials are sent)", default="")
    secret: str = doc("client_secret (use ${ENV_VAR}; redacted from every report)", default="")
    method: str = doc('"basic" (HTTP Basic, the RFC\'s default) or "body" (client_id and client_secret '
                      "fields, renamed by the operation's fields)", default="basic")
    operations: list[str] = doc("operations that send the client credentials",
                                default_factory=lambda: ["login", "refresh"])


@dataclass(frozen=True)
class Route:
    """A protected route and the permission it needs (read by the role checks)."""

    operation: str = doc("operation name from [operations]", default="")
    permission: str = doc("permission the route requires (read, write, delete, manage_users, audit)",
                          default="")


@dataclass(frozen=True)
class LoadSection:
    users: int = doc("simulated users of `authconform load` (--users overrides)", default=20)
    spawn_rate: float = doc("users started per second (--spawn-rate overrides)", default=10.0)
    run_time: int = doc("seconds of load, after which the run stops by itself (--run-time overrides)", default=20)
    workers: int = doc("locust worker processes; 0 runs one local process (--workers overrides)", default=0)
    max_run_time: int = doc("longest run the profile allows (s); a longer --run-time is refused", default=600)
    max_requests: int = doc("requests after which the load stops by itself, whatever the run time", default=200000)
    users_per_account: int = doc("simulated users sharing one account (and one client address): concurrency "
                                 "on one limiter key, one token, one refresh family", default=4)
    wrong_password_ratio: float = doc("login_storm: share of logins with a wrong password", default=0.3)
    unknown_user_ratio: float = doc("login_storm: share of logins naming an unknown user", default=0.2)
    route: str = doc("operation the probes hammer (rate_limit_probe, revocation_race)", default="me")
    max_over_admission: int = doc("threshold: requests admitted that the contract says must be refused (over "
                                  "a rate limit, with a revoked token, with a reused refresh token)", default=0)
    max_error_ratio: float = doc("threshold: share of requests with an unexpected outcome", default=0.01)
    max_p95_ms: float = doc("threshold: 95th percentile response time over all requests (ms)", default=2000.0)
    max_5xx: int = doc("threshold: answers with a 5xx status", default=0)


@dataclass(frozen=True)
class AttackerSection:
    """Where the suite's attacker endpoints (jku / x5u key servers) listen, so the target can reach them."""

    bind: str = doc("address the attacker server binds; loopback serves only loopback targets",
                    default="127.0.0.1")
    public_url: str = doc("URL under which the target reaches the attacker server (empty: http://bind:port, "
                          "only for a loopback target)", default="")


@dataclass(frozen=True)
class Profile:
    """A target: where it is, how the contract's operations map onto it, and what it declares."""

    name: str = doc("a name for reports", default="reference")
    source: str = doc("where the profile came from (set by the loader)", default="")
    capabilities: list[str] = doc("capabilities the target declares (see Capabilities by contract section)",
                                  default_factory=list)
    target: TargetSection = field(default_factory=TargetSection)
    tokens: TokensSection = field(default_factory=TokensSection)
    sessions: SessionsSection = field(default_factory=SessionsSection)
    rate_limits: RateLimitsSection = field(default_factory=RateLimitsSection)
    passwords: PasswordsSection = field(default_factory=PasswordsSection)
    mfa: MfaSection = field(default_factory=MfaSection)
    roles: dict[str, int] = doc("role name -> level", default_factory=dict)
    permissions: dict[str, list[str]] = doc("role name -> permissions", default_factory=dict)
    operations: dict[str, Operation] = doc("contract operation -> how the target does it",
                                           default_factory=dict)
    routes: list[Route] = doc("protected routes and the permission each needs", default_factory=list)
    users: UsersSection = field(default_factory=UsersSection)
    signing: SigningSection = field(default_factory=SigningSection)
    load: LoadSection = field(default_factory=LoadSection)
    client: ClientSection = field(default_factory=ClientSection)
    attacker: AttackerSection = field(default_factory=AttackerSection)
    waive: dict[str, str] = doc("protection -> the reason it is waived; a waived protection's checks are not "
                                "applicable with that reason, shown in the report", default_factory=dict)

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

    def role_level(self, role: str) -> int:
        return self.roles[role]

    def roles_by_level(self) -> list[str]:
        return sorted(self.roles, key=self.roles.__getitem__)

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any]) -> Profile:
        data = _as_data(self)
        for dotted, value in overrides.items():
            _set_dotted(data, dotted, value)
        return build(data, self.source)


# ---------------------------------------------------------------------------- loading

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load(path: str | os.PathLike[str] | None = None, *, overrides: dict[str, Any] | None = None,
         environ: typing.Mapping[str, str] | None = None) -> Profile:
    """Load a profile over the bundled default, expand ${VARS}, apply overrides, validate."""
    environ = os.environ if environ is None else environ
    data = _read_toml(DEFAULT_PROFILE)
    source = str(DEFAULT_PROFILE)
    if path is not None:
        source = str(path)
        user = _read_toml(Path(path))
        if user.pop("inherit", True) is False:
            data = {}
        data = _merge(data, user)
    for dotted, value in (overrides or {}).items():  # before expansion: an overridden ${VAR} need not be set
        _set_dotted(data, dotted, value, source="command line")
    data = _expand(data, environ, source, "")
    return build(data, source)


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


def build(data: dict[str, Any], source: str) -> Profile:
    data = dict(data)
    _apply_aliases(data)
    data["source"] = source
    profile = _build(Profile, data, source, "")
    _validate(profile)
    return profile


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


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
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


def _set_dotted(data: dict[str, Any], dotted: str, value: Any, source: str = "command line") -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ProfileError(source, dotted, f"{part} is not a table", "override a field inside a table")
        node = child
    node[parts[-1]] = value


def _as_data(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _as_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: _as_data(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_as_data(v) for v in obj]
    return obj


_TYPE_WORDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def _build(cls: type, data: Any, source: str, path: str) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(source, path or "(top level)", "expected a table",
                           f"write [{path}] with fields " + ", ".join(f.name for f in dataclasses.fields(cls)))
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "known fields: " + ", ".join(sorted(known))
            raise ProfileError(source, _join(path, key), "unknown field", hint)
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        values[name] = _convert(hints[name], value, source, _join(path, name))
    return cls(**values)


def _convert(hint: Any, value: Any, source: str, path: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, source, path)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ProfileError(source, path, f"expected a list, got {type(value).__name__}",
                               "write it as [ ... ]")
        return [_convert(item, v, source, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _key, item = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ProfileError(source, path, f"expected a table, got {type(value).__name__}",
                               "write it as a TOML table")
        return {k: _convert(item, v, source, _join(path, k)) for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    if isinstance(hint, types.UnionType):
        return value
    expected = _TYPE_WORDS.get(hint, str(hint))
    raise ProfileError(source, path, f"expected {expected}, got {value!r}", f"set it to {expected}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _validate(profile: Profile) -> None:
    src = profile.source
    tokens = profile.tokens
    if tokens.delivery not in ("json", "cookie"):
        raise ProfileError(src, "tokens.delivery", f"{tokens.delivery!r} is not a delivery",
                           'use "json" or "cookie"')
    if not 0 <= tokens.leeway <= 30:
        raise ProfileError(src, "tokens.leeway", f"{tokens.leeway} is outside 0-30 s",
                           "declare the leeway your target really allows (the contract caps it at 30 s)")
    for section, names in (("tokens", ("access_ttl", "refresh_ttl")),
                           ("sessions", ("max_sessions", "idle_timeout", "absolute_timeout")),
                           ("rate_limits", ("api_limit", "api_window", "login_account_limit",
                                            "login_ip_limit", "login_window"))):
        for name in names:
            if getattr(getattr(profile, section), name) <= 0:
                raise ProfileError(src, f"{section}.{name}", "must be positive", "declare a value above 0")
    for capability in profile.capabilities:
        if capability not in CAPABILITIES:
            close = difflib.get_close_matches(capability, CAPABILITIES, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(CAPABILITIES)
            raise ProfileError(src, "capabilities", f"unknown capability {capability!r}", hint)
    if profile.users.source not in ("signup", "accounts"):
        raise ProfileError(src, "users.source", f"{profile.users.source!r} is not a user source",
                           'use "signup" or "accounts"')
    if profile.users.source == "signup" and not profile.declares("signup"):
        raise ProfileError(src, "users.source", 'is "signup" but the profile does not declare signup',
                           'add "signup" to capabilities, or use source = "accounts" with [[users.accounts]]')
    for i, op in enumerate(profile.operations.values()):
        if op.body not in ("json", "form"):
            raise ProfileError(src, f"operations[{i}].body", f"{op.body!r} is not a body format",
                               'use "json" or "form"')
    _validate_operations(profile)
    _validate_mfa(profile)
    _validate_users(profile)
    _validate_client(profile)
    for i, route in enumerate(profile.routes):
        if route.operation not in profile.operations:
            raise ProfileError(src, f"routes[{i}].operation", f"no operation named {route.operation!r}",
                               "name one of: " + ", ".join(sorted(profile.operations)))
    base = profile.target.base_url
    if base and not re.match(r"^https?://[^/\s]+", base):
        raise ProfileError(src, "target.base_url", f"{base!r} is not an http(s) URL",
                           "write it like http://127.0.0.1:8000")


def _validate_operations(profile: Profile) -> None:
    src = profile.source
    routed = {route.operation for route in profile.routes}
    for name, op in profile.operations.items():
        where = f"operations.{name}"
        if name not in OPERATION_CAPABILITY and name not in routed:
            close = difflib.get_close_matches(name, OPERATION_CAPABILITY, n=1)
            hint = f"did you mean [operations.{close[0]}]?" if close else \
                "name a contract operation (" + ", ".join(OPERATION_CAPABILITY) + ")"
            raise ProfileError(src, where, "not a contract operation, and no [[routes]] entry uses it",
                               hint + "; an operation of your own needs a [[routes]] entry naming it")
        if op.method.upper() not in HTTP_METHODS or op.method != op.method.upper():
            raise ProfileError(src, f"{where}.method", f"{op.method!r} is not an HTTP method",
                               "use one of " + ", ".join(HTTP_METHODS) + " (upper case)")
        if not op.path.startswith("/"):
            raise ProfileError(src, f"{where}.path", f"{op.path!r} does not start with /",
                               "write the path from the root of the target, e.g. /api/login")
        if op.auth not in ("access", "none"):
            raise ProfileError(src, f"{where}.auth", f"{op.auth!r} is not a way to authenticate",
                               'use "access" or "none"')
        if op.refresh_in and op.refresh_in not in REFRESH_PLACES:
            raise ProfileError(src, f"{where}.refresh_in", f"{op.refresh_in!r} is not a place",
                               'use "body", "header" or "cookie" (or leave it out)')
    for name in ("login", "me"):
        if name not in profile.operations:
            raise ProfileError(src, f"operations.{name}", "every target needs this operation",
                               f"add [operations.{name}] with its method and path")
    for capability in profile.capabilities:
        for name, needed in OPERATION_CAPABILITY.items():
            if needed == capability and name not in profile.operations:
                raise ProfileError(src, f"operations.{name}",
                                   f"capability {capability!r} is declared but the operation is not described",
                                   f"add [operations.{name}] with method and path, or drop {capability!r} "
                                   "from capabilities")
    if profile.tokens.delivery == "json" and not profile.tokens.access_field:
        raise ProfileError(src, "tokens.access_field", "is empty, so no access token can be found",
                           'name the JSON path of the access token in the login answer, e.g. "data.token"')


def _validate_mfa(profile: Profile) -> None:
    src, mfa = profile.source, profile.mfa
    if mfa.algorithm not in MFA_ALGORITHMS:
        raise ProfileError(src, "mfa.algorithm", f"{mfa.algorithm!r} is not a TOTP hash",
                           "use one of " + ", ".join(MFA_ALGORITHMS))
    for name in ("digits", "step", "challenge_ttl", "attempt_limit", "attempt_window"):
        if getattr(mfa, name) <= 0:
            raise ProfileError(src, f"mfa.{name}", "must be positive", "declare a value above 0")
    for name in ("window", "backup_codes"):
        if getattr(mfa, name) < 0:
            raise ProfileError(src, f"mfa.{name}", "must be 0 or more", "declare 0 or a positive number")


def _validate_users(profile: Profile) -> None:
    src = profile.source
    users = profile.users
    if users.source == "accounts" and not users.accounts:
        raise ProfileError(src, "users.accounts", 'users.source is "accounts" but no account is listed',
                           'add [[users.accounts]] tables with role, username = "${VAR}" and '
                           'password = "${VAR}"')
    if "{name}" not in users.username_template:
        raise ProfileError(src, "users.username_template", "does not contain {name}",
                           'write it around {name}, e.g. "{name}@example.test"')
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
    if client.method not in ("basic", "body"):
        raise ProfileError(src, "client.method", f"{client.method!r} is not a client authentication method",
                           'use "basic" or "body"')
    if client.secret and not client.id:
        raise ProfileError(src, "client.id", "a client secret is set without a client id",
                           "set client.id to the target's client_id")
    for i, name in enumerate(client.operations):
        if name not in profile.operations:
            raise ProfileError(src, f"client.operations[{i}]", f"no operation named {name!r}",
                               "name one of: " + ", ".join(sorted(profile.operations)))
