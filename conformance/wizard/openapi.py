"""Reading a target's OpenAPI document: which of its operations look like the contract's.

The document is read by the loader ``authconform run --openapi`` uses (``operations_catalog``:
JSON or YAML, ``$ref`` followed, each operation's method, path, security requirement and request
body); what is here is init's own: which fields look like credentials, a sign-up's or a password
change's, and the security schemes. Nothing here talks to the target. Every finding is a candidate
that the live probe confirms where it safely can; what it cannot confirm is written as a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.operations_catalog import DocumentOperation, document_operations

# Where OpenAPI documents usually live, in the order they are tried (FastAPI, Flask-RESTX and
# flasgger, Springdoc, and the paths people mount them under).
OPENAPI_PATHS = ("/openapi.json", "/openapi.yaml", "/swagger.json", "/apispec.json", "/api/openapi.json",
                 "/docs/openapi.json", "/v3/api-docs", "/api/swagger.json", "/api-docs", "/openapi.yml",
                 "/.well-known/openapi.json", "/api/v1/openapi.json", "/apispec_1.json")

USERNAME_FIELDS = ("username", "email", "login", "user", "user_name", "userName", "name")
PASSWORD_FIELDS = ("password", "pass", "passwd", "pwd")
TENANT_FIELDS = ("tenant", "tenant_id", "tenantId", "org", "organization", "organisation", "workspace")
REFRESH_FIELDS = ("refresh_token", "refreshToken", "refresh", "token")
CURRENT_PASSWORD_FIELDS = ("current_password", "old_password", "currentPassword", "oldPassword", "password")
NEW_PASSWORD_FIELDS = ("new_password", "newPassword", "password_new")
METHODS = ("get", "post", "put", "patch", "delete")  # the order a path's operations are matched in


@dataclass(eq=False)  # compared by identity: the same operation found twice is one
class ApiOperation(DocumentOperation):
    """One operation of the document, with what matching it to the contract needs."""

    @property
    def shape(self) -> str:
        """The path with every parameter written {id}, for comparing with the bundled profile."""
        return re.sub(r"\{[^}]*\}", "{id}", self.path)

    def field_named(self, names: tuple[str, ...]) -> str:
        for name in names:
            if name in self.properties:
                return name
        return ""

    def credential_fields(self) -> dict[str, str]:
        """The contract's username and password (and tenant, where there is one) -> this operation's
        field names; {} unless it takes both a username and a password."""
        user_field, password_field = self.field_named(USERNAME_FIELDS), self.field_named(PASSWORD_FIELDS)
        if not (user_field and password_field):
            return {}
        fields = {"username": user_field, "password": password_field}
        tenant_field = self.field_named(TENANT_FIELDS)
        if tenant_field:
            fields["tenant"] = tenant_field
        return fields

    def is_email(self, name: str) -> bool:
        """Does the document say this field holds an e-mail address (format email, or the name)?"""
        schema = self.properties.get(name, {})
        formats = [schema.get("format")] + [part.get("format") for part in schema.get("anyOf", [])
                                            if isinstance(part, dict)]
        return "email" in formats or name.lower() in ("email", "e-mail", "email_address", "emailaddress")

    def constant(self, name: str) -> str:
        """The one value a property allows (enum of one, const, or an anchored literal pattern)."""
        schema = self.properties.get(name, {})
        if isinstance(schema.get("const"), str):
            return str(schema["const"])
        if isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1:
            return str(schema["enum"][0])
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            match = re.fullmatch(r"\^?([A-Za-z_]+)\$?", pattern)
            if match:
                return match.group(1)
        return ""


@dataclass
class ApiDocument:
    url: str
    operations: list[ApiOperation]
    security_schemes: dict[str, dict[str, Any]]

    def find(self, method: str, pattern: str, *, exclude: str = "") -> list[ApiOperation]:
        found = [op for op in self.operations if op.method == method and re.search(pattern, op.path, re.I)
                 and not (exclude and re.search(exclude, op.path, re.I))]
        return sorted(found, key=lambda op: (op.path.count("/"), len(op.path)))

    def at(self, method: str, shape: str) -> ApiOperation | None:
        for op in self.operations:
            if op.method == method and op.shape == shape:
                return op
        return None

    def oauth2_password_urls(self) -> tuple[str, str]:
        """(tokenUrl, refreshUrl) of an OAuth2 password flow, as absolute paths."""
        for scheme in self.security_schemes.values():
            flows = scheme.get("flows", {}) if scheme.get("type") == "oauth2" else {}
            password = flows.get("password") if isinstance(flows, dict) else None
            if isinstance(password, dict) and password.get("tokenUrl"):
                return _absolute(str(password["tokenUrl"])), _absolute(str(password.get("refreshUrl") or ""))
        return "", ""

    def bearer_header(self) -> tuple[str, str] | None:
        """(header, scheme) the security schemes say tokens travel in, when they say so."""
        for scheme in self.security_schemes.values():
            kind = scheme.get("type")
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                return "Authorization", "Bearer"
            if kind == "oauth2":
                return "Authorization", "Bearer"
            if kind == "apiKey" and scheme.get("in") == "header" and scheme.get("name"):
                return str(scheme["name"]), ""
        return None

    def cookie_name(self) -> str:
        for scheme in self.security_schemes.values():
            if scheme.get("type") == "apiKey" and scheme.get("in") == "cookie" and scheme.get("name"):
                return str(scheme["name"])
        return ""


def _absolute(url: str) -> str:
    if not url:
        return ""
    if "://" in url:
        url = "/" + url.split("://", 1)[1].split("/", 1)[-1]
    return url if url.startswith("/") else "/" + url


def parse(document: Mapping[str, Any] | None, url: str) -> ApiDocument | None:
    """The operations of an OpenAPI 3 / Swagger 2 document (from ``operations_catalog.read_document``);
    None when there is none."""
    if document is None:
        return None
    components = document.get("components", {}) if isinstance(document.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or document.get("securityDefinitions") or {}
    operations = document_operations(document, ApiOperation, METHODS)
    return ApiDocument(url, operations, schemes if isinstance(schemes, dict) else {})
