"""The fault catalog: named, realistic vulnerabilities the reference can be told to have.

Each fault switches on exactly one bug. The conformance self-test runs the suite against the
reference with each fault and expects the checks named in ``caught_by`` to fail: that is how a
check proves it can fail. Faults are data here; the code paths that honour them live in the
module that owns the behaviour, behind ``config.has_fault(name)``.

Faults are off by default, never reachable by a request, and refused at start-up unless the
configuration explicitly allows them (``allow_faults``), so a deployment cannot switch one on
by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Fault:
    name: str
    section: str
    imitates: str
    caught_by: tuple[str, ...]
    # Configuration the fault needs to be observable (e.g. an asymmetric algorithm).
    config: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


def _f(name: str, section: str, imitates: str, *caught_by: str, **config: object) -> Fault:
    return Fault(name, section, imitates, tuple(caught_by), MappingProxyType(dict(config)))


CATALOG: tuple[Fault, ...] = (
    # 1. Tokens
    _f("skip-signature-check", "1", "jwt.decode(token, options={\"verify_signature\": False})",
       "TOK-SIG-BROKEN", "TOK-SIG-NULL", "TOK-CLAIMS-TAMPERED"),
    _f("accept-alg-none", "1", "verification skipped when the unverified header says alg 'none'",
       "TOK-ALG-NONE"),
    _f("accept-alg-none-casing", "1", "alg 'none' in any casing taken as unsigned ('None', 'nOnE'; no PyJWT does this)",
       "TOK-ALG-NONE"),
    _f("hs-rs-key-confusion", "1", "jwt.decode(token, public_pem, algorithms=[header['alg']]) on a PyJWT without its "
       "HMAC key guard (CVE-2017-11424): HS256 verified with the RSA public key",
       "TOK-ALG-KEY-CONFUSION", jwt_algorithm="RS256"),
    _f("trust-embedded-jwk", "1", "jwt.decode(token, PyJWK(header['jwk'])): the key from the token's own jwk header",
       "TOK-HDR-JWK"),
    _f("fetch-jku", "1", "PyJWKClient(header['jku'] or header['x5u']): the key set fetched from a URL the token names",
       "TOK-HDR-JKU", "TOK-HDR-X5U"),
    _f("kid-file-lookup", "1", "kid used as a file path to load the HMAC key (path traversal to /dev/null)",
       "TOK-KID-INJECTION"),
    _f("kid-sql-lookup", "1", "kid concatenated into a SQL query that returns the signing key",
       "TOK-KID-INJECTION"),
    _f("psychic-ecdsa", "1", "ECDSA verifier accepts r = s = 0, raw or DER (CVE-2022-21449, no PyJWT does this)",
       "TOK-ECDSA-PSYCHIC", jwt_algorithm="ES256"),
    _f("blank-secret", "1", "signing secret read from an unset env var, so it is empty",
       "TOK-SECRET-BLANK"),
    _f("default-secret", "1", "signing secret left at a framework tutorial default",
       "TOK-SECRET-WEAK"),
    _f("access-token-single-use", "1", "access token jti put in a replay cache on first use, so it dies at once",
       "TOK-ACCESS-REUSABLE"),
    _f("copied-tutorial-secret", "1", "signing secret copied from the FastAPI docs' JWT tutorial: 64 hex "
       "characters, so a length check passes, yet published", "TOK-SECRET-WEAK"),
    _f("ignore-exp", "1", "options={\"verify_exp\": False}", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY"),
    _f("leeway-minutes", "1", "leeway=timedelta(minutes=5) instead of the declared seconds",
       "TOK-EXP-LEEWAY"),
    _f("ignore-nbf", "1", "options={\"verify_nbf\": False}", "TOK-NBF-FUTURE"),
    _f("accept-future-iat", "1", "options={\"verify_iat\": False}: iat not checked against the clock",
       "TOK-IAT-FUTURE"),
    _f("ignore-iss", "1", "options={\"verify_iss\": False}", "TOK-ISS-WRONG"),
    _f("ignore-aud", "1", "options={\"verify_aud\": False}", "TOK-AUD-WRONG"),
    _f("optional-claims", "1", "no options={\"require\": [...]}: PyJWT's default lets exp, nbf, iat and jti be "
       "left out", "TOK-CLAIMS-MISSING"),
    _f("refresh-as-access", "1", "no type check: a refresh token authenticates API calls (the auth.py monolith)",
       "TOK-TYPE-REFRESH-AS-ACCESS"),
    _f("access-as-refresh", "1", "refresh endpoint accepts an access token",
       "TOK-TYPE-ACCESS-AS-REFRESH"),
    _f("ignore-crit", "1", "unknown crit header parameters ignored (a JOSE layer without crit support)",
       "TOK-CRIT-UNKNOWN"),
    _f("token-in-query", "1", "access_token accepted from the URL query string", "TOK-QUERY-STRING"),
    _f("long-access-ttl", "1", "access tokens valid for 24 hours (the tenant middleware)",
       "TOK-ACCESS-TTL"),
    _f("refresh-token-long-lived", "1", "refresh tokens issued for a year, whatever the configured refresh TTL",
       "TOK-REFRESH-FORM"),
    _f("refresh-token-shared-jti", "1", "one jti per login written into both tokens, so the refresh token has "
       "no id of its own", "TOK-REFRESH-FORM"),
    _f("jwks-publishes-secret", "1", "the key set serialiser publishes the HMAC secret as an oct key",
       "TOK-JWKS-PUBLIC-ONLY"),
    _f("jwks-leaks-private", "1", "the JWKS is built from the private key object, so d, p and q are published",
       "TOK-JWKS-PUBLIC-ONLY", jwt_algorithm="RS256"),
    _f("admin-blueprint-unverified", "1", "the admin console's blueprint has its own token decorator: "
       "jwt.decode(token, options={\"verify_signature\": False}); every other route verifies",
       "TOK-FORGED-EVERY-OPERATION"),
    # 2. Refresh, logout, revocation
    _f("logout-client-side-only", "2", "logout only tells the client to forget its tokens",
       "REV-LOGOUT-ACCESS", "REV-LOGOUT-SESSION"),
    _f("logout-keeps-refresh", "2", "logout revokes the access token but not its refresh family",
       "REV-LOGOUT-REFRESH"),
    _f("logout-all-current-only", "2", "logout-all ends only the calling session", "REV-LOGOUT-ALL"),
    _f("password-change-keeps-sessions", "2", "password change leaves other sessions signed in",
       "REV-PASSWORD-CHANGE", "PROP-STATEFUL-MODEL"),
    _f("deleted-user-token-valid", "2", "tokens of a deleted user keep working until they expire",
       "REV-DELETED-USER"),
    _f("refresh-no-rotation", "2", "refresh returns the same refresh token again",
       "REV-REFRESH-ROTATES"),
    _f("refresh-reuse-accepted", "2", "a rotated refresh token stays valid", "REV-REFRESH-REUSE-REJECTED",
       "PROP-STATEFUL-MODEL"),
    _f("reuse-no-family-revoke", "2", "reuse of a rotated refresh token is refused but its family lives on",
       "REV-REFRESH-REUSE-FAMILY", "PROP-STATEFUL-MODEL"),
    _f("revocations-in-process", "2", "revoked ids kept in a per-process set, lost on restart and per worker",
       "REV-SHARED-STORE"),
    _f("fail-open-store", "2", "revocation store errors are swallowed and the token accepted",
       "REV-STORE-DOWN-FAILS-CLOSED"),
    # 3. Roles
    _f("self-promotion", "3", "any user may raise their own role one level (the auth.py monolith)",
       "ROLE-NO-SELF-CHANGE"),
    _f("role-mass-assignment", "3", "PATCH /users/me copies a role field onto the user",
       "ROLE-NO-SELF-CHANGE"),
    _f("grant-above-own", "3", "admins may grant any role, superadmin included", "ROLE-NO-GRANT-ABOVE"),
    _f("multi-level-promotion", "3", "promotion jumps straight to the requested level", "ROLE-ONE-LEVEL"),
    _f("editor-manages-users", "3", "user admin guarded by a minimum level of editor instead of manage_users",
       "ROLE-MANAGE-USERS-ONLY", "ROLE-MATRIX"),
    _f("cross-tenant-role-change", "3", "role change looks the user up by id without the tenant",
       "ROLE-NO-CROSS-TENANT"),
    _f("unknown-role-accepted", "3", "role names not validated", "ROLE-UNKNOWN-REJECTED"),
    _f("role-from-token", "3", "role read from the token, so a demotion waits for expiry",
       "ROLE-DEMOTION-IMMEDIATE", "ROLE-CLAIM-TAMPER"),
    _f("signup-role-accepted", "3", "sign-up copies a role field of the body onto the new user (mass "
       "assignment), so anyone signs up as superadmin", "ROLE-SIGNUP-NO-SUPERADMIN"),
    _f("viewer-can-write", "3", "document writes require only a valid token", "ROLE-MATRIX"),
    _f("audit-for-admins", "3", "audit log guarded by the admin role instead of the audit permission",
       "ROLE-MATRIX"),
    _f("admin-method-switch", "3", "the admin console's route answers PUT, PATCH and DELETE too, its permission "
       "checked under `if request.method == \"GET\"` only", "ROLE-METHOD-SWITCH"),
    _f("admin-path-case", "3", "the admin console is guarded by a path-prefix rule compared case-sensitively while "
       "its router matches paths case-insensitively, so /Admin/stats skips the guard", "ROLE-PATH-VARIANT"),
    _f("forbidden-for-anonymous", "3", "a missing token answered 403 instead of 401", "ROLE-MATRIX",
       "CRED-ERROR-FORMAT"),
    # 4. Sessions
    _f("evict-newest", "4", "the session limit evicts the newest session instead of the oldest",
       "SES-EVICT-OLDEST", "PROP-STATEFUL-MODEL"),
    _f("no-session-limit", "4", "sessions per user are unbounded", "SES-EVICT-OLDEST"),
    _f("sessions-not-bound", "4",
       "tokens not bound to their session: eviction leaves them working (the auth.py monolith)",
       "SES-EVICT-OLDEST", "REV-LOGOUT-SESSION", "PROP-STATEFUL-MODEL"),
    # Not named for PROP-STATEFUL-MODEL: its search finds this one only with some step sequences (the
    # no-false-pass matrix saw it pass under flaky-5xx and slow-answers); SES-IDLE-TIMEOUT always does.
    _f("no-idle-timeout", "4", "idle sessions never end", "SES-IDLE-TIMEOUT"),
    _f("no-absolute-timeout", "4", "an active session lives forever", "SES-ABSOLUTE-TIMEOUT"),
    _f("session-fixation", "4", "login adopts a session id the client supplied", "SES-FIXATION"),
    _f("predictable-session-id", "4", "session ids are a per-process counter", "SES-ID-FRESH"),
    _f("session-delete-noop", "4", "DELETE /auth/sessions/<id> answers 204 but the session lives on",
       "SES-DELETE"),
    _f("sessions-list-all-users", "4", "the sessions list is not filtered by user", "SES-LIST"),
    # 5. Tenancy
    _f("tenant-from-header", "5", "X-Tenant-ID header switches the tenant (the tenant middleware)",
       "TEN-HEADER-SPOOF"),
    _f("identity-from-headers", "5", "X-User-ID/X-Tenant-ID headers authenticate without a token",
       "TEN-HEADER-SPOOF"),
    _f("tenant-from-query", "5", "a tenant query parameter overrides the token's tenant on lists",
       "TEN-LIST-FILTER", "TEN-PARAM-SPOOF"),
    _f("cross-tenant-403", "5", "foreign documents answer 403, revealing that the id exists",
       "TEN-CROSS-TENANT-404"),
    _f("cross-tenant-404-tells", "5", "foreign documents answer 404, but with their own error code "
       "(wrong_tenant), which tells them from missing ids", "TEN-CROSS-TENANT-BODY"),
    _f("signup-joins-existing-tenant", "5", "sign-up creates its admin in the named tenant whether or not "
       "the tenant exists, so anyone joins another company as its admin", "TEN-SIGNUP-NEW-TENANT"),
    _f("superadmin-any-tenant", "5", "superadmin bypasses the tenant filter", "TEN-SUPERADMIN-CONFINED"),
    _f("document-idor", "5", "documents looked up by id alone, without the tenant",
       "TEN-CROSS-TENANT-404", "TEN-SUPERADMIN-CONFINED"),
    _f("owner-check-missing", "5", "any member of the tenant may change anyone's document",
       "TEN-OBJECT-ACCESS"),
    _f("note-idor", "5", "notes (the second resource, numeric ids) read and deleted by id alone: "
       "db.get(Note, id) without the owner or tenant check, while update keeps it",
       "TEN-OBJECT-ACCESS", "TEN-CROSS-TENANT-404", "TEN-SUPERADMIN-CONFINED", "TEN-ID-NEIGHBOUR"),
    _f("note-id-from-query", "5", "the owner check reads the note id from the path, the lookup from an id "
       "query parameter or form field when there is one (request.values)", "TEN-ID-ELSEWHERE"),
    # 6. Rate limiting
    _f("login-not-limited", "6", "login has no rate limit (the auth.py monolith)",
       "RL-LOGIN-ACCOUNT", "RL-LOGIN-IP"),
    _f("limiter-off-by-one", "6", "limiter compares with > instead of >=, admitting one extra",
       "RL-API-EXACT"),
    _f("limiter-per-process", "6", "limiter counters in process memory (the auth.py monolith)",
       "RL-ACROSS-WORKERS"),
    _f("limiter-race", "6", "limiter reads, then writes, the counter: a burst slips through",
       "RL-CONCURRENCY"),
    _f("no-ratelimit-headers", "6", "limited answers carry no RateLimit-* headers (Flask-Limiter's default: "
       "RATELIMIT_HEADERS_ENABLED off)", "RL-HEADERS"),
    _f("no-retry-after", "6", "a 429 without Retry-After", "RL-API-EXACT"),
    _f("limiter-never-resets", "6", "the window never resets once exhausted", "RL-WINDOW-RESET"),
    _f("trust-forwarded-for", "6", "client IP taken from X-Forwarded-For with no trusted proxy",
       "RL-XFF-SPOOF"),
    # 7. Credentials and errors
    _f("enumeration-status", "7", "unknown user answers 404, wrong password 401", "CRED-ENUM-STATUS"),
    _f("enumeration-message", "7", "the error message says which of user or password was wrong",
       "CRED-ENUM-BODY"),
    _f("enumeration-timing", "7", "no dummy hash for unknown users, so they answer faster",
       "CRED-ENUM-TIMING", hash_preset="default"),
    _f("password-change-no-current", "7", "the current password is verified only when the client sends one",
       "CRED-PASSWORD-CHANGE-CURRENT"),
    _f("duplicate-usernames", "7", "user creation upserts on the username: a taken name gets the new password "
       "and role", "CRED-USERNAME-UNIQUE"),
    _f("short-passwords", "7", "password length not enforced", "CRED-PASSWORD-LENGTH"),
    _f("hash-in-response", "7", "user serialiser includes the password hash", "CRED-NO-SECRET-LEAK"),
    _f("test-token-route", "7", "a debug route mints tokens for any user id (the tenant middleware)",
       "CRED-NO-MINT-ROUTE"),
    _f("crash-on-malformed-token", "7", "a token with a non-JSON header raises an unhandled error (500)",
       "PROP-MALFORMED-TOKEN"),
    _f("crash-on-malformed-body", "7", "a JSON body of the wrong shape raises an unhandled error (500)",
       "PROP-MALFORMED-BODY"),
    _f("crash-on-malformed-header", "7", "an Authorization header without a space raises (500)",
       "PROP-MALFORMED-AUTH-HEADER"),
    _f("no-www-authenticate", "7", "401 answers carry no WWW-Authenticate header", "CRED-ERROR-FORMAT"),
    _f("www-authenticate-no-error", "7", "the 401 for a bad token challenges with a bare Bearer realm, without "
       "error=\"invalid_token\" (FastAPI's HTTPBearer, DRF)", "CRED-WWW-AUTH-ERROR"),
    # 8. Cookie mode
    _f("cookie-flags-missing", "8", "token cookies set without HttpOnly and Secure", "COOK-FLAGS",
       cookie_mode=True),
    _f("cookie-samesite-none", "8", "token cookies set with SameSite=None", "COOK-FLAGS", cookie_mode=True),
    _f("refresh-cookie-any-path", "8", "refresh cookie sent on every path", "COOK-REFRESH-PATH",
       cookie_mode=True),
    _f("csrf-not-checked", "8", "cookie-authenticated writes need no CSRF token", "COOK-CSRF",
       cookie_mode=True),
    _f("logout-keeps-cookies", "8", "logout does not clear the token cookies", "COOK-LOGOUT-CLEARS",
       cookie_mode=True),
    # 9. Multi-factor authentication
    _f("mfa-reenrol-unguarded", "9", "MFA setup runs again while MFA is on with no code or password, so a "
       "stolen access token re-enrols the second factor", "MFA-ENROL"),
    _f("mfa-password-step-tokens", "9", "the password step already answers a full token pair beside the MFA "
       "challenge", "MFA-LOGIN-CHALLENGE"),
    _f("mfa-challenge-as-access", "9", "the token check ignores type, so the MFA challenge token authenticates "
       "API calls", "MFA-CHALLENGE-TYPE"),
    _f("mfa-challenge-reusable", "9", "a challenge token is not spent by its first verify", "MFA-CHALLENGE-SINGLE-USE"),
    _f("mfa-challenge-unbound", "9", "verify doubles as step-up: with a bearer token the code is checked against "
       "the caller, not the challenge's user", "MFA-CHALLENGE-BOUND"),
    _f("mfa-code-replay", "9", "the last used TOTP step is not remembered, so a code works again in its step",
       "MFA-CODE-REPLAY"),
    _f("mfa-wide-window", "9", "codes accepted twenty steps either side (valid_window=20)", "MFA-CODE-WINDOW"),
    _f("mfa-no-attempt-limit", "9", "verification attempts are not counted", "MFA-ATTEMPT-LIMIT"),
    _f("mfa-backup-code-reusable", "9", "a backup code is not marked used", "MFA-BACKUP-SINGLE-USE"),
    _f("mfa-backup-codes-in-clear", "9", "backup codes stored in clear, and the user serialiser dumps them to an "
       "admin", "MFA-BACKUP-NOT-EXPOSED"),
    _f("mfa-disable-without-code", "9", "turning MFA off checks the password only", "MFA-DISABLE"),
    _f("mfa-not-audited", "9", "MFA events are not written to the audit log", "MFA-AUDIT"),
)

BY_NAME: Mapping[str, Fault] = MappingProxyType({fault.name: fault for fault in CATALOG})


class UnknownFault(ValueError):
    """A fault name that is not in the catalog (a usage error for the commands that take one)."""


def parse_fault_list(text: str) -> frozenset[str]:
    """Parse ``AUTHCONF_FAULTS``-style text (comma separated); unknown names are an error."""
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - BY_NAME.keys())
    if unknown:
        raise UnknownFault(
            f"unknown fault(s) {', '.join(unknown)}; known faults: "
            f"{', '.join(sorted(BY_NAME))} (see `authconform faults`)"
        )
    return names
