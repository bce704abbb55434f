"""The operations of a target that the per-operation checks judge (route matrix, forged tokens,
unauthenticated minting routes), with who may call each and a valid request for it.

Two sources. Without an OpenAPI document, the profile: each ``[[routes]]`` entry's operation with
the lowest role holding its permission, and every other operation it offers that takes the access
token. With one (``[openapi] document``, ``--openapi``), every operation of the document, read by
``read_document`` and ``document_operations`` (plain data: ``authconform init`` reads documents
with them too): its method and path, whether its security requirement is declared, its lowest role
(a ``[openapi] min_roles`` path pattern, else ``x-authconform-min-role``, else the lowest role
holding its ``x-permission``), and a valid request drawn from Schemathesis' positive data
generation (the ``[openapi]`` extra). Schemathesis only builds requests here: every one is sent by
the check, through the Target seam (``ctx.send``), never by Schemathesis. A document the profile
names by path is itself fetched through the target.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import yaml

from conformance.attacker_server import is_loopback
from conformance.extras import MissingExtra, require
from conformance.verdict import NotApplicable

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.profile import Profile
    from conformance.targets.base import Response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DOCUMENT_METHODS = ("get", "put", "post", "delete", "patch")
MIN_ROLE_EXTENSION = "x-authconform-min-role"
PERMISSION_EXTENSION = "x-permission"
# An id that names nothing: path parameters of probes the suite did not create an object for.
MISSING_INTEGER = 987_654_321
# Contract operations whose success ends or changes the caller's own credential: a probe calling
# one with a valid token uses a session (or a user) of its own.
ENDS_CREDENTIAL = frozenset({"logout", "logout_all", "me_delete", "me_update", "session_delete", "mfa_setup",
                             "mfa_confirm", "mfa_disable", "mfa_backup_codes", "refresh"})
ENDING_WORDS = re.compile(r"log-?out|sign-?out|revoke|password|/mfa/|/2fa/", re.IGNORECASE)
# Contract operations that are open by design (the suite's own way in).
OPEN_BY_DESIGN = frozenset({"login", "signup", "refresh", "mfa_verify", "jwks", "health"})
# Seed of the sample taken when the catalog is larger than [limits] operations (the same every run).
SAMPLE_SEED = 20


@dataclass(frozen=True)
class CatalogOperation:
    """One operation: what it is, who may call it, and how to build a valid request for it."""

    method: str  # upper case
    path: str  # template, {name} for each parameter
    secured: bool  # a security requirement (or, from the profile, an access token) is declared
    min_role: str  # the lowest role that may call it ("" when unsecured)
    name: str  # the profile's operation name, or the document's operationId, or "METHOD /path"
    source: str  # "profile" or "openapi"
    permission: str = ""
    words: tuple[str, ...] = ()  # path segments and request body property names (for minting routes)
    contract: str = ""  # the contract operation it is in the profile ("" when none)
    document: str = ""  # digest of the document it comes from
    _template: Any = field(default=None, compare=False, repr=False)  # a Schemathesis APIOperation

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    @property
    def safe(self) -> bool:
        return self.method in SAFE_METHODS

    @property
    def ends_credential(self) -> bool:
        return self.contract in ENDS_CREDENTIAL or bool(ENDING_WORDS.search(self.path)) or (
            self.method == "DELETE" and self.path.rstrip("/").endswith("/me"))


@dataclass(frozen=True)
class Request:
    """A request for one operation, without credentials (the check adds its own)."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def varied(self, *, method: str | None = None, path: str | None = None) -> Request:
        body = self.json_body if method is None or method not in SAFE_METHODS else None
        if method is not None and method not in SAFE_METHODS and body is None:
            body = {}
        return Request(method or self.method, path or self.path, self.params, body, self.headers)


@dataclass
class Catalog:
    operations: list[CatalogOperation]
    source: str  # said in results: "the profile's [[routes]]" or "OpenAPI document X"

    def protected(self) -> list[CatalogOperation]:
        return [op for op in self.operations if op.secured]

    def unauthenticated(self) -> list[CatalogOperation]:
        return [op for op in self.operations if not op.secured]

    def methods_at(self, path: str) -> set[str]:
        return {op.method for op in self.operations if op.path == path}

    def paths(self) -> set[str]:
        return {op.path for op in self.operations}


def sample(operations: list[CatalogOperation], limit: int) -> tuple[list[CatalogOperation], list[CatalogOperation]]:
    """At most ``limit`` operations (the same ones every run), and those left out."""
    if len(operations) <= limit:
        return list(operations), []
    chosen = set(random.Random(SAMPLE_SEED).sample(range(len(operations)), limit))
    return ([op for i, op in enumerate(operations) if i in chosen],
            [op for i, op in enumerate(operations) if i not in chosen])


def mutation_allowed(ctx: CheckContext) -> bool:
    """[safety] mutate, or by default: yes for a loopback (or in-process) target, no otherwise."""
    declared = ctx.profile.safety.mutate
    if declared is not None:
        return declared
    host = urlsplit(ctx.profile.target.base_url).hostname or ""
    return ctx.target.clock is not None or is_loopback(host)


# ---------------------------------------------------------------------------- building the catalog


def catalog(ctx: CheckContext) -> Catalog:
    """The operations of ``ctx``'s target: its OpenAPI document's when the profile names one, else its routes."""
    document = ctx.profile.openapi.document
    if not document:
        return from_profile(ctx.profile)
    try:
        require("openapi", "reading an OpenAPI document ([openapi] document, --openapi)")
    except MissingExtra as exc:
        raise NotApplicable(f"install authconform[openapi] to read the OpenAPI document ({exc})") from None
    text = _document_text(ctx, document)
    return from_document(text, ctx.profile, name=document)


def from_profile(profile: Profile) -> Catalog:
    """The [[routes]] (with their permissions), then every other operation the profile offers that takes
    the access token (any signed-in user may call it, as far as the profile says)."""
    permissions = {route.operation: route.permission for route in profile.routes}
    names = [*permissions, *(name for name in profile.operations if name not in permissions)]
    operations = []
    for name in names:
        if not profile.offers(name) or name in OPEN_BY_DESIGN:
            continue
        op = profile.operation(name)
        if name not in permissions and op.auth != "access":
            continue
        permission = permissions.get(name, "")
        operations.append(CatalogOperation(
            method=op.method, path=op.path, secured=op.auth == "access",
            min_role=_min_role(profile, op.path, "", permission), name=name, source="profile",
            permission=permission, words=tuple(_segments(op.path)), contract=name))
    operations = [op for op in operations if not _excluded(profile, op)]
    return Catalog(operations, "the profile's operations and [[routes]]")


def from_document(text: str, profile: Profile, *, name: str = "the OpenAPI document") -> Catalog:
    schema = _schema(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    templates = {(op.method.upper(), op.path): op for op in (result.ok() for result in schema.get_all_operations())
                 if op is not None}
    contract = {(op.method, _shape(op.path)): op_name for op_name, op in profile.operations.items()}
    operations = []
    for documented in document_operations(schema.raw_schema, DocumentOperation):
        method, path = documented.method, documented.path
        template = templates.get((method, path))
        if template is None:  # Schemathesis could not read it: no valid request to build
            continue
        secured = documented.secured
        named = contract.get((method, _shape(path)), "")
        if named in OPEN_BY_DESIGN or (named and profile.operations[named].auth != "access"):
            secured = False  # a way in (its security is the client's, or a token in the body), not a bearer route
        permission = documented.permission
        stated = str(documented.definition.get(MIN_ROLE_EXTENSION, "") or "")
        item = CatalogOperation(
            method=method, path=path, secured=secured,
            min_role=_min_role(profile, path, stated, permission) if secured else "",
            name=str(documented.definition.get("operationId") or f"{method} {path}"), source="openapi",
            permission=permission, words=tuple(_segments(path)) + tuple(name.lower() for name in documented.properties),
            contract=named, document=digest, _template=template)
        if not _excluded(profile, item):
            operations.append(item)
    return Catalog(operations, f"OpenAPI document {name} ({len(operations)} operations)")


def _document_text(ctx: CheckContext, document: str) -> str:
    """The document's text: a path (or a URL on the target) through the target, else a file."""
    base = ctx.profile.target.base_url.rstrip("/")
    path = ""
    if Path(document).is_file():
        return Path(document).read_text(encoding="utf-8")
    if document.startswith("/"):
        path = document
    elif base and document.startswith(base + "/"):
        path = document[len(base):]
    elif re.match(r"^https?://", document):
        raise NotApplicable(f"the OpenAPI document {document} is not on the target ({base or 'no base_url'}); "
                            "save it to a file and pass its path, or name it by its path on the target")
    if path:
        response = ctx.send("GET", path, note="the target's OpenAPI document")
        ctx.control(200 <= response.status < 300, f"the OpenAPI document {path} answered {response.status}")
        return response.text
    file = Path(document)
    if not file.is_file():
        raise NotApplicable(f"the OpenAPI document {document} is neither a file nor a path on the target")
    return file.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def _schema(text: str) -> Any:
    import schemathesis

    data = read_document(text)
    if data is None:
        raise NotApplicable("the OpenAPI document is not an OpenAPI 3 / Swagger 2 document in JSON or YAML")
    return schemathesis.openapi.from_dict(data)


def _segments(path: str) -> list[str]:
    return [part for part in re.split(r"[/{}_.-]+", path.lower()) if part]


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """``/admin/**`` matches /admin and everything under it; ``*`` matches one path segment."""
    parts = re.split(r"(\*\*|\*)", pattern.rstrip("/") if pattern != "/" else pattern)
    text = ""
    for part in parts:
        if part == "**":
            text += ".*"
        elif part == "*":
            text += "[^/]+"
        else:
            text += re.escape(part)
    if pattern.endswith("/**"):
        text = text[: -len(re.escape("/") + ".*")] + "(/.*)?"
    return re.compile(text + "/?$")


def _min_role(profile: Profile, path: str, stated: str, permission: str) -> str:
    roles = profile.roles_by_level()
    for pattern, role in profile.openapi.min_roles.items():  # the profile's word on its own target first
        if pattern_regex(pattern).match(path):
            return role
    if stated in profile.roles:
        return stated
    if permission:
        holders = [role for role in roles if permission in profile.permissions.get(role, [])]
        if holders:
            return holders[0]
        return roles[-1] if roles else ""
    return roles[0] if roles else ""


def _excluded(profile: Profile, op: CatalogOperation) -> bool:
    for entry in profile.openapi.exclude:
        method, _, rest = entry.partition(" ")
        if rest and method.upper() == op.method and (rest == op.path or pattern_regex(rest).match(op.path)):
            return True
        if not rest and (entry == op.path or pattern_regex(entry).match(op.path)):
            return True
    return False


# ---------------------------------------------------------------------------- reading a document
# Shared with ``authconform init`` (conformance.wizard.openapi): plain data, no Schemathesis, so the
# lean install reads a document too.


def read_document(body: bytes | str) -> dict[str, Any] | None:
    """An OpenAPI 3 / Swagger 2 document as data: JSON, or YAML where it is written so (``/openapi.yaml``);
    None when it is neither, or not such a document."""
    data: Any = None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        try:
            data = yaml.safe_load(body.decode("utf-8") if isinstance(body, bytes) else body)
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
            return None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        return None
    if "openapi" not in data and "swagger" not in data:
        return None
    return data


@dataclass(eq=False)  # compared by identity: the same operation found twice is one
class DocumentOperation:
    """One operation of a document: its method, path, security requirement and request body."""

    method: str  # upper case
    path: str
    definition: dict[str, Any] = field(default_factory=dict, repr=False)  # the operation object as written
    body: str = ""  # "json", "form" or "" (no request body)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)  # of the request body, $refs followed
    required: list[str] = field(default_factory=list)
    secured: bool = True  # a security requirement applies (and none of its alternatives is empty)
    permission: str = ""  # x-permission, when the document states one
    required_headers: list[str] = field(default_factory=list)  # header parameters it requires


_Operation = TypeVar("_Operation", bound=DocumentOperation)


def document_operations(document: Mapping[str, Any], kind: type[_Operation],
                        methods: Iterable[str] | None = None) -> list[_Operation]:
    """The operations of ``document`` (from ``read_document``), each a ``kind``: path by path, the methods
    in the document's order, or in the order of ``methods``."""
    global_security = document.get("security", [])
    operations: list[_Operation] = []
    for path, item in document["paths"].items():
        item = resolve(item, document)
        if not isinstance(item, dict) or not isinstance(path, str) or path.startswith("x-"):
            continue
        for method in (list(methods) if methods is not None else list(item)):
            raw = item.get(method)
            if method not in DOCUMENT_METHODS or not isinstance(raw, dict):
                continue
            op = kind(method.upper(), path, raw)
            security = raw.get("security", global_security)
            op.secured = isinstance(security, list) and bool(security) and {} not in security
            if isinstance(raw.get(PERMISSION_EXTENSION), str):
                op.permission = raw[PERMISSION_EXTENSION]
            for parameter in [*item.get("parameters", []), *raw.get("parameters", [])]:
                parameter = resolve(parameter, document)
                if isinstance(parameter, dict) and parameter.get("in") == "header" and parameter.get("required"):
                    op.required_headers.append(str(parameter.get("name", "")))
            _read_body(op, raw, document)
            operations.append(op)
    return operations


def _read_body(op: DocumentOperation, raw: dict[str, Any], document: Mapping[str, Any]) -> None:
    body = raw.get("requestBody")
    if isinstance(body, dict):
        body = resolve(body, document)
        content = body.get("content", {}) if isinstance(body.get("content"), dict) else {}
        for media, kind in (("application/json", "json"), ("application/x-www-form-urlencoded", "form"),
                            ("multipart/form-data", "form")):
            if media in content:
                op.body = kind
                _read_schema(op, resolve(content[media].get("schema", {}), document), document)
                return
    for parameter in raw.get("parameters", []):  # Swagger 2: formData and body parameters
        parameter = resolve(parameter, document)
        if parameter.get("in") == "formData":
            op.body = "form"
            op.properties[str(parameter.get("name"))] = parameter
        elif parameter.get("in") == "body":
            op.body = "json"
            _read_schema(op, resolve(parameter.get("schema", {}), document), document)


def _read_schema(op: DocumentOperation, schema: Any, document: Mapping[str, Any]) -> None:
    if not isinstance(schema, dict):
        return
    for part in schema.get("allOf", []):
        _read_schema(op, resolve(part, document), document)
    properties = schema.get("properties", {})
    if isinstance(properties, dict):
        for name, value in properties.items():
            op.properties[str(name)] = resolve(value, document) if isinstance(value, dict) else {}
    required = schema.get("required", [])
    if isinstance(required, list):
        op.required += [str(name) for name in required]


def resolve(node: Any, document: Mapping[str, Any], depth: int = 0) -> Any:
    """Follow a local ``$ref`` (a few levels at most; {} for one that leaves the document)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 8:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, depth = target, depth + 1
    return node


# ---------------------------------------------------------------------------- requests


def request_for(ctx: CheckContext, op: CatalogOperation, *, ids: Mapping[str, str] | None = None,
                body: dict[str, Any] | None = None) -> Request:
    """A valid request for ``op``: Schemathesis' positive data for an operation of the document; for a
    profile route, ``body`` (the check's own valid body, in contract field names). Path parameters the
    caller does not give name nothing."""
    if op._template is None:
        profile_op = ctx.profile.operations.get(op.name)
        if body is not None and profile_op is not None:
            body = {profile_op.fields.get(k, k): v for k, v in {**profile_op.extra, **body}.items()}
        return Request(op.method, _filled(op.path, ids or {}, {}), {}, body, {})
    fixed = {name: (ids or {}).get(name) or _missing_value(op._template, name) for name in op.parameters}
    case = _case(op.document, op._template, json.dumps(fixed, sort_keys=True))
    params = {str(k): _text(v) for k, v in (case.query or {}).items()}
    headers = {str(k): _text(v) for k, v in (case.headers or {}).items()
               if str(k).lower() not in ("authorization", "cookie", "content-type")}
    body = case.body if _is_json(case.media_type) and _has_body(case.body) else None
    return Request(op.method, _filled(op.path, fixed, case.path_parameters or {}), params, body, headers)


def _filled(path: str, fixed: Mapping[str, Any], generated: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        chosen = fixed.get(name) if fixed.get(name) not in (None, "") else generated.get(name)
        return str(chosen if chosen not in (None, "") else secrets.token_hex(8))

    return re.sub(r"\{([^}]+)\}", value, path)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _is_json(media_type: str | None) -> bool:
    return media_type is None or "json" in media_type


def _has_body(body: Any) -> bool:
    from schemathesis.core import NOT_SET

    return body is not NOT_SET and body is not None


def _missing_value(operation: Any, name: str) -> Any:
    """A value of the parameter's type that names no object (a large number, a fresh UUID, hex)."""
    parameter = operation.get_parameter(name, "path")
    definition = getattr(parameter, "definition", None) or {}
    schema = definition.get("schema", definition) if isinstance(definition, dict) else {}
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "integer" or kind == "number":
        return MISSING_INTEGER
    if isinstance(schema, dict) and schema.get("format") == "uuid":
        return str(uuid.UUID(int=MISSING_INTEGER))
    pattern = schema.get("pattern") if isinstance(schema, dict) else None
    digest = hashlib.sha256(name.encode()).hexdigest()
    if isinstance(pattern, str) and re.fullmatch(r"\^?\[0-9a-f\]\{(\d+)\}\$?", pattern):
        length = int(re.fullmatch(r"\^?\[0-9a-f\]\{(\d+)\}\$?", pattern).group(1))  # type: ignore[union-attr]
        return (digest * 4)[:length]
    return "authconform-missing-" + digest[:12]


@functools.lru_cache(maxsize=4096)
def _case(document: str, operation: Any, fixed_json: str) -> Any:
    """One positive case of ``operation`` (the same one every run: Hypothesis derandomized)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    fixed = json.loads(fixed_json)
    strategy = operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed or None)
    drawn: list[Any] = []

    @settings(max_examples=1, database=None, deadline=None, phases=[Phase.generate], derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(case: Any) -> None:
        if not drawn:
            drawn.append(case)

    draw()
    if not drawn:
        raise NotApplicable(f"Schemathesis generated no valid request for {operation.label}")
    return drawn[0]


# ---------------------------------------------------------------------------- sending


def credential(ctx: CheckContext, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies that present ``token`` the way the profile says access tokens go."""
    if token is None:
        return {}, {}
    spec = ctx.profile.tokens
    if spec.delivery == "cookie":
        return {}, {spec.access_cookie: token}
    return {spec.header: f"{spec.scheme} {token}".strip()}, {}


def send(ctx: CheckContext, request: Request, token: str | None, note: str) -> Response:
    """Send ``request`` through the target, presenting ``token`` (None: no credential). A request to the
    login route spends the login budgets like the suite's own logins: checks beside this one log in too."""
    headers, cookies = credential(ctx, token)
    if ctx.profile.offers("login"):
        login = ctx.profile.operation("login")
        if (request.method, request.path.split("?", 1)[0]) == (login.method, login.path):
            body = request.json_body if isinstance(request.json_body, dict) else {}
            ctx.pace("login", None, str(body.get(login.fields.get("username", "username"), "")))
    return ctx.send(request.method, request.path, note=note, headers={**request.headers, **headers},
                    params=dict(request.params) or None, json_body=request.json_body, cookies=cookies or None)


def describe(operations: Iterable[CatalogOperation]) -> list[str]:
    return [op.label for op in operations]
