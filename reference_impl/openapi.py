"""GET /openapi.json: an OpenAPI 3.1 description of every route of the reference."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from reference_impl.services import services

bp = Blueprint("openapi", __name__)


def _obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props, "additionalProperties": True}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_USERNAME = {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{1,64}$"}
_TENANT = {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"}
_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, "writeOnly": True}
_ROLE = {"type": "string", "enum": ["viewer", "editor", "admin", "superadmin"]}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(["error", "message"], error=_STR, message=_STR),
    "User": _obj(["id", "username", "tenant", "role"], id=_INT, username=_STR, tenant=_STR, role=_ROLE),
    "UserEnvelope": _obj(["user"], user={"$ref": "#/components/schemas/User"}),
    "Tokens": _obj(["token_type", "expires_in", "session_id"], access_token=_STR, refresh_token=_STR,
                   token_type={"type": "string", "const": "Bearer"}, expires_in=_INT, session_id=_STR),
    "Session": _obj(["id", "created_at", "last_seen_at", "current"], id=_STR, created_at={"type": "number"},
                    last_seen_at={"type": "number"}, current={"type": "boolean"}),
    "Document": _obj(["id", "title", "body", "owner_id", "tenant"], id=_STR, title=_STR, body=_STR,
                     owner_id=_INT, tenant=_STR),
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return _obj([key], **{key: {"type": "array", "items": item}})


# (method, path, summary, permission or None for public / "" for any authenticated user,
#  request body schema, success status, success body schema)
ROUTES: list[tuple[str, str, str, str | None, dict[str, Any] | None, int, dict[str, Any] | None]] = [
    ("post", "/auth/register", "Sign up: a new tenant with the caller as its admin", None,
     _obj(["username", "password", "tenant"], username=_USERNAME, password=_PASSWORD, tenant=_TENANT),
     201, _ref("UserEnvelope")),
    ("post", "/auth/login", "Log in; opens a session", None,
     _obj(["username", "password", "tenant"], username=_STR, password=_STR, tenant=_STR), 200, _ref("Tokens")),
    ("post", "/auth/refresh", "Rotate the refresh token; reuse of an old one ends the session", None,
     _obj([], refresh_token=_STR), 200, _ref("Tokens")),
    ("post", "/auth/logout", "End the current session and revoke the access token", "", None, 204, None),
    ("post", "/auth/logout-all", "End every session of the user", "", None, 204, None),
    ("get", "/auth/sessions", "The caller's live sessions", "", None, 200, _list("sessions", _ref("Session"))),
    ("delete", "/auth/sessions/{session_id}", "End one of the caller's sessions", "", None, 204, None),
    ("get", "/users/me", "The caller", "", None, 200, _ref("User")),
    ("patch", "/users/me", "Change the password (needs the current one); ends the other sessions", "",
     _obj(["current_password", "new_password"], current_password=_STR, new_password=_PASSWORD), 204, None),
    ("delete", "/users/me", "Delete the caller's account", "", None, 204, None),
    ("get", "/users", "The users of the caller's tenant", "manage_users", None, 200, _list("users", _ref("User"))),
    ("post", "/users", "Create a user in the caller's tenant", "manage_users",
     _obj(["username", "password"], username=_USERNAME, password=_PASSWORD, role=_ROLE), 201,
     _ref("UserEnvelope")),
    ("patch", "/users/{user_id}/role", "Change a user's role (one level up at most, never above one's own)",
     "manage_users", _obj(["role"], role=_ROLE), 200, _ref("UserEnvelope")),
    ("delete", "/users/{user_id}", "Delete a user of the caller's tenant", "manage_users", None, 204, None),
    ("get", "/documents", "Documents: an admin sees the tenant's, others their own", "read", None, 200,
     _list("documents", _ref("Document"))),
    ("post", "/documents", "Create a document", "write", _obj(["title", "body"], title=_STR, body=_STR), 201,
     _ref("Document")),
    ("get", "/documents/{document_id}", "Read a document", "read", None, 200, _ref("Document")),
    ("put", "/documents/{document_id}", "Change a document", "write", _obj([], title=_STR, body=_STR), 200,
     _ref("Document")),
    ("delete", "/documents/{document_id}", "Delete a document", "delete", None, 204, None),
    ("get", "/audit", "Security events of the caller's tenant", "audit", None, 200,
     _list("events", {"type": "object"})),
    ("get", "/.well-known/jwks.json", "The public signing keys", None, None, 200,
     _list("keys", {"type": "object"})),
    ("get", "/healthz", "Liveness, including the store", None, None, 200, _obj(["status"], status=_STR)),
    ("post", "/auth/mfa/setup", "Start TOTP enrolment: a fresh secret and otpauth URI (MFA on: a code or "
     "the password first)", "", _obj([], code=_STR, password=_STR), 200,
     _obj(["secret", "otpauth_uri"], secret=_STR, otpauth_uri=_STR)),
    ("post", "/auth/mfa/confirm", "Turn MFA on with a valid code; answers the backup codes, once", "",
     _obj(["code"], code=_STR), 200, _obj(["backup_codes"], backup_codes={"type": "array", "items": _STR})),
    ("post", "/auth/mfa/verify", "Second login step: the challenge token and a code (or a backup code)", None,
     _obj(["mfa_token", "code"], mfa_token=_STR, code=_STR), 200, _ref("Tokens")),
    ("post", "/auth/mfa/backup-codes", "Replace the backup codes (needs a code or the password)", "",
     _obj([], code=_STR, password=_STR), 200,
     _obj(["backup_codes"], backup_codes={"type": "array", "items": _STR})),
    ("post", "/auth/mfa/disable", "Turn MFA off (password and a code); ends the other sessions", "",
     _obj(["password", "code"], password=_STR, code=_STR), 200, _obj([], mfa_enabled={"type": "boolean"})),
    ("get", "/openapi.json", "This document", None, None, 200, {"type": "object"}),
]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, permission, request_schema, status, response_schema in ROUTES:
        operation: dict[str, Any] = {"summary": summary, "responses": {}}
        success: dict[str, Any] = {"description": "success"}
        if response_schema is not None:
            success["content"] = {"application/json": {"schema": response_schema}}
        operation["responses"][str(status)] = success
        parameters = [{"name": part[1:-1], "in": "path", "required": True, "schema": _STR}
                      for part in path.split("/") if part.startswith("{")]
        if parameters:
            operation["parameters"] = parameters
        if request_schema is not None:
            operation["requestBody"] = {"required": method != "post" or path != "/auth/refresh",
                                        "content": {"application/json": {"schema": request_schema}}}
            operation["responses"]["400"] = _error("malformed input")
        if permission is None:
            operation["security"] = []
        else:
            operation["responses"]["401"] = _error("missing or invalid token")
            operation["responses"]["429"] = _error("per-user rate limit")
            operation["responses"]["503"] = _error("the session store is unavailable")
            if permission:
                operation["x-permission"] = permission
                operation["responses"]["403"] = _error(f"the role lacks the {permission} permission")
        if "{" in path:
            operation["responses"]["404"] = _error("not found (also anything not reachable by the caller)")
        paths.setdefault(path, {})[method] = operation
    paths["/auth/login"]["post"]["responses"]["401"] = _error("invalid username, password or tenant")
    paths["/auth/login"]["post"]["responses"]["429"] = _error("too many login attempts")
    config = services().config
    return {
        "openapi": "3.1.0",
        "info": {"title": "authconform reference API", "version": "1",
                 "description": "The bundled reference implementation of the authconform auth contract."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": f"JWT ({config.jwt_algorithm})"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "access_token"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}] if config.cookie_mode else [{"bearer": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
