"""GET /openapi.json: an OpenAPI 3.1 description of the reference, written from the declarations of
its own routes (reference_impl/operations.py), so it says what the code does: every status a route
can answer, the request schemas with the rules the views enforce, and who may call what."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app

from reference_impl.config import Config
from reference_impl.operations import Access, Operation, declared, route
from reference_impl.role_access import ROLE_ORDER, has_permission
from reference_impl.services import services

bp = Blueprint("openapi", __name__)
# The lowest role that may call an operation, for tools that read the document (authconform's route matrix).
MIN_ROLE_EXTENSION = "x-authconform-min-role"
Schema = dict[str, Any]


def obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": True}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def listing(key: str, item: Schema) -> Schema:
    return obj([key], **{key: {"type": "array", "items": item}})


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
ROLE: Schema = {"type": "string", "enum": ROLE_ORDER}

# The shapes of the answers (the requests' shapes live with their routes).
COMPONENTS: dict[str, Schema] = {
    "Error": obj(["error", "message"], error=STRING, message=STRING),
    "User": obj(["id", "username", "tenant", "role"], id=INTEGER, username=STRING, tenant=STRING, role=ROLE),
    "UserEnvelope": obj(["user"], user=ref("User")),
    "Tokens": obj(["token_type", "expires_in", "session_id"], access_token=STRING, refresh_token=STRING,
                  token_type={"type": "string", "const": "Bearer"}, expires_in=INTEGER, session_id=STRING),
    "Session": obj(["id", "created_at", "last_seen_at", "current"], id=STRING, created_at={"type": "number"},
                   last_seen_at={"type": "number"}, current={"type": "boolean"}),
    "Document": obj(["id", "title", "body", "owner_id", "tenant"], id=STRING, title=STRING, body=STRING,
                    owner_id=INTEGER, tenant=STRING),
    "Note": obj(["id", "title", "text", "owner_id"], id=INTEGER, title=STRING, text=STRING, owner_id=INTEGER),
    "Event": obj(["id", "at", "action", "actor_id", "subject", "detail"], id=INTEGER, at={"type": "number"},
                 action=STRING, actor_id={"type": ["integer", "null"]}, subject=STRING, detail={"type": "object"}),
}


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _parameters(operation: Operation) -> list[Schema]:
    found = [{"name": name, "in": "path", "required": True, "schema": schema}
             for name, schema in operation.path_parameters.items()]
    found += [{"name": name, "in": "query", "required": False, "schema": schema}
              for name, schema in operation.query_parameters.items()]
    return found


def min_role(permission: str) -> str:
    """The lowest role of the hierarchy that holds ``permission``."""
    return next(role for role in ROLE_ORDER if has_permission(role, permission))


def describe(endpoint: str, operation: Operation, config: Config) -> Schema:
    """The OpenAPI operation object of one declaration (its operationId: the Flask endpoint)."""
    success: Schema = {"description": "success"}
    if operation.returns is not None:
        success["content"] = {"application/json": {"schema": operation.returns}}
    if operation.links:
        success["links"] = {name: {"operationId": target, "parameters": dict(parameters)}
                            for name, (target, parameters) in operation.links.items()}
    responses = {str(operation.success): success}
    responses.update({str(status): _error(when) for status, when in operation.error_answers(config).items()})
    described: Schema = {"operationId": endpoint, "summary": operation.summary, "responses": responses}
    parameters = _parameters(operation)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {"required": operation.body_required,
                                    "content": {"application/json": {"schema": operation.body}}}
    if operation.access is Access.PUBLIC:
        described["security"] = []
    elif operation.permission:
        described["x-permission"] = operation.permission
        described[MIN_ROLE_EXTENSION] = min_role(operation.permission)
    return described


def document(app: Flask) -> Schema:
    config = services().config
    paths: dict[str, dict[str, Schema]] = {}
    for endpoint, operation in declared(app):
        paths.setdefault(operation.path, {})[operation.method.lower()] = describe(endpoint, operation, config)
    return {
        "openapi": "3.1.0",
        "info": {"title": "authconform reference API", "version": "1",
                 "description": "The bundled reference implementation of the authconform auth contract."},
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": f"JWT ({config.jwt_algorithm})"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "access_token"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}] if config.cookie_mode else [{"bearer": []}],
    }


@route(bp, Operation("get", "/openapi.json", "This document", 200, {"type": "object"}, access=Access.PUBLIC,
                     uses_storage=False))
def openapi() -> Any:
    return document(current_app)
