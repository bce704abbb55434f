"""The verdict every check deserves against each example target (see test_example_targets.py
for why the failures are failures)."""

from __future__ import annotations

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

EXPECTED: dict[str, dict[str, set[str]]] = {
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
}


def expected_verdicts(name: str) -> dict[str, str]:
    expected = {check_id: verdict for verdict, ids in EXPECTED[name].items() for check_id in ids}
    assert sum(len(ids) for ids in EXPECTED[name].values()) == len(expected), f"{name}: a check is in two sets"
    return expected
