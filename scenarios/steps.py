"""The step vocabulary scenarios are written in.

A scenario file lists steps as plain calls: ``login("alice", as_="phone")``, ``refresh("phone")``,
``replay_refresh("phone", generation=0)``, ``expect_refused("phone")``, ``advance(past="idle_timeout")``.
Calling a step function does nothing but build a ``Step`` record (its name and arguments, checked
against the signature at once, so a typo fails when the file is imported). A scenario is a
registered entry of the one registry (kind "scenario", see ``scenarios.runner``) whose body plays
each record against a ``World``: the people, devices (a device is one login's tokens), tenants and
documents of the story, on top of the same ``CheckContext``, ``Api`` and profile the checks use.

Names in a story (``alice``, ``phone``, ``acme``) are the story's own; the real usernames, tenant
names and ids are random and stay out of the transcript. Strings in step arguments may refer to
them: ``{user:bob}`` (bob's user id), ``{tenant:acme}`` (the tenant's name as the target knows it),
``{tenant-id:acme}`` (the tenant claim of its tokens), ``{doc:plans}`` (a document's id),
``{session:phone}`` (a device's session id).

Expectations (``expect=``): accepted (2xx), refused (4xx), unauthenticated (401), forbidden (403),
not found (404), rate-limited (429), "accepted or rate-limited", any. A setup step (tenant, user,
login, refresh, document, logout...) left at its default expectation is a control: when it does
not hold the scenario cannot judge and ends in error, never in a pass or a misleading fail. A
set-up login with the right password is the registry's ``valid-login`` control: it is recorded as
one, and a story that has one declares it (``scenarios.catalog``).
Numbers come from the profile: ``count="login_account_limit"``, ``past="idle_timeout"``.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.answers import Answer
from conformance.api import Principal, Tokens, json_path
from conformance.attacks import confusion, cracking, forging
from conformance.minting import split
from conformance.verdict import CheckFailed, ControlFailed, NotApplicable

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.targets.base import Response

# ---------------------------------------------------------------------------- expectations

# Judged by the check context's one classifier: "refused" is the target's refusal (a 429, a crash
# or a missing route is never one; a 400 is, as token endpoints refuse with invalid_grant).
EXPECTATIONS: dict[str, tuple[Callable[[CheckContext, Response], bool], str]] = {
    "accepted": (lambda ctx, r: ctx.accepted(r), "2xx"),
    "refused": (lambda ctx, r: ctx.refused(r, also=(400,)), "a refusal"),
    "unauthenticated": (lambda ctx, r: r.status == 401, "401"),
    "forbidden": (lambda ctx, r: r.status == 403, "403"),
    "not found": (lambda ctx, r: r.status == 404, "404"),
    "rate-limited": (lambda ctx, r: ctx.answer(r) is Answer.RATE_LIMITED, "429"),
    "accepted or rate-limited": (lambda ctx, r: ctx.answer(r) in (Answer.ACCEPTED, Answer.RATE_LIMITED),
                                 "2xx or 429"),
    "refused or rate-limited": (lambda ctx, r: ctx.answer(r) is Answer.RATE_LIMITED or ctx.refused(r, also=(400,)),
                                "a refusal or 429"),
    "any": (lambda ctx, r: True, "any status"),
}

# Profile numbers a step may name instead of a literal (section of the profile they live in).
PROFILE_NUMBERS = {
    "access_ttl": "tokens", "refresh_ttl": "tokens", "leeway": "tokens",
    "max_sessions": "sessions", "idle_timeout": "sessions", "absolute_timeout": "sessions",
    "api_limit": "rate_limits", "api_window": "rate_limits", "login_account_limit": "rate_limits",
    "login_ip_limit": "rate_limits", "login_window": "rate_limits", "trusted_proxies": "rate_limits",
    "challenge_ttl": "mfa", "attempt_limit": "mfa", "attempt_window": "mfa",
}

# Default secrets from the bundled list presented to the target itself (all are tried offline).
LEAKED_SECRETS_ONLINE = 32

WRONG_PASSWORD = "not-the-password-0"


class ScenarioError(Exception):
    """The scenario itself is wrong (an unknown device, a bad argument): a bug in the story."""


def _check_expectation(name: str | None) -> None:
    if name is not None and name not in EXPECTATIONS:
        raise ValueError(f"unknown expectation {name!r}; use one of: {', '.join(EXPECTATIONS)}")


# ---------------------------------------------------------------------------- step records

@dataclass(frozen=True)
class Step:
    """One call in a scenario: the step's name and its arguments, as written, and the body that
    plays it."""

    op: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    body: Callable[..., None] | None = field(default=None, compare=False, repr=False)

    def source(self) -> str:
        """The step as it reads in a scenario file: ``login("alice", as_="phone")``."""
        parts = [literal(a) for a in self.args] + [f"{k}={literal(v)}" for k, v in self.kwargs]
        return f"{self.op}({', '.join(parts)})"

    def run(self, world: World) -> None:
        body = self.body or VOCABULARY.get(self.op)
        if body is None:
            raise ScenarioError(f"no step {self.op!r}; steps: {', '.join(VOCABULARY)}")
        body(world, *self.args, **dict(self.kwargs))

    def argument(self, name: str) -> Any:
        return dict(self.kwargs).get(name)

    @property
    def is_control_login(self) -> bool:
        """A set-up login with the right password (the ``valid-login`` control)."""
        return self.op == "fill_sessions" or (
            self.op == "login" and self.argument("expect") is None
            and self.argument("password") in (None, "current"))


def literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


# The step vocabulary (name -> body): what docs and ``steps_reference`` list.
VOCABULARY: dict[str, Callable[..., None]] = {}


def step(body: Callable[..., None]) -> Callable[..., Step]:
    """Register ``body(world, ...)`` as a step; the returned function builds ``Step`` records."""
    name = body.__name__
    signature = inspect.signature(body)
    VOCABULARY[name] = body

    @functools.wraps(body)
    def build(*args: Any, **kwargs: Any) -> Step:
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}(): {exc}") from None
        _check_expectation(kwargs.get("expect"))
        return Step(name, tuple(args), tuple(kwargs.items()), body)

    build.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:])
    return build


# ---------------------------------------------------------------------------- the story's world

@dataclass
class Tenant:
    name: str
    real: str
    admin: str


@dataclass
class Person:
    name: str
    principal: Principal
    tenant: str
    previous_passwords: list[str] = field(default_factory=list)


@dataclass
class Device:
    """One login's tokens, known by the story's label for it (a phone, a browser, a thief)."""

    label: str
    person: str | None
    tokens: Tokens
    history: list[Tokens] = field(default_factory=list)
    logged_in_at: float = 0.0


@dataclass
class Document:
    name: str
    id: str
    marker: str
    tenant: str


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None


@dataclass
class StepLog:
    """What one step did: its requests (those the context counted after ``first``), the one it
    judged, what it expected and what it saw."""

    first: int = 0
    judged: Exchange | None = None
    expected: str = ""
    status: int | None = None
    action: str = ""  # for steps without requests: "clock +31 min", "note"
    summary: str = ""  # e.g. "5 attempts, all refused"


class World:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.profile = ctx.profile
        self.tenants: dict[str, Tenant] = {}
        self.people: dict[str, Person] = {}
        self.devices: dict[str, Device] = {}
        self.documents: dict[str, Document] = {}
        self.log = StepLog()
        self.waited = 0.0
        self.phones: dict[str, Any] = {}  # person -> their authenticator (conformance.checks.mfa.Phone)
        self.backup_codes: dict[str, list[str]] = {}  # person -> unused backup codes
        self.challenges: dict[str, tuple[str, str]] = {}  # label -> (person, MFA challenge token)

    # -------------------------------------------------------------- the step's requests
    def requests(self) -> int:
        """How many requests the current step has sent."""
        return self.ctx.exchanges - self.log.first

    def last_exchange(self) -> Exchange | None:
        """The current step's latest request, as the check context's evidence recorded it."""
        if not self.requests() or not self.ctx.evidence:
            return None
        record = self.ctx.evidence[-1]
        response = record.get("response")
        return Exchange(record["request"]["method"], record["request"]["url"],
                        response["status"] if response else None)

    def login_control(self, who: str, status: int) -> None:
        self.ctx.record_control("valid-login", True, f"{who} logged in with the right password ({status})")

    # -------------------------------------------------------------- lookups
    def device(self, label: str) -> Device:
        if label not in self.devices:
            known = ", ".join(self.devices) or "none yet"
            raise ScenarioError(f"no device {label!r} in this story (devices so far: {known}); "
                                f"log in with as_={label!r} first")
        return self.devices[label]

    def person(self, name: str) -> Person:
        if name not in self.people:
            known = ", ".join(self.people) or "none yet"
            raise ScenarioError(f"no person {name!r} in this story (people so far: {known}); "
                                f"add them with tenant(..., admin=...) or user(...)")
        return self.people[name]

    def tenant(self, name: str) -> Tenant:
        if name not in self.tenants:
            raise ScenarioError(f"no tenant {name!r} in this story; add it with tenant({name!r}, admin=...)")
        return self.tenants[name]

    def number(self, value: int | float | str) -> float:
        """A literal, or the profile's value for a name such as ``idle_timeout``."""
        if isinstance(value, (int, float)):
            return value
        section = PROFILE_NUMBERS.get(value)
        if section is None:
            raise ScenarioError(f"unknown profile number {value!r}; known: {', '.join(PROFILE_NUMBERS)}")
        return float(getattr(getattr(self.profile, section), value))

    def resolve(self, value: Any) -> Any:
        """Replace ``{user:bob}``-style references in strings, dicts and lists."""
        if isinstance(value, str):
            return _REFERENCE.sub(lambda m: self._reference(m.group(1), m.group(2)), value)
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.resolve(v) for v in value]
        return value

    def _reference(self, kind: str, name: str) -> str:
        if kind == "user":
            user_id = self.person(name).principal.user_id
            if not user_id:
                raise ControlFailed(f"the target did not return an id for {name}")
            return user_id
        if kind == "tenant":
            return self.tenant(name).real
        if kind == "tenant-id":
            for device in self.devices.values():
                if device.person and self.people[device.person].tenant == name and device.tokens.access:
                    claims = _claims(device.tokens.access)
                    if claims.get("tid") is not None:
                        return str(claims["tid"])
            raise NotApplicable(f"no readable tenant claim in the tokens of tenant {name}")
        if kind == "doc":
            if name not in self.documents:
                raise ScenarioError(f"no document {name!r}; create it with document({name!r}, by=...)")
            return self.documents[name].id
        if kind == "session":
            session = self.device(name).tokens.session_id
            if not session:
                raise NotApplicable("the target's login answer carries no session id")
            return session
        raise ScenarioError(f"unknown reference {{{kind}:{name}}}")

    # -------------------------------------------------------------- judging
    def expect(self, response: Response, expectation: str | None, what: str, *,
               default: str = "accepted") -> bool:
        """Judge ``response``: a default expectation is a control (error), an explicit one the rule."""
        name = expectation or default
        holds, shown = EXPECTATIONS[name]
        self.log.judged = self.last_exchange()
        self.log.expected, self.log.status = name, response.status
        if holds(self.ctx, response):
            return True
        message = f"{what}: expected {name} ({shown}), the target answered {response.status}"
        if expectation is None:
            raise ControlFailed(f"setup did not hold: {message}")
        raise CheckFailed(message)

    def fail(self, message: str) -> None:
        raise CheckFailed(message)

    # -------------------------------------------------------------- time
    def now(self) -> float:
        clock = self.ctx.target.clock
        return clock.now() if clock is not None else time.time()

    def advance(self, seconds: float, why: str = "") -> None:
        """Move the target's clock in-process; over HTTP wait for real, within target.max_wait."""
        clock = self.ctx.target.clock
        if clock is not None:
            clock.advance(seconds)
            self.log.action = f"clock +{duration(seconds)}" + (f" ({why})" if why else "")
            return
        limit = self.profile.target.max_wait
        if self.waited + seconds > limit:
            raise NotApplicable(
                f"needs {duration(self.waited + seconds)} of real waiting over HTTP"
                + (f" ({why})" if why else "")
                + f"; target.max_wait allows {duration(limit)} (the in-process reference moves its clock)")
        time.sleep(seconds)
        self.waited += seconds
        self.log.action = f"waited {duration(seconds)}" + (f" ({why})" if why else "")

    # -------------------------------------------------------------- token bookkeeping
    def keep(self, label: str, person: str | None, tokens: Tokens) -> Device:
        device = Device(label, person, tokens, [tokens], self.now())
        self.devices[label] = device
        return device


_REFERENCE = re.compile(r"\{(user|tenant|tenant-id|doc|session):([^{}]+)\}")


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or "0 s"


def margin(seconds: float) -> float:
    """How far past (or short of) a declared time a step goes, so rounding never decides."""
    return max(2.0, math.ceil(seconds / 30))


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _claims(token: str) -> dict[str, Any]:
    try:
        return split(token)[1]
    except (ValueError, TypeError):
        return {}


def _id_of(response: Response, *keys: str) -> str:
    data = response.json()
    if isinstance(data, dict):
        for key in keys:
            inner = data.get(key)
            if isinstance(inner, dict) and inner.get("id") is not None:
                return str(inner["id"])
        if data.get("id") is not None:
            return str(data["id"])
    return ""


def _random_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------- narrative

@step
def note(w: World, text: str) -> None:
    """A line of narrative: what happens off-line (a token is copied, a laptop is left open)."""
    w.log.action = "note"


# ---------------------------------------------------------------------------- people

@step
def tenant(w: World, name: str, *, admin: str) -> None:
    """A new tenant signs up; ``admin`` is its first user and tenant admin."""
    if w.profile.users.source == "accounts":
        used = {t.real for t in w.tenants.values()}
        accounts = [a for a in w.profile.users.accounts if a.role == "admin" and a.tenant not in used]
        if not accounts:
            raise NotApplicable(f"needs an admin account for a further tenant ({name}) in [[users.accounts]]")
        principal = w.ctx.users.tenant_admin(accounts[0].tenant)
    else:
        principal = w.ctx.users.tenant_admin()
        w.log.judged = w.last_exchange()
        w.log.expected, w.log.status = "accepted", w.log.judged.status if w.log.judged else None
    w.tenants[name] = Tenant(name, principal.tenant, admin)
    w.people[admin] = Person(admin, principal, name)


@step
def user(w: World, name: str, *, role: str = "viewer", by: str, expect: str | None = None) -> None:
    """The admin logged in on device ``by`` creates ``name`` with ``role`` in their tenant."""
    creator = w.device(by)
    if creator.person is None:
        raise ScenarioError(f"device {by!r} belongs to nobody; create users from a logged-in admin")
    tenant_name = w.person(creator.person).tenant
    if w.profile.users.source == "accounts":
        principal = w.ctx.users.create(role, tenant=w.tenant(tenant_name).real)
        if any(p.principal.username == principal.username for p in w.people.values()):
            raise NotApplicable(f"needs another {role} account in [[users.accounts]] for {name}")
        w.people[name] = Person(name, principal, tenant_name)
        return
    principal = Principal(_random_name(role), w.ctx.users.password(), w.tenant(tenant_name).real, role)
    w.people[name] = Person(name, principal, tenant_name)
    response = w.api.call("user_create", auth=creator.tokens, note=f"{by} creates {name}",
                          body={"username": principal.username, "password": principal.password, "role": role})
    w.expect(response, expect, f"{creator.person} creates {role} {name}")
    principal.user_id = _id_of(response, "user")


# ---------------------------------------------------------------------------- logging in

def _password(w: World, person: Person, password: str | None) -> str:
    if password in (None, "current"):
        return person.principal.password
    if password == "previous":
        if not person.previous_passwords:
            raise ScenarioError(f"{person.name} has not changed their password yet")
        return person.previous_passwords[-1]
    if password == "wrong":
        return WRONG_PASSWORD
    raise ScenarioError(f"password={password!r}: use 'current', 'previous' or 'wrong'")


@step
def login(w: World, who: str, *, as_: str | None = None, password: str | None = None,
          expect: str | None = None, headers: dict[str, str] | None = None,
          planted_session: str | None = None) -> None:
    """``who`` logs in on device ``as_`` (default: their own name). ``password``: current, previous,
    wrong. ``planted_session``: a session id an attacker planted in the victim's browser beforehand
    (sent as a body field, a cookie and a header, wherever a careless server might adopt it)."""
    person = w.person(who)
    principal = Principal(person.principal.username, _password(w, person, password),
                          person.principal.tenant, person.principal.role)
    body: dict[str, Any] = {"username": principal.username, "password": principal.password}
    if w.profile.declares("tenants"):
        body["tenant"] = principal.tenant
    cookies: dict[str, str] = {}
    request_headers = dict(w.resolve(headers or {}))
    if planted_session:
        body.update({"session_id": planted_session, "sid": planted_session})
        cookies.update({"session_id": planted_session, "session": planted_session, "sid": planted_session})
        request_headers["X-Session-ID"] = planted_session
    response = w.api.call("login", body=body, headers=request_headers, cookies=cookies,
                          note=f"{who} logs in")
    label = as_ or who
    if _ok(response.status):
        tokens = w.api.tokens_from(response)
        if tokens.ok:
            w.keep(label, who, tokens)
    w.expect(response, expect, f"login of {who} on {label}")
    if expect is None and label not in w.devices:
        raise ControlFailed(f"login of {who} answered {response.status} without tokens")
    if expect is None and password in (None, "current"):
        w.login_control(who, response.status)


@step
def login_attempts(w: World, who: str, *, count: int | str, password: str = "wrong",
                   expect: str = "refused", forwarded_for: str | None = None) -> None:
    """``count`` logins of ``who`` in a row, each judged. ``forwarded_for="rotate"`` sends a new
    X-Forwarded-For address with every attempt, as an attacker spoofing many clients would."""
    person = w.person(who)
    attempts = int(w.number(count))
    for n in range(1, attempts + 1):
        body: dict[str, Any] = {"username": person.principal.username,
                                "password": _password(w, person, password)}
        if w.profile.declares("tenants"):
            body["tenant"] = person.principal.tenant
        headers = {"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"} if forwarded_for == "rotate" else {}
        response = w.api.call("login", body=body, headers=headers, note=f"attempt {n} for {who}")
        w.expect(response, expect, f"login attempt {n} of {attempts} for {who}")
    w.log.summary = f"{attempts} attempts, each {expect}"


@step
def stuff_credentials(w: World, *, count: int | str, tenant: str, expect: str = "refused") -> None:
    """``count`` logins from one client, each with a different leaked username and password."""
    attempts = int(w.number(count))
    real_tenant = w.tenant(tenant).real
    for n in range(1, attempts + 1):
        body: dict[str, Any] = {"username": _random_name("leaked"), "password": "Leaked-" + secrets.token_hex(6)}
        if w.profile.declares("tenants"):
            body["tenant"] = real_tenant
        response = w.api.call("login", body=body, note=f"leaked credential {n}")
        w.expect(response, expect, f"leaked credential {n} of {attempts}")
    w.log.summary = f"{attempts} leaked pairs, each {expect}"


@step
def fill_sessions(w: World, who: str, *, prefix: str) -> None:
    """``who`` logs in on as many devices as the profile's max_sessions (``prefix``1, 2, ...), a little
    apart in time and spaced so the login limiter is never what refuses them."""
    person = w.person(who)
    count = int(w.number("max_sessions"))
    limits = w.profile.rate_limits
    spacing = 1.0
    if count + 1 > limits.login_account_limit:
        spacing = math.ceil(limits.login_window / limits.login_account_limit) + 1
    for n in range(1, count + 1):
        if n > 1:
            w.advance(spacing)
        response = w.api.login_response(person.principal)
        label = f"{prefix}{n}"
        if _ok(response.status):
            w.keep(label, who, w.api.tokens_from(response))
        w.expect(response, None, f"login of {who} on {label}")
        w.login_control(who, response.status)
    w.advance(spacing)  # the next login also stays clear of the limiter
    w.log.action = ""
    w.log.summary = f"{count} devices: {prefix}1 .. {prefix}{count}"


# ---------------------------------------------------------------------------- tokens in use

def _use(w: World, label: str, expect: str, role: str | None = None) -> None:
    device = w.device(label)
    response = w.api.me(device.tokens, note=f"{label} reads /me")
    w.expect(response, expect, f"{label}'s access token")
    if role is not None and _ok(response.status):
        seen = response.field("role")
        if seen is not None and seen != role:
            w.fail(f"{label}'s token acts as {seen}; the user's current role is {role}")


@step
def use(w: World, device: str, *, expect: str = "accepted", role: str | None = None) -> None:
    """The device makes an authenticated request (GET me); ``role``: the role it must act as."""
    _use(w, device, expect, role)


@step
def expect_accepted(w: World, device: str) -> None:
    """The device's current access token still works."""
    _use(w, device, "accepted")


@step
def expect_refused(w: World, device: str) -> None:
    """The device's current access token no longer works (any 4xx)."""
    _use(w, device, "refused")


@step
def present_refresh_as_access(w: World, device: str, *, expect: str = "refused") -> None:
    """Someone presents the device's refresh token where an access token belongs (GET me)."""
    current = w.device(device)
    if not current.tokens.refresh:
        raise NotApplicable("the target's login answer carries no refresh token")
    response = w.api.me(current.tokens.refresh, note=f"{device}'s refresh token as a Bearer token")
    w.expect(response, expect, f"{device}'s refresh token presented as an access token")


@step
def refresh(w: World, device: str, *, expect: str | None = None) -> None:
    """The device trades its refresh token for a new pair (kept when the target answers 2xx)."""
    current = w.device(device)
    response = w.api.refresh_response(current.tokens)
    if _ok(response.status):
        fresh = w.api.tokens_from(response, previous=current.tokens)
        if fresh.ok:
            current.tokens = fresh
            current.history.append(fresh)
    w.expect(response, expect, f"refresh of {device}")


@step
def replay_refresh(w: World, device: str, *, generation: int = 0, as_: str | None = None,
                   expect: str = "refused") -> None:
    """Someone presents the device's refresh token of ``generation`` (0: the one from the login,
    1: from the first refresh...) again. Tokens it yields are kept as device ``as_``."""
    current = w.device(device)
    if generation >= len(current.history):
        raise ScenarioError(f"{device} has no refresh generation {generation} "
                            f"(it has {len(current.history)})")
    old = current.history[generation]
    response = w.api.refresh_response(old)
    if _ok(response.status):
        stolen = w.api.tokens_from(response, previous=old)
        if stolen.ok:
            w.keep(as_ or f"{device}~replayed", current.person, stolen)
    w.expect(response, expect, f"replay of {device}'s refresh token of generation {generation}")


@step
def keep_active(w: World, device: str, *, until_past: str = "absolute_timeout") -> None:
    """The device stays busy, using and refreshing its tokens well inside the idle timeout and the
    access lifetime, until ``until_past`` (counted from its login) has just passed."""
    current = w.device(device)
    sessions, tokens = w.profile.sessions, w.profile.tokens
    limit = w.number(until_past)
    if w.ctx.target.clock is None and limit > w.profile.target.max_wait:
        raise NotApplicable(f"needs {duration(limit)} ({until_past}) of real activity over HTTP; "
                            f"target.max_wait allows {duration(w.profile.target.max_wait)} "
                            f"(the in-process reference moves its clock)")
    deadline = current.logged_in_at + limit
    shortest = min(sessions.idle_timeout, tokens.access_ttl)
    # Activity every half of the shortest timeout; the last gap (to just past the limit) stays
    # under 0.7 of it, so neither idleness nor token expiry can be what ends the session.
    period = max(1.0, 0.5 * shortest)
    slack = min(margin(limit), 0.1 * shortest)
    rounds = 0
    while w.now() + period < deadline - slack:
        w.advance(period)
        rounds += 1
        since = duration(w.now() - current.logged_in_at)
        _use(w, device, "accepted")
        response = w.api.refresh_response(current.tokens)
        if _ok(response.status):
            current.tokens = w.api.tokens_from(response, previous=current.tokens)
            current.history.append(current.tokens)
        w.expect(response, "accepted", f"refresh {rounds} of the busy session, {since} after login")
    w.advance(deadline + slack - w.now())
    w.log.action = ""
    w.log.summary = (f"{rounds} rounds of use + refresh, every {duration(period)}; "
                     f"now {duration(w.now() - current.logged_in_at)} after login")


@step
def call(w: World, device: str | None, operation: str, *, ids: dict[str, str] | None = None,
         body: dict[str, Any] | None = None, params: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, expect: str = "accepted") -> None:
    """The device (None: nobody, no token) calls a contract operation from the profile."""
    auth = w.device(device).tokens if device is not None else None
    response = w.api.call(operation, auth=auth, ids=w.resolve(ids), body=w.resolve(body),
                          params=w.resolve(params), headers=w.resolve(headers),
                          note=f"{device or 'anonymous'}: {operation}")
    w.expect(response, expect, f"{operation} by {device or 'an anonymous client'}")


def _marker(w: World, name: str) -> str:
    if name in w.documents:
        return w.documents[name].marker
    if name in w.people:
        return w.people[name].principal.username
    raise ScenarioError(f"{name!r} is neither a document nor a person of this story")


@step
def expect_listing(w: World, device: str, operation: str, *, includes: tuple[str, ...] = (),
                   excludes: tuple[str, ...] = (), params: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> None:
    """A listing the device asks for shows ``includes`` (documents or people) and none of ``excludes``."""
    response = w.api.call(operation, auth=w.device(device).tokens, params=w.resolve(params),
                          headers=w.resolve(headers), note=f"{device} lists {operation}")
    w.expect(response, "accepted", f"{operation} by {device}")
    w.log.expected = "only own rows"
    text = response.text
    missing = [n for n in includes if _marker(w, n) not in text]
    if missing:
        raise ControlFailed(f"the listing does not show {', '.join(missing)}, which it must: "
                            f"the scenario cannot judge what it leaves out")
    leaked = [n for n in excludes if _marker(w, n) in text]
    if leaked:
        w.fail(f"{operation} by {device} shows {', '.join(leaked)} from another tenant")


@step
def expect_session_not(w: World, device: str, planted: str) -> None:
    """The device's session is not the one an attacker planted before the login."""
    tokens = w.device(device).tokens
    sid = str(_claims(tokens.access).get("sid", "")) if tokens.access else ""
    w.log.expected = "a fresh session id"
    if planted in (tokens.session_id, sid) or planted in tokens.cookies.values():
        w.fail(f"the login adopted the session id planted by the attacker ({planted!r})")


# ---------------------------------------------------------------------------- ending things

@step
def logout(w: World, device: str, *, expect: str | None = None) -> None:
    """The device logs out."""
    response = w.api.call("logout", auth=w.device(device).tokens, note=f"{device} logs out")
    w.expect(response, expect, f"logout on {device}")


@step
def logout_all(w: World, device: str, *, expect: str | None = None) -> None:
    """The device's user logs out everywhere."""
    response = w.api.call("logout_all", auth=w.device(device).tokens, note=f"{device}: log out everywhere")
    w.expect(response, expect, f"logout-all from {device}")


@step
def change_password(w: World, device: str, *, expect: str | None = None) -> None:
    """The device's user changes their password (giving the current one)."""
    current = w.device(device)
    if current.person is None:
        raise ScenarioError(f"device {device!r} belongs to nobody")
    person = w.person(current.person)
    new_password = w.ctx.users.password()
    response = w.api.call("me_update", auth=current.tokens, note=f"{device} changes the password",
                          body={"current_password": person.principal.password, "new_password": new_password})
    if _ok(response.status):
        person.previous_passwords.append(person.principal.password)
        person.principal.password = new_password
    w.expect(response, expect, f"password change from {device}")


@step
def change_role(w: World, who: str, role: str, *, by: str, expect: str | None = None) -> None:
    """The user on device ``by`` gives ``who`` the role ``role``."""
    person = w.person(who)
    response = w.api.call("user_role", auth=w.device(by).tokens, ids={"id": w.resolve(f"{{user:{who}}}")},
                          body={"role": role}, note=f"{by} makes {who} {role}")
    if _ok(response.status):
        person.principal.role = role
    w.expect(response, expect, f"{by} makes {who} {role}")


@step
def delete_user(w: World, who: str, *, by: str, expect: str | None = None) -> None:
    """The admin on device ``by`` deletes ``who``'s account."""
    response = w.api.call("user_delete", auth=w.device(by).tokens, ids={"id": w.resolve(f"{{user:{who}}}")},
                          note=f"{by} deletes {who}")
    w.expect(response, expect, f"{by} deletes {who}")


@step
def delete_account(w: World, device: str, *, expect: str | None = None) -> None:
    """The device's user deletes their own account (confirming with the password)."""
    current = w.device(device)
    person = w.person(current.person or "")
    response = w.api.call("me_delete", auth=current.tokens, note=f"{device} deletes the account",
                          body={"password": person.principal.password,
                                "current_password": person.principal.password})
    w.expect(response, expect, f"account deletion from {device}")


# ---------------------------------------------------------------------------- documents

@step
def document(w: World, name: str, *, by: str, expect: str | None = None) -> None:
    """The user on device ``by`` writes a document in their tenant."""
    author = w.device(by)
    marker = _random_name(f"doc-{name}")
    response = w.api.call("document_create", auth=author.tokens, note=f"{by} writes {name}",
                          body={"title": marker, "body": f"the {name} document of this scenario"})
    tenant_name = w.people[author.person].tenant if author.person else ""
    if _ok(response.status):
        w.documents[name] = Document(name, _id_of(response, "document"), marker, tenant_name)
    w.expect(response, expect, f"{by} writes {name}")
    if expect is None and not w.documents[name].id:
        raise ControlFailed("the target did not return the new document's id")


# ---------------------------------------------------------------------------- time

@step
def advance(w: World, *, seconds: float = 0, minutes: float = 0, hours: float = 0,
            past: str | None = None, under: str | None = None) -> None:
    """Time passes: a literal amount, or just ``past`` / just ``under`` a number of the profile."""
    total = seconds + 60 * minutes + 3600 * hours
    why = ""
    if past is not None:
        value = w.number(past)
        total += value + margin(value)
        why = f"just past {past} = {duration(value)}"
    if under is not None:
        value = w.number(under)
        total += value - margin(value)
        why = f"just under {under} = {duration(value)}"
    if total <= 0:
        raise ScenarioError("advance() needs a positive amount of time")
    w.advance(total, why)


# ---------------------------------------------------------------------------- forged tokens

def _victim_claims(w: World, device: str, role: str | None) -> dict[str, Any]:
    access = w.device(device).tokens.access
    claims = _claims(access)
    if not claims:
        raise NotApplicable("the target's access tokens are not readable JWTs")
    claims = {**claims, "jti": secrets.token_hex(16)}
    if role is not None:
        claims["role"] = role
    return claims


def _judge_forgeries(w: World, tokens: Sequence[tuple[str, str]], what: str) -> None:
    accepted = []
    for variant, token in tokens:
        w.ctx.redactor.add(token)
        response = w.api.me(token, note=f"{what}: {variant}")
        forging.note_recipe(w.ctx.evidence, token, w.ctx.redactor.text)
        w.log.judged, w.log.status = w.last_exchange(), response.status
        if not w.ctx.refused(response):
            accepted.append(f"{variant} ({response.status})")
    w.log.expected = "refused"
    w.log.summary = f"{len(tokens)} variants" + (f", {len(accepted)} not refused" if accepted else ", all refused")
    if accepted:
        w.fail(f"{what} was not refused: {', '.join(accepted)}")


@step
def key_confusion_attack(w: World, device: str, *, role: str | None = None) -> None:
    """The attacker takes the public key from the JWKS endpoint and signs a copy of the device's
    access token with it as an HMAC secret (alg HS256), the classic RS256/HS256 confusion."""
    algorithm = w.profile.tokens.algorithm
    if not algorithm.startswith(("RS", "PS")):
        raise NotApplicable(f"the target signs with {algorithm}; key confusion needs an RSA key (RS256)")
    response = w.api.call("jwks", note="attacker fetches the public keys")
    w.expect(response, None, "the JWKS endpoint")
    keys = confusion.rsa_jwks_keys(response.json())
    if not keys:
        raise ControlFailed("the JWKS endpoint publishes no RSA key")
    claims = _victim_claims(w, device, role)
    access = w.device(device).tokens.access
    source = confusion.jwks_source(w.profile.target.base_url, w.profile.operation("jwks").path)
    forged = [(encoding.label, confusion.key_confusion(access, jwk, encoding, claims=claims, source=source))
              for jwk in keys for encoding in confusion.encodings(jwk)]
    _judge_forgeries(w, forged, "an HS256 token keyed with the published RSA key")


@step
def leaked_secret_attack(w: World, device: str, *, role: str | None = None) -> None:
    """The attacker tries every well-known default secret (framework tutorials, sample .env files)
    on the device's captured access token offline, then signs a copy of it with the one that
    verified (if any) and with the most common defaults, and presents each."""
    algorithm = w.profile.tokens.algorithm
    if not algorithm.startswith("HS"):
        raise NotApplicable(f"the target signs with {algorithm}; shared-secret guessing needs an HS algorithm")
    claims = _victim_claims(w, device, role)
    access = w.device(device).tokens.access
    candidates = list(cracking.bundled_secrets()[:LEAKED_SECRETS_ONLINE])
    signed_with = str(forging.header_of(access).get("alg"))
    cracked = cracking.crack(access, signed_with) if signed_with in cracking.HMAC_HASHES else None
    if cracked is not None:  # the captured token told the attacker which one: try it first
        candidates.insert(0, cracked.text)
        w.ctx.redactor.publish(cracked.text)  # from the public list: the finding names it
    forged = [(f"secret #{n}", forging.resigned(access, secret, claims=claims))
              for n, secret in enumerate(candidates, 1)]
    _judge_forgeries(w, forged, "a token signed with a well-known default secret")


# ---------------------------------------------------------------------------- multi-factor


@step
def enrol_mfa(w: World, who: str, *, on: str) -> None:
    """``who``, logged in on device ``on``, turns MFA on: setup, then confirm with a code from their
    phone (the story holds the secret, so it computes every later code)."""
    from conformance.checks import mfa

    device = w.device(on)
    enrolled = mfa.confirm(w.ctx, _mfa_enrolled(w, who, device.tokens))
    w.phones[who] = enrolled.phone
    w.backup_codes[who] = list(enrolled.backup_codes)
    w.log.summary = f"MFA on for {who}, {len(enrolled.backup_codes)} backup codes"


def _mfa_enrolled(w: World, who: str, tokens: Tokens) -> Any:
    from conformance.checks import mfa

    spec = w.profile.mfa
    setup = w.api.call("mfa_setup", auth=tokens, body={}, note=f"{who} sets up MFA")
    w.expect(setup, None, f"MFA setup for {who}")
    secret = json_path(setup.json(), spec.secret_field)
    if not isinstance(secret, str):
        raise ControlFailed(f"the MFA setup answer has no secret at {spec.secret_field}")
    w.ctx.redact(secret)
    return mfa.Enrolled(w.person(who).principal, tokens, secret, mfa.Phone(w.ctx, secret))


@step
def password_step(w: World, who: str, *, as_: str) -> None:
    """``who``'s password is typed in on ``as_`` (the owner, or whoever has the password): with MFA on
    the answer must be a challenge and no token."""
    from conformance.checks import mfa

    person = w.person(who)
    response = w.api.login_response(person.principal)
    w.expect(response, None, f"password step of {who} on {as_}")
    tokens = w.api.tokens_from(response)
    if tokens.ok:
        w.keep(as_, who, tokens)
        w.fail(f"the password alone gave {as_} a working login for {who}: no second factor was asked for")
    w.challenges[as_] = (who, mfa.challenge_of(w.ctx, response))
    w.log.summary = f"{as_} holds a challenge for {who}"


def _challenge(w: World, label: str) -> tuple[str, str]:
    if label not in w.challenges:
        raise ScenarioError(f"no MFA challenge {label!r}; make one with password_step(..., as_={label!r})")
    return w.challenges[label]


@step
def verify_mfa(w: World, challenge: str, *, code: str = "current", code_of: str | None = None,
               with_token: str | None = None, as_: str | None = None, expect: str | None = None) -> None:
    """The holder of ``challenge`` completes it. ``code``: current (a fresh code from ``code_of``'s
    phone, default the challenge's owner), wrong, or backup (one of their backup codes).
    ``with_token``: a device whose access token goes along. An accepted login becomes device ``as_``."""
    owner, token = _challenge(w, challenge)
    holder = code_of or owner
    if code == "current":
        if holder not in w.phones:
            raise ScenarioError(f"{holder} has no phone; enrol_mfa({holder!r}, on=...) first")
        value = w.phones[holder].fresh() if expect is None else w.phones[holder].unspent()
    elif code == "wrong":
        value = w.phones[holder].wrong()
    elif code == "backup":
        if not w.backup_codes.get(holder):
            raise NotApplicable(f"{holder} has no backup codes left (the target answered none)")
        value = w.backup_codes[holder][0]
        if expect is None:
            w.backup_codes[holder].pop(0)
    else:
        raise ScenarioError(f"code={code!r}: use 'current', 'wrong' or 'backup'")
    headers = w.api.bearer(w.device(with_token).tokens.access) if with_token else None
    response = w.api.call("mfa_verify", body={"mfa_token": token, "code": value}, headers=headers,
                          note=f"{challenge}'s challenge with {holder}'s {code} code")
    if _ok(response.status):
        tokens = w.api.tokens_from(response)
        if tokens.ok:
            w.keep(as_ or challenge, owner, tokens)
    w.expect(response, expect, f"{challenge} completes {owner}'s login with {holder}'s {code} code")


@step
def guess_codes(w: World, challenge: str, *, count: int | str, expect: str = "refused") -> None:
    """``count`` wrong codes sent to ``challenge``, each judged."""
    owner, token = _challenge(w, challenge)
    attempts = int(w.number(count))
    for n in range(1, attempts + 1):
        response = w.api.call("mfa_verify", body={"mfa_token": token, "code": w.phones[owner].wrong()},
                              note=f"guess {n}")
        w.expect(response, expect, f"guess {n} of {attempts} at {owner}'s code")
    w.log.summary = f"{attempts} guesses, each {expect}"


@step
def use_challenge(w: World, challenge: str, *, expect: str = "refused") -> None:
    """The challenge token is presented as an access token (GET me)."""
    _owner, token = _challenge(w, challenge)
    response = w.api.me(token, note=f"{challenge}'s challenge token as an access token")
    w.expect(response, expect, f"{challenge}'s MFA challenge token used as an access token")


__all__ = [name for name in VOCABULARY] + ["Step", "World", "EXPECTATIONS", "ScenarioError"]


def steps_reference() -> Mapping[str, str]:
    """Every step with its one-line description (for ``authconform scenario steps`` and docs)."""
    return {name: (inspect.getdoc(body) or "").split("\n\n")[0].replace("\n", " ")
            for name, body in VOCABULARY.items()}
