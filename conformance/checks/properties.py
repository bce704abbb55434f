"""Contract section 7: no input, however malformed, yields a 5xx; and a malformed credential never
authenticates. Three properties drive random inputs through the target with hypothesis: the
Authorization header, the token inside it, and the JSON bodies of every operation that takes one.

Hypothesis runs inside the check body (``@given`` on an inner function called directly) with the
settings of ``conformance.hypothesis_profiles``. A failure is shrunk to a minimal example, which
the verdict reports (redacted and shortened); the seed is kept in the result's details.
"""

from __future__ import annotations

import hmac
import json
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from hypothesis import example, given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter

from conformance import hypothesis_profiles
from conformance.api import Principal, Tokens, json_path
from conformance.context import CheckContext
from conformance.minting import Minter, b64url, forge, split
from conformance.registry import Severity, check
from conformance.verdict import CannotJudge, CheckFailed, ControlFailed, NotApplicable, TargetUnreachable

# Operations a client calls without an access token: a 2xx there is not an authentication.
UNAUTHENTICATED_OPERATIONS = frozenset({"signup", "login", "refresh"})
LOGIN_LIMITED_OPERATIONS = frozenset({"login"})  # contract §6: only logins count per address
# Requests left unused in every rate-limit window (for the logins the property itself makes).
LIMIT_MARGIN = 3
# Longest value shown in a verdict's reason.
SHOWN_CHARS = 160
# Claims whose wrong type no verifier may accept (RFC 7519 types; "type" is the contract's).
STRICT_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "sub", "jti", "type")
_B64URL = string.ascii_letters + string.digits + "-_"


class _Violation(AssertionError):
    """The target broke the property on one example."""


@dataclass(frozen=True)
class Probe:
    """One drawn input: what it is (for the report), and whether it may legitimately authenticate."""

    what: str
    value: Any
    lenient: bool = False


# ------------------------------------------------------------------ running a property
def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > SHOWN_CHARS:
        return f"{text[:SHOWN_CHARS]!r}... ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


def _judge(status: int, *, may_authenticate: bool) -> str | None:
    if status >= 500:
        return f"answered {status}"
    if not may_authenticate and 200 <= status < 300:
        return f"authenticated it ({status})"
    return None


def run_property(ctx: CheckContext, strategy: st.SearchStrategy[Probe], probe: Callable[[Probe], str | None],
                 examples: tuple[Probe, ...] = ()) -> None:
    """Draw probes from ``strategy`` and send each with ``probe`` (which returns a violation or None)."""
    settings = hypothesis_profiles.active()
    seed = hypothesis_profiles.seed()
    ctx.details["hypothesis_profile"] = hypothesis_profiles.active_name()
    ctx.details["hypothesis_seed"] = seed if seed is not None else "derandomized"
    seen: list[str] = []
    stopped: list[BaseException] = []
    count = [0]

    def body(case: Probe) -> None:
        if stopped:  # a control failed: hypothesis may ask for more, the verdict is already error
            return
        count[0] += 1
        try:
            problem = probe(case)
        except (ControlFailed, CannotJudge, NotApplicable, TargetUnreachable) as exc:  # not the target's answer: stop
            stopped.append(exc)
            return
        if problem is not None:
            seen.append(f"{case.what} {_show(case.value)}: the target {problem}")
            raise _Violation(seen[-1])

    test = given(case=strategy)(body)
    for explicit in reversed(examples):
        test = example(case=explicit)(test)
    test = settings(test)
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    try:
        with with_reporter(lambda _message: None):  # the report below is redacted; hypothesis's is not
            test()
    except _Violation as exc:
        raise CheckFailed(f"minimal failing example: {exc}") from None
    except Exception as exc:
        if not seen:
            raise
        found = [str(leaf) for leaf in _leaves(exc) if isinstance(leaf, _Violation)]
        if found and not isinstance(exc, Flaky):  # several distinct failures, each shrunk
            raise CheckFailed(f"minimal failing example: {found[0]} (and {len(found) - 1} other distinct "
                              "failure(s))") from None
        raise CheckFailed(f"failing example (hypothesis could not replay it: {type(exc).__name__}): "
                          f"{seen[-1]}") from None
    finally:
        ctx.details["hypothesis_examples"] = count[0]
    if stopped:
        raise stopped[0]


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _latin1(text: str) -> str:
    """Text as a header carries it on the wire: UTF-8 bytes read as latin-1, controls dropped."""
    raw = text.encode("utf-8").decode("latin-1")
    # C0 and C1 controls dropped: an HTTP client refuses to send them, so the probe would test the client.
    return "".join(ch for ch in raw if ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F).strip()


def _session(ctx: CheckContext, role: str = "viewer") -> tuple[Principal, Tokens]:
    user = ctx.users.create(role)
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    return user, tokens


def _send_authorization(ctx: CheckContext, value: str, note: str) -> int:
    """GET the 'me' operation with ``value`` as the whole credential header."""
    op = ctx.profile.operation("me")
    # A value an HTTP client refuses to send (leading whitespace, a line break) would test the client.
    value = "".join(ch for ch in value if ch not in "\r\n").strip()
    return ctx.send(op.method, op.path, headers={ctx.profile.tokens.header: value}, note=note).status


def _send_access_cookie(ctx: CheckContext, value: str, note: str) -> int:
    """GET the 'me' operation with ``value`` as the access cookie (cookie delivery)."""
    op = ctx.profile.operation("me")
    cookie_value = "".join(ch for ch in value if ch not in ';,"\\ ') or "x"
    cookie = f"{ctx.profile.tokens.access_cookie}={cookie_value}"
    return ctx.send(op.method, op.path, headers={"Cookie": cookie}, note=note).status


def _with_scheme(ctx: CheckContext, token: str) -> str:
    return f"{ctx.profile.tokens.scheme} {token}".strip()


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def _nested(depth: int, kind: str) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value} if kind == "object" else [value]
    return value


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return True
    return False


non_json_bytes = st.one_of(
    st.sampled_from([b"{", b"[1,", b"{'a': 1}", b'{"a":', b"nul", b"\xff\xfe\x00", b"{}}", b"\"unterminated"]),
    st.binary(min_size=1, max_size=64).filter(_not_json),
)


# ------------------------------------------------------------------ PROP-MALFORMED-AUTH-HEADER
def _header_probes(scheme: str, token: str) -> st.SearchStrategy[Probe]:
    junk = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"),
                   min_size=1, max_size=40)
    glued = scheme or "Bearer"
    return st.one_of(
        junk.map(lambda j: Probe("header without a scheme", j)),
        junk.map(lambda j: Probe("scheme glued to junk (no space)", glued + j)),
        st.just(Probe("scheme glued to the token (no space)", glued + token)),
        st.just(Probe("scheme alone", glued)),
        st.tuples(st.integers(2, 8), junk).map(lambda t: Probe("scheme, several spaces, junk",
                                                               glued + " " * t[0] + t[1])),
        st.integers(1, max(1, len(token) - 1)).map(
            lambda k: Probe("truncated token", f"{scheme} {token[:-k]}".strip())),
        junk.map(lambda j: Probe("token with an extra segment", f"{scheme} {token}.{j}".strip())),
        st.integers(1_000, 20_000).map(lambda n: Probe("huge header", f"{glued} " + "A" * n)),
        st.text(min_size=1, max_size=30).map(lambda u: Probe("scheme and unicode", f"{glued} {_latin1(u)}")),
        st.text(max_size=30).map(lambda u: Probe("unicode header", _latin1(u))),
        st.binary(min_size=1, max_size=40).map(
            lambda b: Probe("random header bytes", _latin1(b.decode("latin-1")))),
    )


@check(
    "PROP-MALFORMED-AUTH-HEADER",
    controls=("valid-token", "no-token", "liveness"),
    title="send random malformed Authorization headers: no scheme, no space, several spaces, unicode, huge, "
          "random bytes, truncated or extended tokens",
    rule="no malformed credential header yields a 5xx or authenticates",
    severity=Severity.MEDIUM,
    references=("RFC 6750 §2.1", "RFC 6750 §3.1", "ASVS 13.2.1", "ASVS 7.4.1", "API8:2023"),
)
def malformed_auth_header(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    scheme = ctx.profile.tokens.scheme
    glued = scheme or "Bearer"

    def probe(case: Probe) -> str | None:
        return _judge(_send_authorization(ctx, case.value, f"malformed header: {case.what}"),
                      may_authenticate=False)

    run_property(ctx, _header_probes(scheme, tokens.access), probe, examples=(
        Probe("scheme alone", glued),
        Probe("scheme glued to the token (no space)", glued + tokens.access),
        Probe("header without a scheme", "garbage"),
    ))


# ------------------------------------------------------------------ PROP-MALFORMED-TOKEN
def _wrong_values(name: str, expected: str) -> st.SearchStrategy[Any]:
    """Values of a type the claim ``name`` must never have (RFC 7519, and the contract's ``type``)."""
    containers = st.one_of(st.none(), st.lists(st.integers(), max_size=3),
                           st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
    if name in ("exp", "nbf", "iat"):
        def not_numeric(text: str) -> bool:
            try:
                float(text)
            except ValueError:
                return True
            return False
        wrong = st.one_of(containers, st.text(max_size=12).filter(not_numeric))
        return st.one_of(wrong, st.booleans()) if name == "exp" else wrong
    if name in ("sub", "jti"):
        return st.one_of(containers, st.integers(), st.booleans())
    if name == "aud":
        return st.one_of(containers, st.integers(), st.booleans(), st.text(max_size=12).filter(lambda t: t != expected))
    if name in ("iss", "type"):
        return st.one_of(containers, st.integers(), st.booleans(), st.text(max_size=12).filter(lambda t: t != expected))
    return json_values


def _signer(minter: Minter | None, fallback_signature: str) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """Sign arbitrary header and claims with the target's key (or keep the real token's signature)."""
    if minter is None:
        return lambda header, claims: forge(header, claims, fallback_signature)
    name = minter.signing.algorithm
    if name.startswith("HS"):  # by hand: PyJWT refuses some keys a target may really use (empty)
        secret = minter.signing.key.encode()

        def signature(data: bytes) -> bytes:
            return hmac.new(secret, data, "sha" + name[2:]).digest()
    else:
        algorithm = jwt.get_algorithm_by_name(name)
        key = algorithm.prepare_key(minter.signing.key)

        def signature(data: bytes) -> bytes:
            return algorithm.sign(data, key)

    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        header = {**header, "alg": name}
        if minter.signing.kid and "kid" not in header:
            header["kid"] = minter.signing.kid
        unsigned = forge(header, claims)[:-1]
        return f"{unsigned}.{b64url(signature(unsigned.encode()))}"

    return sign


def _token_probes(ctx: CheckContext, token: str, sign: Callable[[dict[str, Any], dict[str, Any]], str],
                  fresh: Callable[[], dict[str, Any]]) -> st.SearchStrategy[Probe]:
    head, body, signature = token.split(".")
    header, claims, _sig = split(token)
    tokens = ctx.profile.tokens
    expected = {"iss": tokens.issuer, "aud": tokens.audience, "type": "access"}
    segment = st.text(alphabet=_B64URL + "=+/!~%.", max_size=60)
    encoded_json = json_values.map(lambda v: b64url(json.dumps(v)))
    encoded_non_json = non_json_bytes.map(b64url)
    bad_segment = st.one_of(encoded_non_json, encoded_json, segment)
    nested = st.tuples(st.integers(1, 200), st.sampled_from(["object", "list"])).map(lambda t: _nested(*t))

    def wrong_claim(name: str) -> st.SearchStrategy[Probe]:
        strict = name in STRICT_CLAIMS
        return _wrong_values(name, expected.get(name, "")).map(
            lambda value: Probe(f"signed token with claim {name} =", sign(header, {**fresh(), name: value}),
                                lenient=not strict))

    def odd_header(name: str) -> st.SearchStrategy[Probe]:  # a target may ignore these: lenient
        return json_values.map(lambda value: Probe(f"signed token with header {name} =",
                                                   sign({**header, name: value}, fresh()), lenient=True))

    claim_names = sorted(set(claims) | set(STRICT_CLAIMS))
    header_names = sorted(set(header) - {"alg"} | {"kid", "typ"})
    return st.one_of(
        st.lists(segment, min_size=1, max_size=6).map(lambda parts: Probe("random segments", ".".join(parts))),
        bad_segment.map(lambda h: Probe("bad header segment", f"{h}.{body}.{signature}")),
        bad_segment.map(lambda p: Probe("bad payload segment", f"{head}.{p}.{signature}")),
        segment.map(lambda s: Probe("bad signature segment", f"{head}.{body}.{s}!")),
        st.integers(1_000, 30_000).map(lambda n: Probe("huge token", "eyJ" + "A" * n)),
        st.integers(1_000, 30_000).map(lambda n: Probe("huge signature", f"{head}.{body}.{'A' * n}")),
        st.text(min_size=1, max_size=40).map(lambda u: Probe("unicode token", _latin1(u) or "x")),
        nested.map(lambda v: Probe("nested JSON header", f"{b64url(json.dumps(v))}.{body}.{signature}")),
        nested.map(lambda v: Probe("signed nested JSON payload", sign(header, {**fresh(), "nest": v}),
                                   lenient=True)),
        nested.map(lambda v: Probe("nested JSON payload", f"{head}.{b64url(json.dumps(v))}.{signature}")),
        st.sampled_from(claim_names).flatmap(wrong_claim),
        _wrong_values("alg", "").map(
            lambda v: Probe("token with header alg =", forge({**header, "alg": v}, fresh(), signature))),
        st.sampled_from(header_names).flatmap(odd_header),
    )


@check(
    "PROP-MALFORMED-TOKEN",
    controls=("valid-token", "no-token", "liveness"),
    title="send random malformed tokens: random segments, bad base64, non-JSON and nested JSON, huge, unicode, "
          "and correctly signed tokens with a wrong type in every claim and header parameter",
    rule="no malformed token yields a 5xx or authenticates",
    severity=Severity.HIGH,
    references=("RFC 7519 §7.2", "RFC 8725 §3.1", "ASVS 3.5.3", "ASVS 13.2.1", "API8:2023"),
)
def malformed_token(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    minter = ctx.minter
    _header, claims, signature = split(tokens.access)
    ctx.details["signed_with_target_key"] = minter is not None

    def fresh() -> dict[str, Any]:
        if ctx.target.clock is not None:
            now = int(ctx.target.clock.now())
        else:
            now = max(int(time.time()), int(claims.get("iat", 0)))
        updated = {**claims, "iat": now, "exp": now + min(300, ctx.profile.tokens.access_ttl)}
        if "nbf" in claims:
            updated["nbf"] = now
        return updated

    sign = _signer(minter, signature)
    if minter is not None:
        control = sign(split(tokens.access)[0], fresh())
        ctx.control(ctx.api.accepted(control, note="control: token signed by the suite with the target's key"),
                    "a token the suite signed with the profile's key and the real claims was refused")

    def probe(case: Probe) -> str | None:
        note = f"malformed token: {case.what}"
        if ctx.profile.tokens.delivery == "cookie":
            status = _send_access_cookie(ctx, case.value, note)
        else:
            status = _send_authorization(ctx, _with_scheme(ctx, case.value), note)
        return _judge(status, may_authenticate=case.lenient)

    head, body, sig = tokens.access.split(".")
    run_property(ctx, _token_probes(ctx, tokens.access, sign, fresh), probe, examples=(
        Probe("bad header segment", f"{b64url(b'not json at all')}.{body}.{sig}"),
        Probe("bad payload segment", f"{head}.{b64url(b'[1, 2')}.{sig}"),
        Probe("random segments", "a.b.c"),
    ))


# ------------------------------------------------------------------ PROP-MALFORMED-BODY
@dataclass(frozen=True, repr=False)
class _Body:
    raw: bytes
    shown: Any

    def __repr__(self) -> str:
        return repr(self.shown)


def _json_body(value: Any) -> _Body:
    return _Body(json.dumps(value).encode(), value)


def _body_probes(fields: list[str], extra: dict[str, str]) -> st.SearchStrategy[_Body]:
    named = st.fixed_dictionaries({name: json_values for name in fields}).map(lambda d: {**extra, **d})
    huge = st.tuples(st.sampled_from(fields or ["value"]), st.integers(1_000, 50_000)).map(
        lambda t: {**extra, t[0]: "A" * t[1]})
    nested = st.tuples(st.sampled_from(fields or ["value"]), st.integers(1, 200),
                       st.sampled_from(["object", "list"])).map(lambda t: {**extra, t[0]: _nested(t[1], t[2])})
    return st.one_of(
        named.map(_json_body),
        st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(_json_body),
        json_values.map(_json_body),
        huge.map(_json_body),
        nested.map(_json_body),
        st.integers(1, 200).map(lambda d: _json_body(_nested(d, "list"))),
        non_json_bytes.map(lambda raw: _Body(raw, raw)),
    )


class _Pacer:
    """Keeps the property's requests inside the target's rate limits, each budget on its own: the
    user's API requests (``api``) and the logins of this client address (``login``).

    In-process the clock is moved past the limiter window (and the user logs in again); over HTTP
    the window is waited out for real while the waits stay within target.max_wait, and after that
    requests that count against a spent limit are skipped.
    """

    def __init__(self, ctx: CheckContext, user: Principal, tokens: Tokens) -> None:
        limits = ctx.profile.rate_limits
        self.ctx = ctx
        self.user = user
        self.tokens = tokens
        self.budget = {"api": max(1, limits.api_limit - LIMIT_MARGIN - 2),
                       "login": max(1, limits.login_ip_limit - LIMIT_MARGIN - 2)}
        self.window = {"api": limits.api_window + 1, "login": limits.login_window + 1}
        self.spent = {"api": 0, "login": 0}
        self.dropped = 0  # probes not sent, to stay inside the limits: said in the result
        self.waited = 0.0  # real waits over HTTP, bounded by target.max_wait

    def allow(self, *kinds: str) -> bool:
        """May a request that counts against ``kinds`` go now? (Waits a window when one is spent.)"""
        if all(self.spent[kind] < self.budget[kind] for kind in kinds):
            for kind in kinds:
                self.spent[kind] += 1
            return True
        window = max(self.window[kind] for kind in kinds if self.spent[kind] >= self.budget[kind])
        if self.ctx.target.clock is None:
            if self.waited + window > self.ctx.profile.target.max_wait:
                self.dropped += 1
                return False
            self.ctx.sleep(window, "a fresh rate-limit window for the next probes")
            self.waited += window
        else:
            self.ctx.clock.advance(window)
        for kind in self.spent:
            if self.window[kind] <= window:
                self.spent[kind] = 0
        self.tokens = self.ctx.api.login(self.user)
        # The first token may have outlived its TTL on the moved clock: liveness is judged on this one.
        self.ctx.live = [(self.tokens, "the check's current access token (logged in again after a window)")]
        self.spent["login"] += 1
        self.spent["api"] += 1  # the liveness control spends one of the user's requests
        for kind in kinds:
            self.spent[kind] += 1
        return True


def _operation_path(path: str, ids: dict[str, str]) -> str:
    for key, value in ids.items():
        path = path.replace("{" + key + "}", value)
    return path


def _auth_request_parts(ctx: CheckContext, tokens: Tokens, method: str) -> tuple[dict[str, str], dict[str, str]]:
    spec = ctx.profile.tokens
    if spec.delivery != "cookie":
        return ctx.api.bearer(tokens.access), {}
    cookies = {k: v for k, v in tokens.cookies.items() if k != spec.refresh_cookie}
    headers = {}
    if method in ("POST", "PUT", "PATCH", "DELETE") and spec.csrf_cookie in tokens.cookies:
        headers[spec.csrf_header] = tokens.cookies[spec.csrf_cookie]
    return headers, cookies


def _object_ids(ctx: CheckContext, tokens: Tokens) -> dict[str, dict[str, str]]:
    """Ids to put into the paths of operations that name an object: a document, the user, the session."""
    claims = split(tokens.access)[1] if tokens.access.count(".") == 2 else {}
    user_id, session_id, document_id = str(claims.get("sub", "1")), tokens.session_id or "1", "1"
    if ctx.profile.offers("document_create"):
        created = ctx.api.call("document_create", auth=tokens, body={"title": "property", "body": "check"},
                               note="a document to aim the document operations at")
        data = created.json()
        found = json_path(data, "id") or json_path(data, "document.id")
        if 200 <= created.status < 300 and found is not None:
            document_id = str(found)
    return {"document": {"id": document_id}, "session": {"id": session_id}, "user": {"id": user_id}}


@check(
    "PROP-MALFORMED-BODY",
    controls=("valid-token", "no-token", "liveness"),
    title="send random JSON bodies (wrong types, nested, lists, huge strings) and non-JSON bytes labelled JSON "
          "to every operation that takes a body, with and without a valid token",
    rule="no request body, however malformed, yields a 5xx, and none gets past authentication without a token",
    severity=Severity.MEDIUM,
    references=("ASVS 13.2.1", "ASVS 5.1.3", "API8:2023", "API4:2023"),
)
def malformed_body(ctx: CheckContext) -> None:
    operations = sorted(name for name, op in ctx.profile.operations.items()
                        if (op.fields or op.extra) and op.method in ("POST", "PUT", "PATCH", "DELETE")
                        and ctx.profile.offers(name))
    if not operations:
        raise NotApplicable("the profile names no operation that takes a body")
    user, tokens = _session(ctx, "admin")
    pacer = _Pacer(ctx, user, tokens)
    ids = _object_ids(ctx, tokens)
    bodies = {name: _body_probes(sorted(ctx.profile.operation(name).fields.values()),
                                 dict(ctx.profile.operation(name).extra)) for name in operations}
    strategy = st.sampled_from(operations).flatmap(
        lambda name: st.tuples(st.just(name), bodies[name], st.booleans())).map(
        lambda t: Probe(f"{t[0]} {'with' if t[2] else 'without'} a token, body", t[1], lenient=t[2]))

    def probe(case: Probe) -> str | None:
        name = case.what.split(" ", 1)[0]
        with_token = case.lenient
        op = ctx.profile.operation(name)
        # The declared limits are the user's API requests and the logins per address; a sign-up or a
        # refresh has none declared (should the target limit it, send waits out its 429 or ends in error).
        kinds = (("api",) if with_token else ()) + (("login",) if name in LOGIN_LIMITED_OPERATIONS else ())
        if kinds and not pacer.allow(*kinds):
            return None
        headers: dict[str, str] = {"Content-Type": "application/json"}
        cookies: dict[str, str] = {}
        if with_token:
            auth_headers, cookies = _auth_request_parts(ctx, pacer.tokens, op.method)
            headers.update(auth_headers)
        kind = "document" if name.startswith("document") else "session" if name.startswith("session") else "user"
        status = ctx.send(op.method, _operation_path(op.path, ids[kind]), headers=headers, cookies=cookies,
                          raw_body=case.value.raw, note=f"malformed body: {case.what.split(', ')[0]}").status
        return _judge(status, may_authenticate=with_token or name in UNAUTHENTICATED_OPERATIONS)

    # A list where an object belongs, and a broken document, once on every operation.
    run_property(ctx, strategy, probe, examples=tuple(
        Probe(f"{name} {'without' if name in UNAUTHENTICATED_OPERATIONS else 'with'} a token, body", body,
              lenient=name not in UNAUTHENTICATED_OPERATIONS)
        for name in operations for body in (_Body(b"[]", []), _Body(b"{", b"{"))
    ))
    _say_dropped(ctx, pacer)


def _say_dropped(ctx: CheckContext, pacer: _Pacer) -> None:
    """Probes the pacer skipped were not judged: the examples count what was sent, and a pass
    with skipped probes is partial."""
    drawn = int(ctx.details.get("hypothesis_examples", 0))
    ctx.details["hypothesis_examples"] = drawn - pacer.dropped
    if pacer.dropped:
        ctx.details["examples_dropped"] = pacer.dropped
        ctx.cover(drawn - pacer.dropped, drawn, "examples",
                  [f"{pacer.dropped} probes not sent, to stay inside the declared rate limits"])
