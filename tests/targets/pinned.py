"""The verdict every check deserves against each example target (see test_example_targets.py
for why the failures of notes, shop and portal are failures). The newer targets give a reason
beside each pin: for a fail, the real deviation; for an error, why the suite cannot judge; for a
not applicable, what the service lacks. A reason starting with PROVISIONAL marks a verdict that
comes from a limit of the suite, not of the service (see the note in test_example_targets.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

ROLE_CHECKS = {"ROLE-CLAIM-TAMPER", "ROLE-DEMOTION-IMMEDIATE", "ROLE-MANAGE-USERS-ONLY", "ROLE-MATRIX",
               "ROLE-NO-CROSS-TENANT", "ROLE-NO-GRANT-ABOVE", "ROLE-NO-SELF-CHANGE", "ROLE-ONE-LEVEL",
               "ROLE-UNKNOWN-REJECTED"}
TENANT_CHECKS = {"TEN-CROSS-TENANT-404", "TEN-HEADER-SPOOF", "TEN-LIST-FILTER", "TEN-OBJECT-ACCESS",
                 "TEN-PARAM-SPOOF", "TEN-SUPERADMIN-CONFINED"}
# Abilities only the in-process reference has (workers, restart, store control, a clock).
IN_PROCESS_ONLY = {"REV-SHARED-STORE", "REV-STORE-DOWN-FAILS-CLOSED", "SES-ABSOLUTE-TIMEOUT", "RL-ACROSS-WORKERS"}
API_LIMIT_CHECKS = {"RL-API-EXACT", "RL-CONCURRENCY", "RL-HEADERS", "RL-WINDOW-RESET"}
LOGIN_LIMIT_CHECKS = {"RL-LOGIN-ACCOUNT", "RL-LOGIN-IP", "RL-XFF-SPOOF"}
COOKIE_CHECKS = {"COOK-CSRF", "COOK-FLAGS", "COOK-LOGOUT-CLEARS", "COOK-REFRESH-PATH"}
# No example target has a second factor (contract section 9).
MFA_CHECKS = {"MFA-ATTEMPT-LIMIT", "MFA-AUDIT", "MFA-BACKUP-NOT-EXPOSED", "MFA-BACKUP-SINGLE-USE",
              "MFA-CHALLENGE-BOUND", "MFA-CHALLENGE-SINGLE-USE", "MFA-CHALLENGE-TYPE", "MFA-CODE-REPLAY",
              "MFA-CODE-WINDOW", "MFA-DISABLE", "MFA-ENROL", "MFA-LOGIN-CHALLENGE"}
# notes adds 2FA as Flask-JWT-Extended tutorials do: the pending-2FA token is an ordinary access token
# with a claim (so every route takes it, and verify can trade it again), pyotp's verify() remembers no
# used step and counts no attempt, setup needs no re-authentication, and disabling ends no other
# login; only the window (valid_window=1) and the challenge's own user hold. No recovery codes, no audit.
NOTES_MFA = {
    "pass": {"MFA-CHALLENGE-BOUND", "MFA-CODE-WINDOW"},
    "fail": {"MFA-ATTEMPT-LIMIT", "MFA-CHALLENGE-SINGLE-USE", "MFA-CHALLENGE-TYPE", "MFA-CODE-REPLAY", "MFA-DISABLE",
             "MFA-ENROL", "MFA-LOGIN-CHALLENGE"},
}
NOTES_MFA["not-applicable"] = MFA_CHECKS - NOTES_MFA["pass"] - NOTES_MFA["fail"]
# ---- branch mfa: notes with the MFA checks on declared accounts (2FA enabled by an operator, the
# secrets in the environment; mfa.source = "accounts"). Each pin with its reason.
DECLARED_ONLY = "not judged on a declared account (needs enrolment, or would strip the shared account's 2FA)"
NOTES_MFA_ACCOUNTS: dict[str, tuple[str, str]] = {
    "MFA-LOGIN-CHALLENGE": ("fail", "the pending-2FA token is an ordinary access token (type access, not mfa)"),
    "MFA-CHALLENGE-TYPE": ("fail", "the pending-2FA token is accepted as an access token"),
    "MFA-CHALLENGE-SINGLE-USE": ("fail", "verify trades the same pending-2FA token again"),
    "MFA-CODE-REPLAY": ("fail", "pyotp's verify() remembers no used step: a code logs in twice"),
    "MFA-CHALLENGE-BOUND": ("pass", "verify checks the code of the token's own user"),
    "MFA-CODE-WINDOW": ("partial", "valid_window=1 holds at verify; confirmation is not judged on a declared "
                                   "account"),
    "MFA-ATTEMPT-LIMIT": ("not-applicable", "a lockout of the shared account (mfa.attempt_window, 300 s) is "
                                            "longer than the run may wait to let it pass"),
    "MFA-ENROL": ("not-applicable", DECLARED_ONLY),
    "MFA-BACKUP-SINGLE-USE": ("not-applicable", DECLARED_ONLY),
    "MFA-BACKUP-NOT-EXPOSED": ("not-applicable", DECLARED_ONLY),
    "MFA-DISABLE": ("not-applicable", DECLARED_ONLY),
    "MFA-AUDIT": ("not-applicable", "no audit log (capability audit not declared)"),
}
# ---- end of branch mfa
MINTING_CHECKS = {"TOK-AUD-WRONG", "TOK-CLAIMS-MISSING", "TOK-CRIT-UNKNOWN", "TOK-IAT-FUTURE", "TOK-ISS-WRONG",
                  "TOK-NBF-FUTURE"}
SESSION_TIMEOUTS = {"SES-EVICT-OLDEST", "SES-IDLE-TIMEOUT"}
# Sign-up into tenants with roles: none of the example targets has both.
SIGNUP_TENANT_ROLE_CHECKS = {"ROLE-SIGNUP-NO-SUPERADMIN", "TEN-SIGNUP-NEW-TENANT"}

TOKEN_PASSES = {"TOK-ACCESS-TTL", "TOK-ALG-NONE", "TOK-CLAIMS-TAMPERED", "TOK-ECDSA-PSYCHIC", "TOK-HDR-JKU",
                "TOK-HDR-JWK", "TOK-HDR-X5U", "TOK-KID-INJECTION", "TOK-QUERY-STRING", "TOK-SECRET-BLANK",
                "TOK-REFRESH-FORM", "TOK-SIG-BROKEN", "TOK-SIG-NULL", "TOK-TYPE-ACCESS-AS-REFRESH",
                "TOK-TYPE-REFRESH-AS-ACCESS"}
ALWAYS_PASS = {"CRED-ENUM-BODY", "CRED-ENUM-STATUS", "CRED-NO-MINT-ROUTE", "CRED-NO-SECRET-LEAK",
               "PROP-MALFORMED-AUTH-HEADER", "PROP-MALFORMED-TOKEN"}



def because(why: str, *groups: Iterable[str]) -> dict[str, str]:
    """The same reason beside each check of ``groups``."""
    return {check_id: why for group in groups for check_id in group}


# Reasons the newer targets share.
NO_JWKS = because("HS256 with a shared secret: no JWKS to publish", {"TOK-ALG-KEY-CONFUSION", "TOK-JWKS-PUBLIC-ONLY"})
IN_PROCESS = because("an HTTP target: the suite cannot restart it, run its workers or stop its store", IN_PROCESS_ONLY)
NO_TENANTS = because("no tenants (and no tenant documents)", TENANT_CHECKS, {"TEN-SIGNUP-NEW-TENANT"})
NO_RATE_LIMITS = because("no rate limits", API_LIMIT_CHECKS, LOGIN_LIMIT_CHECKS, {"RL-ACROSS-WORKERS"})
NO_COOKIES = because("tokens travel in JSON and headers, not cookies", COOKIE_CHECKS)
NO_SERVER_SESSIONS = because("no server-side sessions to list, end, time out or evict",
                             {"SES-DELETE", "SES-LIST", "SES-ABSOLUTE-TIMEOUT"}, SESSION_TIMEOUTS)
NO_ROLES = because("no role hierarchy (one kind of user)", ROLE_CHECKS, {"ROLE-SIGNUP-NO-SUPERADMIN",
                                                                        "PROP-STATEFUL-MODEL"})
NO_LOGOUT_ALL = because("no logout-everywhere route", {"REV-LOGOUT-ALL"})
NO_SESSION_ID = because("logins name no session (no session id, no sid claim)", {"SES-FIXATION", "SES-ID-FRESH"})
NO_ACCOUNT_DELETION = because("no route deletes an account", {"REV-DELETED-USER"})
NO_MFA = because("no second factor (capability mfa not declared)", MFA_CHECKS)
NO_PASSWORD_CHANGE = because("no password change route", {"REV-PASSWORD-CHANGE", "CRED-PASSWORD-CHANGE-CURRENT"})
# members' roles are user and admin; the checks below ask the suite for a "viewer".
VIEWER_ONLY = because(
    "PROVISIONAL: the check asks for a viewer and members' [roles] are user and admin (the suite should ask "
    "for the lowest declared role)",
    {"TOK-ACCESS-TTL", "TOK-ALG-NONE", "TOK-AUD-WRONG", "TOK-CLAIMS-MISSING", "TOK-CLAIMS-TAMPERED",
     "TOK-CRIT-UNKNOWN", "TOK-ECDSA-PSYCHIC", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY", "TOK-HDR-JKU", "TOK-HDR-JWK",
     "TOK-HDR-X5U", "TOK-IAT-FUTURE", "TOK-ISS-WRONG", "TOK-KID-INJECTION", "TOK-NBF-FUTURE", "TOK-QUERY-STRING",
     "TOK-REFRESH-FORM", "TOK-SECRET-BLANK", "TOK-SECRET-WEAK", "TOK-SIG-BROKEN", "TOK-SIG-NULL",
     "TOK-TYPE-ACCESS-AS-REFRESH", "TOK-TYPE-REFRESH-AS-ACCESS", "REV-LOGOUT-ACCESS", "REV-LOGOUT-REFRESH",
     "REV-LOGOUT-SESSION", "REV-PASSWORD-CHANGE", "REV-REFRESH-REUSE-FAMILY", "REV-REFRESH-REUSE-REJECTED",
     "REV-REFRESH-ROTATES", "SES-FIXATION", "SES-ID-FRESH", "CRED-ENUM-BODY", "CRED-ENUM-STATUS", "CRED-ENUM-TIMING",
     "CRED-NO-MINT-ROUTE", "CRED-PASSWORD-CHANGE-CURRENT", "PROP-MALFORMED-AUTH-HEADER", "PROP-MALFORMED-TOKEN"})
# Passes the newer targets share: header tricks, signatures, enumeration, leaks, malformed input.
FOREIGN_PASSES = {"TOK-ALG-NONE", "TOK-ECDSA-PSYCHIC", "TOK-HDR-JKU", "TOK-HDR-JWK", "TOK-HDR-X5U",
                  "TOK-KID-INJECTION", "TOK-QUERY-STRING", "TOK-SECRET-BLANK", "TOK-SECRET-WEAK", "TOK-SIG-BROKEN",
                  "TOK-SIG-NULL", "CRED-ENUM-BODY", "CRED-ENUM-STATUS", "CRED-ENUM-TIMING", "CRED-NO-MINT-ROUTE",
                  "CRED-NO-SECRET-LEAK", "CRED-PASSWORD-LENGTH", "CRED-USERNAME-UNIQUE", "PROP-MALFORMED-AUTH-HEADER",
                  "PROP-MALFORMED-BODY"}

EXPECTED: dict[str, dict[str, Collection[str]]] = {
    "notes": {
        "pass": TOKEN_PASSES | ALWAYS_PASS | NOTES_MFA["pass"] | {
            "TOK-CRIT-UNKNOWN", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY", "TOK-IAT-FUTURE", "TOK-NBF-FUTURE",
            "TOK-SECRET-WEAK", "REV-DELETED-USER", "REV-LOGOUT-ACCESS", "CRED-USERNAME-UNIQUE"},
        "fail": NOTES_MFA["fail"] | {
                 "TOK-AUD-WRONG", "TOK-CLAIMS-MISSING", "TOK-ISS-WRONG", "REV-LOGOUT-REFRESH", "REV-LOGOUT-SESSION",
                 "REV-PASSWORD-CHANGE", "REV-REFRESH-ROTATES", "CRED-ENUM-TIMING", "CRED-ERROR-FORMAT",
                 "CRED-PASSWORD-CHANGE-CURRENT", "CRED-PASSWORD-LENGTH", "PROP-MALFORMED-BODY"},
        "error": {"REV-REFRESH-REUSE-FAMILY", "REV-REFRESH-REUSE-REJECTED"},
        "not-applicable": NOTES_MFA["not-applicable"] | ROLE_CHECKS | TENANT_CHECKS | IN_PROCESS_ONLY
        | API_LIMIT_CHECKS | LOGIN_LIMIT_CHECKS
        | COOKIE_CHECKS | SESSION_TIMEOUTS | SIGNUP_TENANT_ROLE_CHECKS | {
            "TOK-ALG-KEY-CONFUSION", "TOK-JWKS-PUBLIC-ONLY", "REV-LOGOUT-ALL", "SES-DELETE", "SES-FIXATION",
            "SES-ID-FRESH", "SES-LIST", "PROP-STATEFUL-MODEL"},
    },
    "shop": {
        "pass": TOKEN_PASSES | ALWAYS_PASS | MINTING_CHECKS | {
            "TOK-ALG-KEY-CONFUSION", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY", "TOK-JWKS-PUBLIC-ONLY", "REV-LOGOUT-ACCESS",
            "REV-LOGOUT-REFRESH",
            "REV-LOGOUT-SESSION", "REV-REFRESH-REUSE-FAMILY", "REV-REFRESH-REUSE-REJECTED", "REV-REFRESH-ROTATES",
            "SES-FIXATION", "SES-ID-FRESH", "RL-LOGIN-ACCOUNT", "RL-LOGIN-IP", "CRED-ENUM-TIMING",
            "PROP-MALFORMED-BODY"},
        "fail": {"RL-XFF-SPOOF", "CRED-ERROR-FORMAT"},
        "error": set(),
        "not-applicable": MFA_CHECKS | ROLE_CHECKS | TENANT_CHECKS | IN_PROCESS_ONLY | API_LIMIT_CHECKS | COOKIE_CHECKS
        | SESSION_TIMEOUTS | SIGNUP_TENANT_ROLE_CHECKS | {
            "TOK-SECRET-WEAK", "REV-DELETED-USER", "REV-LOGOUT-ALL", "REV-PASSWORD-CHANGE", "SES-DELETE",
            "SES-LIST", "CRED-PASSWORD-CHANGE-CURRENT", "CRED-PASSWORD-LENGTH", "CRED-USERNAME-UNIQUE",
            "PROP-STATEFUL-MODEL"},
    },
    "portal": {
        "pass": TOKEN_PASSES | ALWAYS_PASS | {
            "TOK-SECRET-WEAK", "REV-LOGOUT-ACCESS", "REV-LOGOUT-ALL", "REV-LOGOUT-REFRESH", "REV-LOGOUT-SESSION",
            "REV-REFRESH-REUSE-REJECTED", "REV-REFRESH-ROTATES", "SES-DELETE", "SES-FIXATION", "SES-ID-FRESH",
            "SES-LIST", "CRED-ENUM-TIMING", "CRED-PASSWORD-LENGTH", "CRED-USERNAME-UNIQUE", "COOK-CSRF",
            "COOK-REFRESH-PATH", "PROP-MALFORMED-BODY"},
        "fail": {"REV-REFRESH-REUSE-FAMILY", "CRED-ERROR-FORMAT", "COOK-FLAGS", "COOK-LOGOUT-CLEARS"},
        "error": set(),
        "not-applicable": MFA_CHECKS | ROLE_CHECKS | TENANT_CHECKS | IN_PROCESS_ONLY | API_LIMIT_CHECKS
        | LOGIN_LIMIT_CHECKS
        | MINTING_CHECKS | SESSION_TIMEOUTS | SIGNUP_TENANT_ROLE_CHECKS | {
            "TOK-ALG-KEY-CONFUSION", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY", "TOK-JWKS-PUBLIC-ONLY", "REV-DELETED-USER",
            "REV-PASSWORD-CHANGE", "CRED-PASSWORD-CHANGE-CURRENT", "PROP-STATEFUL-MODEL"},
    },
    "members": {
        "pass": {"ROLE-CLAIM-TAMPER", "ROLE-MATRIX", "ROLE-SIGNUP-NO-SUPERADMIN", "CRED-NO-SECRET-LEAK",
                 "CRED-PASSWORD-LENGTH", "CRED-USERNAME-UNIQUE", "PROP-MALFORMED-BODY"},
        "fail": {
            "CRED-ERROR-FORMAT": 'DRF answers {"detail": ...}, and its 401 carries no error="invalid_token"',
            "PROP-STATEFUL-MODEL": "PROVISIONAL, not a deviation: the state model evicts a sixth session although "
                                   "members declares no session_limit",
        },
        "error": because("PROVISIONAL: the role checks name the user by ids only, so the {username} of a "
                         "pre-provisioned account is unknown to the suite",
                         {"ROLE-DEMOTION-IMMEDIATE", "ROLE-MANAGE-USERS-ONLY", "ROLE-NO-SELF-CHANGE",
                          "ROLE-UNKNOWN-REJECTED"}),
        "not-applicable": NO_MFA | VIEWER_ONLY | NO_JWKS | IN_PROCESS | NO_TENANTS | NO_RATE_LIMITS | NO_COOKIES
        | NO_SERVER_SESSIONS | NO_LOGOUT_ALL | {
            "REV-DELETED-USER": "its accounts are pre-provisioned (sign-up makes only users): deleting one is not "
                                "the suite's to do",
            "ROLE-NO-CROSS-TENANT": "no tenants",
            "ROLE-NO-GRANT-ABOVE": "two roles: nothing above admin to grant",
            "ROLE-ONE-LEVEL": "two roles: no promotion of two levels to try"},
    },
    "tracker": {
        "pass": FOREIGN_PASSES | {"TOK-AUD-WRONG", "TOK-CLAIMS-TAMPERED", "TOK-CRIT-UNKNOWN", "TOK-EXP-EXPIRED",
                                  "TOK-EXP-LEEWAY", "TOK-IAT-FUTURE", "TOK-NBF-FUTURE"},
        "fail": {
            "TOK-CLAIMS-MISSING": "fastapi-users' decode_jwt requires no exp, and its tokens carry no iss or jti",
            "TOK-ISS-WRONG": "the JWT strategy neither sets nor checks iss",
            "PROP-MALFORMED-TOKEN": "a well-signed token with any iss authenticates (iss is never checked)",
            "REV-LOGOUT-ACCESS": "the JWT strategy cannot destroy a token: logout answers 204 and the token works",
            "REV-PASSWORD-CHANGE": "a password change revokes nothing (JWTs stay valid until exp)",
            "CRED-PASSWORD-CHANGE-CURRENT": "PATCH /users/me changes the password without the current one",
            "CRED-ERROR-FORMAT": 'FastAPI answers {"detail": ...}; a 401 carries no WWW-Authenticate error',
        },
        "error": {"TOK-ACCESS-TTL": "its tokens have no iat (nor nbf), so the suite cannot measure their lifetime"},
        "not-applicable": NO_MFA | NO_JWKS | IN_PROCESS | NO_TENANTS | NO_RATE_LIMITS | NO_COOKIES | NO_SERVER_SESSIONS
        | NO_ROLES | NO_LOGOUT_ALL | NO_SESSION_ID | NO_ACCOUNT_DELETION | because(
            "the JWT strategy issues no refresh token",
            {"TOK-REFRESH-FORM", "TOK-TYPE-ACCESS-AS-REFRESH", "TOK-TYPE-REFRESH-AS-ACCESS", "REV-LOGOUT-REFRESH",
             "REV-REFRESH-REUSE-FAMILY", "REV-REFRESH-REUSE-REJECTED", "REV-REFRESH-ROTATES", "COOK-REFRESH-PATH"})
        | {"REV-LOGOUT-SESSION": "no sessions and no refresh: one login has one token, so no other token of it"},
    },
    "ledger": {
        "pass": FOREIGN_PASSES | {
            "PROP-MALFORMED-TOKEN", "REV-LOGOUT-ACCESS", "REV-LOGOUT-REFRESH", "REV-REFRESH-REUSE-REJECTED",
            "REV-REFRESH-ROTATES", "TOK-ACCESS-TTL", "TOK-CRIT-UNKNOWN", "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY",
            "TOK-IAT-FUTURE", "TOK-ISS-WRONG", "TOK-NBF-FUTURE", "TOK-REFRESH-FORM", "TOK-TYPE-ACCESS-AS-REFRESH",
            "TOK-TYPE-REFRESH-AS-ACCESS"},
        "fail": {
            "TOK-AUD-WRONG": "ledger sets and checks no aud: a token for any audience is accepted",
            "TOK-CLAIMS-MISSING": "a token without aud is accepted (ledger requires exp, iat, jti and user_id only)",
            "REV-REFRESH-REUSE-FAMILY": "a reused refresh token is refused, but the pair issued from it keeps working",
            "CRED-ERROR-FORMAT": 'its 401 says WWW-Authenticate: Bearer realm="ledger", without error="invalid_token"',
        },
        "error": {"TOK-CLAIMS-TAMPERED": "PROVISIONAL: the check tampers with role or sub, and ledger names the user "
                                         "in user_id (tokens.subject_claim)"},
        "not-applicable": NO_MFA | NO_JWKS | IN_PROCESS | NO_TENANTS | NO_RATE_LIMITS | NO_COOKIES | NO_SERVER_SESSIONS
        | NO_ROLES | NO_LOGOUT_ALL | NO_SESSION_ID | NO_ACCOUNT_DELETION | NO_PASSWORD_CHANGE
        | {"REV-LOGOUT-SESSION": "no sessions: a login has no other token than its pair"},
    },
    "vault": {
        "pass": FOREIGN_PASSES | {"REV-LOGOUT-SESSION", "SES-FIXATION", "SES-ID-FRESH", "TOK-ACCESS-TTL",
                                  "TOK-CLAIMS-TAMPERED", "TOK-TYPE-ACCESS-AS-REFRESH", "TOK-TYPE-REFRESH-AS-ACCESS"},
        "fail": {
            "TOK-REFRESH-FORM": 'the refresh token names its type in "typ", not the contract\'s "type"',
            "REV-REFRESH-ROTATES": "renewal answers only a new access token: the refresh token is never rotated",
            "CRED-ERROR-FORMAT": 'FastAPI answers {"detail": ...}, not {"error", "message"}',
        },
        "error": because("single-use access tokens: the token the suite copies or presents was already spent by "
                         "an earlier request", {
                             "TOK-AUD-WRONG", "TOK-CLAIMS-MISSING", "TOK-CRIT-UNKNOWN", "TOK-EXP-EXPIRED",
                             "TOK-EXP-LEEWAY", "TOK-IAT-FUTURE", "TOK-ISS-WRONG", "TOK-NBF-FUTURE",
                             "REV-LOGOUT-ACCESS", "REV-LOGOUT-REFRESH", "PROP-MALFORMED-TOKEN"})
        | because("refresh does not rotate, so the reuse of a rotated refresh token cannot be tried",
                  {"REV-REFRESH-REUSE-FAMILY", "REV-REFRESH-REUSE-REJECTED"}),
        "not-applicable": NO_MFA | NO_JWKS | IN_PROCESS | NO_TENANTS | NO_RATE_LIMITS | NO_COOKIES | NO_SERVER_SESSIONS
        | NO_ROLES | NO_LOGOUT_ALL | NO_ACCOUNT_DELETION | NO_PASSWORD_CHANGE,
    },
}


# What sound verdicts changed (issue 21): a 429, a 422 or a dead token is no longer read as a refusal,
# protections are probed whether declared or not, a check asks for the target's own lowest role,
# and a pass that judged less than asked is partial. Each pin with the reason beside it.
NO_ACCOUNT_THROTTLE = ('no login throttling at all: 50 wrong passwords for one account, not one 429 (a protection '
    'every API owes)')
NO_IP_THROTTLE = 'no login throttling at all: 50 wrong logins from one client, not one 429'
REUSABLE = 'an access token is accepted on every use within its TTL'
BODY_PROBES_PACED = ("probes beyond the declared (here: the contract's default) rate budget are not sent, so "
    'fewer were judged than drawn')
# The body probes are paced per budget (the user's API requests, the logins of the address): a sign-up or
# refresh probe spends neither, so every example drawn is sent.
BODY_PROBES_ALL_SENT = "every example drawn was sent: the probes stay inside each declared budget on its own"
LOWEST_ROLE = 'judged now: the check asks for the lowest declared role (user) instead of a viewer'
SINGLE_USE = ('single-use access tokens: the credential the check relied on died after one use, so its '
    'refusals are no evidence')
CHANGES: dict[str, dict[str, tuple[str, str]]] = {
    'notes': {
        'PROP-MALFORMED-TOKEN': ('fail',
            'a well-signed token with a foreign aud authenticates (Flask-JWT-Extended checks no aud)'),
        'RL-LOGIN-ACCOUNT': ('fail', NO_ACCOUNT_THROTTLE),
        'RL-LOGIN-IP': ('fail', NO_IP_THROTTLE),
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
    },
    'shop': {
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
    },
    'portal': {
        'COOK-CSRF': ('error', (
            'PROVISIONAL: the cookie session the check relied on stopped working during its CSRF '
            'probes (not yet diagnosed)'
        )),
        'PROP-MALFORMED-BODY': ('partial', BODY_PROBES_PACED),
        'RL-LOGIN-ACCOUNT': ('fail', NO_ACCOUNT_THROTTLE),
        'RL-LOGIN-IP': ('fail', NO_IP_THROTTLE),
        'SES-EVICT-OLDEST': ('fail', (
            'sessions are listed, but a sixth login evicts none: no bound on sessions (owed where '
            'sessions exist)'
        )),
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
    },
    'members': {
        'CRED-ENUM-BODY': ('pass', LOWEST_ROLE),
        'CRED-ENUM-STATUS': ('pass', LOWEST_ROLE),
        'CRED-ENUM-TIMING': ('pass', LOWEST_ROLE),
        'CRED-NO-MINT-ROUTE': ('pass', LOWEST_ROLE),
        'CRED-PASSWORD-CHANGE-CURRENT': ('pass', LOWEST_ROLE),
        'PROP-MALFORMED-AUTH-HEADER': ('pass', LOWEST_ROLE),
        'PROP-MALFORMED-BODY': ('pass', BODY_PROBES_ALL_SENT),
        'PROP-MALFORMED-TOKEN': ('pass', LOWEST_ROLE),
        'REV-LOGOUT-ACCESS': ('fail', (
            'the blacklist app blacklists refresh tokens only: the access token works until it '
            'expires'
        )),
        'REV-LOGOUT-REFRESH': ('pass', LOWEST_ROLE),
        'REV-LOGOUT-SESSION': ('fail',
            'logout blacklists the refresh token; the presented access token keeps working'),
        'REV-PASSWORD-CHANGE': ('fail',
            'a password change revokes no token (JWTs stay valid until exp)'),
        'REV-REFRESH-REUSE-FAMILY': ('fail', (
            'a reused rotated refresh token is refused, but the newest pair of its family keeps '
            'working'
        )),
        'REV-REFRESH-REUSE-REJECTED': ('pass', LOWEST_ROLE),
        'REV-REFRESH-ROTATES': ('pass', LOWEST_ROLE),
        'RL-LOGIN-ACCOUNT': ('fail', NO_ACCOUNT_THROTTLE),
        'RL-LOGIN-IP': ('fail', NO_IP_THROTTLE),
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
        'TOK-ACCESS-TTL': ('pass', LOWEST_ROLE),
        'TOK-ALG-NONE': ('pass', LOWEST_ROLE),
        'TOK-AUD-WRONG': ('fail',
            'SimpleJWT sets and checks no aud unless AUDIENCE is configured'),
        'TOK-CLAIMS-MISSING': ('fail',
            'tokens without iss, aud or sub are accepted (SimpleJWT requires none of them by default)'),
        'TOK-CLAIMS-TAMPERED': ('pass', LOWEST_ROLE),
        'TOK-CRIT-UNKNOWN': ('pass', LOWEST_ROLE),
        'TOK-ECDSA-PSYCHIC': ('pass', LOWEST_ROLE),
        'TOK-EXP-EXPIRED': ('pass', LOWEST_ROLE),
        'TOK-EXP-LEEWAY': ('pass', LOWEST_ROLE),
        'TOK-HDR-JKU': ('pass', LOWEST_ROLE),
        'TOK-HDR-JWK': ('pass', LOWEST_ROLE),
        'TOK-HDR-X5U': ('pass', LOWEST_ROLE),
        'TOK-IAT-FUTURE': ('pass', LOWEST_ROLE),
        'TOK-ISS-WRONG': ('fail',
            'SimpleJWT checks no iss unless ISSUER is configured'),
        'TOK-KID-INJECTION': ('pass', LOWEST_ROLE),
        'TOK-NBF-FUTURE': ('pass', LOWEST_ROLE),
        'TOK-QUERY-STRING': ('pass', LOWEST_ROLE),
        'TOK-REFRESH-FORM': ('fail',
            "SimpleJWT names the type in token_type, not the contract's type claim"),
        'TOK-SECRET-BLANK': ('pass', LOWEST_ROLE),
        'TOK-SECRET-WEAK': ('pass', LOWEST_ROLE),
        'TOK-SIG-BROKEN': ('pass', LOWEST_ROLE),
        'TOK-SIG-NULL': ('pass', LOWEST_ROLE),
        'TOK-TYPE-ACCESS-AS-REFRESH': ('pass', LOWEST_ROLE),
        'TOK-TYPE-REFRESH-AS-ACCESS': ('pass', LOWEST_ROLE),
    },
    'tracker': {
        'PROP-MALFORMED-BODY': ('partial', BODY_PROBES_PACED),
        'PROP-MALFORMED-TOKEN': ('pass', (
            'the examples drawn under the ci profile find nothing; the iss deviation is pinned on '
            'TOK-ISS-WRONG'
        )),
        'RL-LOGIN-ACCOUNT': ('fail', NO_ACCOUNT_THROTTLE),
        'RL-LOGIN-IP': ('fail', NO_IP_THROTTLE),
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
    },
    'ledger': {
        'PROP-MALFORMED-BODY': ('pass', BODY_PROBES_ALL_SENT),
        'RL-LOGIN-ACCOUNT': ('fail', NO_ACCOUNT_THROTTLE),
        'RL-LOGIN-IP': ('fail', NO_IP_THROTTLE),
        'TOK-ACCESS-REUSABLE': ('pass', REUSABLE),
    },
    'vault': {
        'CRED-ENUM-BODY': ('error', SINGLE_USE),
        'CRED-ENUM-STATUS': ('error', SINGLE_USE),
        # main: its liveness control is a login after the sampling, used once; the rule is about login
        # timing, which single-use access tokens do not touch.
        'CRED-ENUM-TIMING': ('pass', 'failed logins take the same time for unknown users and wrong passwords'),
        'CRED-ERROR-FORMAT': ('error', SINGLE_USE),
        'CRED-NO-MINT-ROUTE': ('error', SINGLE_USE),
        'CRED-NO-SECRET-LEAK': ('error', SINGLE_USE),
        'CRED-PASSWORD-LENGTH': ('error', SINGLE_USE),
        'CRED-USERNAME-UNIQUE': ('error', SINGLE_USE),
        'PROP-MALFORMED-AUTH-HEADER': ('error', SINGLE_USE),
        'PROP-MALFORMED-BODY': ('error', SINGLE_USE),
        'REV-LOGOUT-SESSION': ('error', SINGLE_USE),
        'REV-REFRESH-ROTATES': ('error', SINGLE_USE),
        'RL-LOGIN-ACCOUNT': ('error', SINGLE_USE),
        'RL-LOGIN-IP': ('error', SINGLE_USE),
        'SES-FIXATION': ('error', SINGLE_USE),
        'SES-ID-FRESH': ('error', SINGLE_USE),
        'TOK-ACCESS-REUSABLE': ('fail',
            'its access tokens die after one use: a deviation from the contract (bearer tokens)'),
        'TOK-ACCESS-TTL': ('error', SINGLE_USE),
        'TOK-ALG-NONE': ('error', SINGLE_USE),
        'TOK-CLAIMS-TAMPERED': ('error', SINGLE_USE),
        'TOK-ECDSA-PSYCHIC': ('error', SINGLE_USE),
        'TOK-HDR-JKU': ('error', SINGLE_USE),
        'TOK-HDR-JWK': ('error', SINGLE_USE),
        'TOK-HDR-X5U': ('error', SINGLE_USE),
        'TOK-KID-INJECTION': ('error', SINGLE_USE),
        'TOK-QUERY-STRING': ('error', SINGLE_USE),
        'TOK-REFRESH-FORM': ('error', SINGLE_USE),
        'TOK-SECRET-BLANK': ('error', SINGLE_USE),
        'TOK-SECRET-WEAK': ('error', SINGLE_USE),
        'TOK-SIG-BROKEN': ('error', SINGLE_USE),
        'TOK-SIG-NULL': ('error', SINGLE_USE),
        'TOK-TYPE-ACCESS-AS-REFRESH': ('error', SINGLE_USE),
        'TOK-TYPE-REFRESH-AS-ACCESS': ('error', SINGLE_USE),
    },
}

# ---- branch engine (issue 16, item 8): the SHOULD rules of the contract have their own checks.
# CRED-WWW-AUTH-ERROR (RFC 6750's error="invalid_token", a SHOULD) and TEN-CROSS-TENANT-BODY (the
# body of a foreign object's 404) are new; CRED-ERROR-FORMAT no longer judges the error attribute.
NO_ERROR_ATTRIBUTE = 'its refusal of a bad token names no error="invalid_token" (a SHOULD of RFC 6750 §3)'
ENGINE_PINS: dict[str, dict[str, tuple[str, str]]] = {
    'notes': {'CRED-WWW-AUTH-ERROR': ('non-strict', 'a bad token is refused with 422 and no WWW-Authenticate')},
    'shop': {'CRED-WWW-AUTH-ERROR': ('non-strict', 'FastAPI\'s HTTPBearer challenges with a bare "Bearer"')},
    'portal': {'CRED-WWW-AUTH-ERROR': ('not-applicable', 'tokens travel in cookies, not as bearer tokens')},
    'members': {'CRED-WWW-AUTH-ERROR': ('non-strict', NO_ERROR_ATTRIBUTE)},
    'tracker': {'CRED-WWW-AUTH-ERROR': ('non-strict', 'its 401 for a bad token carries no WWW-Authenticate')},
    'ledger': {'CRED-WWW-AUTH-ERROR': ('non-strict', NO_ERROR_ATTRIBUTE),
               'CRED-ERROR-FORMAT': ('pass', 'its one deviation (no error="invalid_token") is now '
                                              'CRED-WWW-AUTH-ERROR\'s, a SHOULD')},
    'vault': {'CRED-WWW-AUTH-ERROR': ('pass', 'its 401 for a bad token names error="invalid_token"')},
}
for _name, _pins in ENGINE_PINS.items():
    CHANGES[_name].update(_pins)
    CHANGES[_name]['TEN-CROSS-TENANT-BODY'] = ('not-applicable', 'no tenants (and no tenant documents)')
# ---- end of branch engine


# --- resources (branch resources) ------------------------------------------------------------------
# The TEN-* checks judge each resource a profile declares in [[resources]]; TEN-OBJECT-ACCESS needs
# no tenants any more (two unrelated users), and TEN-ID-NEIGHBOUR / TEN-ID-ELSEWHERE are new. notes
# and ledger gained the resources such services have (their notes, their ledger entries).
RESOURCE_CHECKS = {"TEN-OBJECT-ACCESS", "TEN-ID-NEIGHBOUR", "TEN-ID-ELSEWHERE"}


def _no_resources(why: str) -> dict[str, tuple[str, str]]:
    return {check_id: ("not-applicable", why) for check_id in RESOURCE_CHECKS}


RESOURCES: dict[str, dict[str, tuple[str, str]]] = {
    'notes': {
        'TEN-OBJECT-ACCESS': ('pass', 'every notes query is filtered by current_user: another user\'s note '
                              'answers the 404 of a missing one'),
        'TEN-ID-NEIGHBOUR': ('pass', 'the ids either side of a user\'s own note answer like missing ones'),
        'TEN-ID-ELSEWHERE': ('pass', 'the note is the one the path names; ?id= and a body id are ignored'),
    },
    'ledger': {
        'TEN-OBJECT-ACCESS': ('fail', 'GET /api/entries/<id> looks the entry up by id alone: another user '
                              'reads it (200) where a missing id answers 404'),
        'TEN-ID-NEIGHBOUR': ('fail', 'sequential entry ids: the neighbours of a user\'s own entry are read '
                             'by id alone'),
        'TEN-ID-ELSEWHERE': ('pass', 'the entry is the one the path names; ?id= and a body id are ignored'),
    },
    'shop': _no_resources('its only resource, /orders, is a list with nothing to create: no object to probe'),
    'portal': _no_resources('no resources of its own: accounts and sessions only'),
    'members': _no_resources('its only objects are users, which admins reach by username (the role checks '
                             'judge that)'),
    'tracker': _no_resources('/users/{id} is for superusers only, its owner included: users there are not '
                             'objects a user owns'),
    'vault': _no_resources('no resources of its own: users and sessions only'),
}


# ---- branch operations (issue 20 §2-3): the per-operation checks (every protected operation of the profile,
# or of the OpenAPI document shop and tracker now name), one reason each.
GUARDS_HOLD = "every method and path spelling probed on its guarded reads is refused or unknown"
FORGERIES_REFUSED = "every forged token is refused on every protected operation probed"
OPERATIONS_CHANGES: dict[str, dict[str, tuple[str, str]]] = {
    name: {"ROLE-METHOD-SWITCH": ("pass", GUARDS_HOLD), "ROLE-PATH-VARIANT": ("pass", GUARDS_HOLD),
           "TOK-FORGED-EVERY-OPERATION": ("pass", FORGERIES_REFUSED)}
    for name in ("notes", "shop", "portal", "members", "tracker", "ledger", "vault")
}
OPERATIONS_CHANGES["notes"]["TOK-FORGED-EVERY-OPERATION"] = (
    "fail", "Flask-JWT-Extended checks no aud: a token for another audience passes on every route (and logout "
            "takes a refresh token: verify_type=False)")
OPERATIONS_CHANGES["members"]["TOK-FORGED-EVERY-OPERATION"] = (
    "fail", "SimpleJWT checks no aud unless AUDIENCE is set: a token for another audience passes on every route")
OPERATIONS_CHANGES["tracker"]["TOK-FORGED-EVERY-OPERATION"] = (
    "partial", "PROVISIONAL: fastapi-users' superuser routes (/users/{id}) refuse the suite's signed-up user "
               "(403), so their forgeries are not judged: the profile has no superuser account")
OPERATIONS_CHANGES["vault"] = {check_id: ("error", SINGLE_USE) for check_id in OPERATIONS_CHANGES["vault"]}


def expected_verdicts(name: str) -> dict[str, str]:
    expected = {check_id: verdict for verdict, ids in EXPECTED[name].items() for check_id in ids}
    assert sum(len(ids) for ids in EXPECTED[name].values()) == len(expected), f"{name}: a check is in two sets"
    for changes in (CHANGES, RESOURCES, OPERATIONS_CHANGES):
        expected.update({check_id: verdict for check_id, (verdict, _why) in changes.get(name, {}).items()})
    return expected
