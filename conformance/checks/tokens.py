"""Contract section 1: tokens. Each check attacks token verification one way.

The forgeries themselves (alg none, null and "psychic" signatures, key confusion, header
injection, re-signing with a cracked secret) come from ``conformance.attacks``, which the
scenarios and ``authconform forge`` use too; this module judges what the target does with them.
Checks that mint tokens with the target's own key first show that an unaltered minted token is
accepted, so a wrong key in the profile gives an error, never a pass.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jwt

from conformance import operations_catalog
from conformance.answers import Answer
from conformance.api import Tokens
from conformance.attacker_server import is_loopback
from conformance.attacks import confusion, cracking, forging, headers
from conformance.attacks.cracking import HMAC_HASHES
from conformance.checks._support import catalog_request, login, own_user, top_session
from conformance.context import CheckContext
from conformance.minting import Minter, b64url, split
from conformance.registry import Severity, check
from conformance.verdict import CannotJudge, CheckFailed, ControlFailed, NotApplicable

# Lifetime of the tokens the suite mints for itself (capped by the declared access TTL).
MINTED_LIFETIME = 300
# How far beyond the declared leeway a "future" nbf/iat or a "past" exp is put.
TIME_MARGIN = 60
# How far inside/outside the leeway edge the boundary check probes when it must mint (no clock):
# real clocks over a network are never closer than this.
BOUNDARY_MARGIN_HTTP = 5
# Dictionary entries also tried against the target itself (the rest are tried offline only).
WEAK_SECRETS_ONLINE = 8
WEAK_SECRETS_FILE = cracking.BUNDLED_FILE
_DROP = object()  # marks a claim or header parameter to leave out of a minted token


# ------------------------------------------------------------------ shared helpers
def _session(ctx: CheckContext) -> Tokens:
    """A fresh viewer logged in, with the standard controls run on its token."""
    user = ctx.users.create("viewer")
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    return tokens


def _refused(ctx: CheckContext, token: str, note: str) -> bool:
    forging.note_recipe(ctx.evidence, token, ctx.redactor.text)
    return ctx.refused(ctx.api.me(token, note=note))


def _now(ctx: CheckContext, claims: dict[str, Any]) -> int:
    """The target's "now": its own clock in-process; otherwise ours, never behind the token's iat."""
    if ctx.target.clock is not None:
        return int(ctx.target.clock.now())
    iat = claims.get("iat")
    return max(int(time.time()), int(iat) if isinstance(iat, (int, float)) else 0)


def _fresh(ctx: CheckContext, claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The real token's claims with a fresh iat/nbf/exp, then ``changes`` (``_DROP`` removes)."""
    now = _now(ctx, claims)
    fresh = dict(claims)
    fresh["iat"] = now
    if "nbf" in fresh:
        fresh["nbf"] = now
    fresh["exp"] = now + min(MINTED_LIFETIME, ctx.profile.tokens.access_ttl)
    for name, value in changes.items():
        if value is _DROP:
            fresh.pop(name, None)
        else:
            fresh[name] = value
    return fresh


def _checked_minter(ctx: CheckContext, tokens: Tokens) -> tuple[Minter, dict[str, Any]]:
    """The minter and the real token's claims, once a minted twin of the token is shown to work."""
    minter = ctx.require_minter()
    _header, claims, _signature = split(tokens.access)
    control = minter.mint(_fresh(ctx, claims))
    held = ctx.api.accepted(control, note="control: unaltered token minted with the target's key")
    ctx.record_control("minted-twin", held, "a token minted with the profile's key and the real claims "
                                            + ("was accepted" if held else "was refused"))
    ctx.control(held,
                "a token minted with the profile's signing key and the real token's claims was refused "
                "(is [signing] the target's real key and algorithm?)")
    return minter, claims


def _minting_session(ctx: CheckContext) -> tuple[Tokens, Minter, dict[str, Any]]:
    """A session, the minter, and the real token's claims; a minted twin of the token must work."""
    ctx.require_minter()
    tokens = _session(ctx)
    minter, claims = _checked_minter(ctx, tokens)
    return tokens, minter, claims


def _refused_variants(ctx: CheckContext, variants: Mapping[str, str]) -> list[str]:
    """Send each labelled token; the labels of those not refused."""
    return [label for label, token in variants.items() if not _refused(ctx, token, label)]


# ------------------------------------------------------------------ signatures and algorithms
@check(
    "TOK-SIG-BROKEN",
    controls=("valid-token", "no-token", "liveness"),
    title="flip one character of a valid token's signature",
    rule="an access token whose signature does not verify is rejected",
    severity=Severity.CRITICAL,
    references=("RFC 7519 §7.2", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def signature_broken(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    ctx.expect(_refused(ctx, forging.signature_broken(tokens.access), "token with a broken signature"),
               "a token with a corrupted signature was accepted")


@check(
    "TOK-SIG-NULL",
    controls=("valid-token", "no-token", "liveness"),
    title="send a valid token with its signature segment emptied",
    rule="an access token without a signature is rejected whatever its header says",
    severity=Severity.CRITICAL,
    references=("RFC 7515 §5.2", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def signature_null(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    accepted = _refused_variants(ctx, {
        "empty signature segment": forging.signature_null(tokens.access),
        "signature segment missing": forging.signature_null(tokens.access, drop_dot=True),
    })
    ctx.expect(not accepted, f"a token without its signature was accepted ({', '.join(accepted)})")


@check(
    "TOK-ALG-NONE",
    controls=("valid-token", "no-token", "liveness"),
    title='send the token re-encoded with alg "none" in four casings and no signature',
    rule="the algorithm allow-list is exactly the configured one; alg none is rejected in any casing",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §2.1", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def alg_none(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    accepted = []
    for spelling in forging.NONE_SPELLINGS:
        forged = forging.alg_none(tokens.access, spelling)
        if not _refused(ctx, forged, f'alg "{spelling}", empty signature'):
            accepted.append(spelling)
    ctx.expect(not accepted, f"unsigned tokens accepted with alg {', '.join(accepted)}")


@check(
    "TOK-ALG-KEY-CONFUSION",
    controls=("valid-token", "no-token", "liveness"),
    title="sign an HS256 token with the target's published RSA public key as the HMAC secret (PEM, DER and "
          "JWK encodings)",
    rule="an HS token verified with a public key is rejected: the algorithm comes from configuration, "
         "never from the token",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §2.1", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
    needs=("jwks",),
)
def alg_key_confusion(ctx: CheckContext) -> None:
    response = ctx.api.call("jwks", note="fetch the target's public keys")
    ctx.control(200 <= response.status < 300, f"the JWKS endpoint answered {response.status}")
    keys = confusion.rsa_jwks_keys(response.json())
    if not keys:
        raise NotApplicable("the JWKS publishes no RSA key, so there is no public key to confuse with an HMAC "
                            "secret")
    tokens = _session(ctx)
    jwks_url = confusion.jwks_source(ctx.profile.target.base_url, ctx.profile.operation("jwks").path)
    variants = {}
    for index, jwk in enumerate(keys, 1):
        for encoding in confusion.encodings(jwk):
            label = f"HS256 keyed with key {index}'s {encoding.label}"
            variants[label] = confusion.key_confusion(tokens.access, jwk, encoding, source=jwks_url,
                                                      key_index=index)
    accepted = _refused_variants(ctx, variants)
    ctx.expect(not accepted, "an HS256 token whose HMAC key is the target's public key was accepted: "
                             + "; ".join(accepted))


@check(
    "TOK-ECDSA-PSYCHIC",
    controls=("valid-token", "no-token", "liveness"),
    title="send the token as ES256 with an all-zero signature (r = s = 0), raw and DER encoded",
    rule="an ECDSA signature with r = 0 or s = 0 never verifies (and an ES token is refused where ES is "
         "not configured)",
    severity=Severity.CRITICAL,
    references=("CVE-2022-21449", "RFC 7518 §3.4", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def ecdsa_psychic(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    accepted = _refused_variants(ctx, {
        "ES256, 64 zero bytes": forging.psychic(tokens.access, "raw"),
        "ES256, DER r=0 s=0": forging.psychic(tokens.access, "der"),
    })
    ctx.expect(not accepted, "an ES256 token with a zero signature was accepted: " + "; ".join(accepted))


# ------------------------------------------------------------------ key-selecting headers
@check(
    "TOK-HDR-JWK",
    controls=("valid-token", "no-token", "liveness"),
    title="embed the attacker's own public key as a jwk header and sign with the matching private key",
    rule="a jwk header never chooses a key from outside the server's own key set",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.10", "RFC 7515 §4.1.3", "ASVS 3.5.3", "API2:2023"),
)
def header_jwk(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    claims = _fresh(ctx, split(tokens.access)[1])
    variants = {
        "RS256 signed with the attacker's RSA key in jwk": headers.embedded_jwk(tokens.access, "rsa", claims=claims),
        "HS256 signed with the attacker's oct key in jwk": headers.embedded_jwk(tokens.access, "oct", claims=claims),
    }
    if ctx.profile.tokens.algorithm.startswith("ES"):
        variants["ES256 signed with the attacker's EC key in jwk"] = headers.embedded_jwk(
            tokens.access, "ec", claims=claims)
    accepted = _refused_variants(ctx, variants)
    ctx.expect(not accepted, "a token verified with the key in its own jwk header was accepted: "
                             + "; ".join(accepted))


def _attacker_address(ctx: CheckContext) -> tuple[str, str]:
    """Where the attacker server binds and how the target names it: [attacker] of the profile, else
    loopback, which only a target on this machine (or in-process) can reach."""
    settings = ctx.profile.attacker
    if settings.public_url:
        return settings.bind, settings.public_url
    host = urlsplit(ctx.profile.target.base_url).hostname or ""
    if ctx.target.clock is not None or is_loopback(host) or not is_loopback(settings.bind):
        return settings.bind, ""
    raise NotApplicable(f"the target at {host} cannot fetch from an attacker server on this machine's loopback: "
                        "set [attacker] bind and public_url to an address the target can reach")


def _remote_key_header(ctx: CheckContext, parameter: str, path: str) -> None:
    tokens = _session(ctx)
    claims = _fresh(ctx, split(tokens.access)[1])
    bind, public_url = _attacker_address(ctx)
    with headers.attacker_documents(bind, public_url) as server:
        token = headers.remote_key(tokens.access, parameter, server.url(path), claims=claims)
        accepted = not _refused(ctx, token, f"RS256 signed with the attacker's key named by {parameter}")
        fetched = server.hits
    ctx.details[f"{parameter}_fetches"] = len(fetched)
    ctx.expect(not accepted, f"a token signed with a key fetched from its own {parameter} URL was accepted")
    ctx.expect(not fetched, f"the target fetched the {parameter} URL from a token header "
                            f"({len(fetched)} request(s)); it must never reach out to a URL a token names")


@check(
    "TOK-HDR-JKU",
    controls=("valid-token", "no-token", "liveness"),
    title="point a jku header at a key set the suite serves, signed with the attacker's key",
    rule="a jku header never chooses a key from outside the server's own key set (and is never fetched)",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.10", "RFC 7515 §4.1.2", "ASVS 3.5.3", "API7:2023"),
)
def header_jku(ctx: CheckContext) -> None:
    _remote_key_header(ctx, "jku", headers.JKU_PATH)


@check(
    "TOK-HDR-X5U",
    controls=("valid-token", "no-token", "liveness"),
    title="point an x5u header at a certificate the suite serves, signed with the attacker's key",
    rule="an x5u header never chooses a key from outside the server's own key set (and is never fetched)",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.10", "RFC 7515 §4.1.5", "ASVS 3.5.3", "API7:2023"),
)
def header_x5u(ctx: CheckContext) -> None:
    _remote_key_header(ctx, "x5u", headers.X5U_PATH)


@check(
    "TOK-KID-INJECTION",
    controls=("valid-token", "no-token", "liveness"),
    title="send tokens whose kid is a path traversal, SQL injection, shell injection, unknown id or "
          "null byte, each signed with the key the injection would select",
    rule="a kid header never chooses a key from outside the server's own key set",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.10", "RFC 7515 §4.1.4", "ASVS 3.5.3", "ASVS 5.3.4", "API2:2023"),
)
def kid_injection(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    claims = _fresh(ctx, split(tokens.access)[1])
    variants = {payload.label: headers.kid_injection(tokens.access, payload.kid, payload.key, claims=claims)
                for payload in headers.KID_PAYLOADS}
    accepted = _refused_variants(ctx, variants)
    ctx.expect(not accepted, "a token whose kid selected an attacker-chosen key was accepted: " + "; ".join(accepted))


# ------------------------------------------------------------------ signing secret
def _named(ctx: CheckContext, cracked: cracking.Cracked) -> str:
    """How the report names a cracked secret: a secret from a public list is the finding (the owner
    needs it to find the configuration that holds it); one from the person's own list stays theirs."""
    if cracked.wordlist.public:
        ctx.redactor.publish(cracked.text)
        return repr(cracked.text)
    ctx.redact(cracked.text)
    return "a secret from your own list (redacted)"


@check(
    "TOK-SECRET-BLANK",
    controls=("valid-token", "no-token", "liveness"),
    title="sign the user's claims with an empty HMAC secret (and check the real token offline)",
    rule="the signing secret is never empty: a token signed with an empty key is rejected",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.5", "RFC 7518 §3.2", "ASVS 3.5.3", "ASVS 6.4.1", "API2:2023"),
)
def secret_blank(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    header, claims, _signature = split(tokens.access)
    real_alg = str(header.get("alg"))
    ctx.details["real_token_signed_with_empty_key"] = (
        real_alg in HMAC_HASHES and cracking.verifies(tokens.access, real_alg, b""))
    algorithms = [real_alg] if real_alg in HMAC_HASHES else []
    algorithms += [alg for alg in ("HS256",) if alg not in algorithms]
    claims = _fresh(ctx, claims)
    accepted = _refused_variants(ctx, {
        f"{alg} signed with an empty secret": forging.resigned(tokens.access, b"", algorithm=alg, claims=claims)
        for alg in algorithms
    })
    ctx.expect(not accepted, "a token signed with an empty secret was accepted: " + "; ".join(accepted))
    ctx.expect(not ctx.details["real_token_signed_with_empty_key"],
               "the target's own access token verifies with an empty HMAC secret")


@check(
    "TOK-SECRET-WEAK",
    controls=("valid-token", "no-token", "liveness"),
    title="try a dictionary of framework-default and common secrets against the real token offline, "
          "then sign the user's claims with the best candidates",
    rule="the signing secret has at least 256 bits of entropy and is never a known default",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.5", "RFC 7518 §3.2", "ASVS 3.5.3", "ASVS 6.4.1", "ASVS 2.10.4", "API2:2023"),
)
def secret_weak(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    header, claims, _signature = split(tokens.access)
    algorithm = str(header.get("alg"))
    if algorithm not in HMAC_HASHES:
        raise NotApplicable(f"the target signs with {algorithm}, not an HMAC algorithm, so it has no shared "
                            "secret to guess (TOK-ALG-KEY-CONFUSION covers HMAC tokens against public keys)")
    dictionary = cracking.bundled_secrets()
    wordlists = ctx.profile.signing.wordlists
    ctx.details["dictionary_size"] = len(dictionary)
    ctx.details["own_wordlists"] = len(wordlists)
    claims = _fresh(ctx, claims)
    # Offline first: the real token verifying with a dictionary entry is the finding itself.
    cracked = cracking.crack(tokens.access, algorithm, wordlists)
    if cracked is not None:
        ctx.details["dictionary_entry"] = cracked.entry
        ctx.details["wordlist"] = cracked.wordlist.name
        named = _named(ctx, cracked)
        shown_key = cracked.text if cracked.wordlist.public else "$SECRET"
        forged = forging.resigned(tokens.access, cracked.secret, claims=claims, shown_key=shown_key)
        taken = not _refused(ctx, forged, f"token signed with entry {cracked.entry} of {cracked.wordlist.name}")
        confirmed = ", and a token the suite signed with it was accepted" if taken else ""
        raise CheckFailed(f"the signing secret is {named}, entry {cracked.entry} of {cracked.wordlist.name} "
                          f"({len(cracked.secret)} bytes): the target's own access token verifies with it"
                          + confirmed)
    # Then a few of the most common secrets against the target, for a verifier holding extra keys.
    accepted = _refused_variants(ctx, {
        f"signed with dictionary entry {number}": forging.resigned(tokens.access, secret, claims=claims)
        for number, secret in enumerate(dictionary[:WEAK_SECRETS_ONLINE], 1)
    })
    ctx.expect(not accepted, f"a token signed with a secret from {WEAK_SECRETS_FILE} was accepted: "
                             + "; ".join(accepted))


# ------------------------------------------------------------------ time claims
def _leeway(ctx: CheckContext) -> int:
    return ctx.profile.tokens.leeway


def _session_limit(ctx: CheckContext) -> float:
    """How long an unused session lives by the profile (idle and absolute timeouts), or infinity."""
    sessions = ctx.profile.sessions
    limits = [float("inf")]
    if ctx.profile.declares("idle_timeout"):
        limits.append(sessions.idle_timeout)
    if ctx.profile.declares("absolute_timeout"):
        limits.append(sessions.absolute_timeout)
    return min(limits)


def _until_exp(ctx: CheckContext, tokens: Tokens) -> int:
    """Seconds from now until the issued access token's own exp claim."""
    claims = split(tokens.access)[1]
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise ControlFailed("the issued access token has no numeric exp claim (TOK-CLAIMS-MISSING judges that)")
    return int(exp) - _now(ctx, claims)


# Black box, a wait for the real token's exp is bounded so: past exp + leeway by this much (s).
WAIT_MARGIN = 2
CLOCK, MINT, WAIT = "clock", "mint", "wait"


def _time_mode(ctx: CheckContext, tokens: Tokens) -> str:
    """How to present a token past its exp: move the clock past the real token's (CLOCK), mint
    tokens with a chosen exp (MINT), or, black box, wait for the real token's exp (WAIT).

    The clock tests the real token, so it is preferred; but when the token outlives its session,
    moving the clock would end the session first and hide how exp itself is judged: then, and
    when there is no clock, tokens are minted. Without the signing key over HTTP, the suite waits
    for the real token's exp when that fits under target.max_wait and the session outlives it (a
    refusal must be the token's own expiry). None possible: not applicable.
    """
    if ctx.target.clock is not None:
        outlives = _until_exp(ctx, tokens) + _leeway(ctx) + 1 >= _session_limit(ctx)
        if not (outlives and ctx.minter is not None):
            return CLOCK
    if ctx.minter is not None:
        return MINT
    if ctx.target.clock is None:
        wait = _until_exp(ctx, tokens) + _leeway(ctx) + WAIT_MARGIN
        sessions = ctx.profile.sessions
        # The session must outlive the wait: its absolute timeout, and its idle timeout from the last
        # use before exp (the wait uses the token now and then until exp).
        idle_ok = not ctx.profile.declares("idle_timeout") or _leeway(ctx) + 2 * WAIT_MARGIN < sessions.idle_timeout
        absolute_ok = not ctx.profile.declares("absolute_timeout") or wait + WAIT_MARGIN < sessions.absolute_timeout
        if wait <= ctx.profile.target.max_wait and idle_ok and absolute_ok:
            return WAIT
        why = (f"waiting out the access token's exp and leeway ({wait} s) is more than target.max_wait "
               f"({ctx.profile.target.max_wait:g} s) allows" if wait > ctx.profile.target.max_wait else
               "the session ends before the access token's exp and leeway have passed, so a refusal after a "
               "wait would not be the token's expiry")
        raise NotApplicable(f"needs the target's signing key ([signing] in the profile) to present a token past "
                            f"its exp: {why}")
    raise NotApplicable("needs a controllable clock or the target's signing key ([signing] in the profile) "
                        "to present a token past its exp without waiting out the access TTL")


def _wait_until(ctx: CheckContext, tokens: Tokens, after_exp: int) -> None:
    """Black box: wait for real until the real token's exp + ``after_exp`` seconds. Where sessions end
    when idle, the token is used now and then until just before its exp, so the session outlives it."""
    ctx.clock_moved = True  # its timing now matters: a rate-limit wait would move it
    why = f"the access token's exp + {after_exp} s"
    if ctx.profile.declares("idle_timeout"):
        step = max(1.0, ctx.profile.sessions.idle_timeout / 2)
        while _until_exp(ctx, tokens) > WAIT_MARGIN and _until_exp(ctx, tokens) + after_exp > step:
            ctx.sleep(min(step, _until_exp(ctx, tokens) - WAIT_MARGIN), why)
            ctx.control(ctx.accepted(ctx.api.me(tokens, note="keeping the session active before exp")),
                        "the access token was refused before its exp while the check waited for it")
    ctx.sleep(_until_exp(ctx, tokens) + after_exp, why)


@check(
    "TOK-EXP-EXPIRED",
    ends_credential=True,
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="present an access token after its exp plus the declared leeway (clock moved, or exp minted "
          "in the past)",
    rule="an access token whose exp has passed (beyond the declared leeway) is rejected",
    severity=Severity.CRITICAL,
    references=("RFC 7519 §4.1.4", "RFC 8725 §3.10", "ASVS 3.5.2", "API2:2023"),
)
def exp_expired(ctx: CheckContext) -> None:
    ttl, leeway = ctx.profile.tokens.access_ttl, _leeway(ctx)
    tokens = _session(ctx)
    mode = _time_mode(ctx, tokens)
    if mode == CLOCK:
        ctx.clock.advance(_until_exp(ctx, tokens) + leeway + 1)
        ctx.expect(_refused(ctx, tokens.access, f"token {leeway + 1} s past its exp"),
                   f"an access token was accepted {leeway + 1} s after its exp (declared leeway {leeway} s)")
        return
    if mode == WAIT:
        _wait_until(ctx, tokens, leeway + WAIT_MARGIN)
        ctx.expect(_refused(ctx, tokens.access, f"token {leeway + WAIT_MARGIN} s past its exp (waited for real)"),
                   f"an access token was accepted {leeway + WAIT_MARGIN} s after its exp (declared leeway "
                   f"{leeway} s)")
        return
    minter, claims = _checked_minter(ctx, tokens)
    exp = _now(ctx, claims) - leeway - TIME_MARGIN
    extra = {"nbf": exp - ttl} if "nbf" in claims else {}
    token = minter.mint(_fresh(ctx, claims, exp=exp, iat=exp - ttl, **extra))
    ctx.expect(_refused(ctx, token, f"minted token {leeway + TIME_MARGIN} s past exp"),
               f"a token whose exp passed {TIME_MARGIN} s beyond the declared leeway ({leeway} s) was accepted")


@check(
    "TOK-EXP-LEEWAY",
    ends_credential=True,
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="present an access token just inside, then just outside, exp plus the declared leeway",
    rule="the clock leeway is the declared one: a token just inside it is accepted, just outside rejected",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1.4", "RFC 8725 §3.10", "ASVS 3.5.2"),
)
def exp_leeway(ctx: CheckContext) -> None:
    ttl, leeway = ctx.profile.tokens.access_ttl, _leeway(ctx)
    tokens = _session(ctx)
    mode = _time_mode(ctx, tokens)
    if mode == WAIT:
        # Just inside (or, without a leeway, just before exp), then just outside, on the real token.
        margin = WAIT_MARGIN
        _wait_until(ctx, tokens, leeway - margin)
        inside = not _refused(ctx, tokens.access, f"token at exp + {leeway - margin} s (waited for real)")
        _wait_until(ctx, tokens, leeway + margin)
        outside_refused = _refused(ctx, tokens.access, f"token at exp + {leeway + margin} s (waited for real)")
        where_in, where_out = f"exp + {leeway - margin} s", f"exp + {leeway + margin} s"
    elif mode == CLOCK:
        ctx.clock.advance(_until_exp(ctx, tokens) + leeway - 1)
        inside = not _refused(ctx, tokens.access, f"token at exp + {leeway - 1} s (inside the leeway)")
        ctx.clock.advance(2)
        outside_refused = _refused(ctx, tokens.access, f"token at exp + {leeway + 1} s (outside the leeway)")
        where_in, where_out = f"exp + {leeway - 1} s", f"exp + {leeway + 1} s"
    else:
        minter, claims = _checked_minter(ctx, tokens)
        now, margin = _now(ctx, claims), BOUNDARY_MARGIN_HTTP
        extra = {"nbf": now - ttl} if "nbf" in claims else {}
        inside_token = minter.mint(_fresh(ctx, claims, iat=now - ttl, exp=now - leeway + margin, **extra))
        outside_token = minter.mint(_fresh(ctx, claims, iat=now - ttl, exp=now - leeway - margin, **extra))
        inside = not _refused(ctx, inside_token, f"minted token at exp + {leeway - margin} s")
        outside_refused = _refused(ctx, outside_token, f"minted token at exp + {leeway + margin} s")
        where_in, where_out = f"exp + {leeway - margin} s", f"exp + {leeway + margin} s"
    ctx.details["leeway"] = {"declared": leeway, "inside_accepted": inside, "outside_refused": outside_refused}
    ctx.expect(outside_refused, f"a token was accepted at {where_out}, beyond the declared leeway of {leeway} s")
    ctx.expect(inside, f"a token was refused at {where_in}, inside the declared leeway of {leeway} s: "
                       "the profile declares a leeway the target does not allow")


@check(
    "TOK-NBF-FUTURE",
    clock_sensitive=True,
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="mint a token whose nbf lies beyond the declared leeway in the future",
    rule="a token is rejected before its nbf (beyond the declared leeway)",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1.5", "RFC 8725 §3.10", "ASVS 3.5.2"),
    needs=("minting",),
)
def nbf_future(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    ahead = _leeway(ctx) + TIME_MARGIN
    token = minter.mint(_fresh(ctx, claims, nbf=_now(ctx, claims) + ahead))
    ctx.expect(_refused(ctx, token, f"nbf {ahead} s in the future"),
               f"a token whose nbf lies {ahead} s in the future was accepted")


@check(
    "TOK-IAT-FUTURE",
    clock_sensitive=True,
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="mint a token whose iat lies beyond the declared leeway in the future",
    rule="a token issued in the future (iat beyond the declared leeway) is rejected",
    severity=Severity.MEDIUM,
    references=("RFC 7519 §4.1.6", "RFC 8725 §3.10", "ASVS 3.5.2"),
    needs=("minting",),
)
def iat_future(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    ahead = _leeway(ctx) + TIME_MARGIN
    now = _now(ctx, claims)
    token = minter.mint(_fresh(ctx, claims, iat=now + ahead, exp=now + ahead + MINTED_LIFETIME))
    ctx.expect(_refused(ctx, token, f"iat {ahead} s in the future"),
               f"a token whose iat lies {ahead} s in the future was accepted")


# ------------------------------------------------------------------ issuer, audience, required claims
@check(
    "TOK-ISS-WRONG",
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="mint tokens with a foreign issuer, a look-alike issuer, and no iss",
    rule="the iss claim is present and equal to the configured issuer",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1.1", "RFC 8725 §3.8", "ASVS 3.5.3", "API2:2023"),
    needs=("minting",),
)
def iss_wrong(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    issuer = ctx.profile.tokens.issuer
    accepted = _refused_variants(ctx, {
        "foreign iss": minter.mint(_fresh(ctx, claims, iss="https://attacker.example")),
        "look-alike iss": minter.mint(_fresh(ctx, claims, iss=issuer + ".attacker.example")),
        "no iss": minter.mint(_fresh(ctx, claims, iss=_DROP)),
    })
    ctx.expect(not accepted, "a token with a wrong or missing issuer was accepted: " + "; ".join(accepted))


@check(
    "TOK-AUD-WRONG",
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="mint tokens for another audience (string and list) and with no aud",
    rule="the aud claim is present and names the configured audience",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1.3", "RFC 8725 §3.9", "ASVS 3.5.3", "API2:2023"),
    needs=("minting",),
)
def aud_wrong(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    audience = ctx.profile.tokens.audience
    accepted = _refused_variants(ctx, {
        "foreign aud": minter.mint(_fresh(ctx, claims, aud="attacker-api")),
        "foreign aud list": minter.mint(_fresh(ctx, claims, aud=["attacker-api", audience + "-other"])),
        "no aud": minter.mint(_fresh(ctx, claims, aud=_DROP)),
    })
    ctx.expect(not accepted, "a token for another or no audience was accepted: " + "; ".join(accepted))


@check(
    "TOK-CLAIMS-MISSING",
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="mint tokens each missing one of exp, iss, aud, jti, sub",
    rule="the required claims are present: a token missing exp, iss, aud, jti or sub is rejected",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1", "RFC 8725 §3.8", "ASVS 3.5.3", "API2:2023"),
    needs=("minting",),
)
def claims_missing(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    accepted = _refused_variants(ctx, {
        f"no {name}": minter.mint(_fresh(ctx, claims, **{name: _DROP}))
        for name in ("exp", "iss", "aud", "jti", "sub")
    })
    ctx.expect(not accepted, "a token missing a required claim was accepted: " + "; ".join(accepted))


@check(
    "TOK-CRIT-UNKNOWN",
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title='mint a token whose header marks an unknown parameter critical (crit: ["x-authconform-unknown"])',
    rule="a token with a critical header parameter the server does not understand is rejected",
    severity=Severity.MEDIUM,
    references=("RFC 7515 §4.1.11", "RFC 8725 §3.1", "ASVS 3.5.3"),
    needs=("minting",),
)
def crit_unknown(ctx: CheckContext) -> None:
    _tokens, minter, claims = _minting_session(ctx)
    parameter = "x-authconform-unknown"
    token = minter.mint(_fresh(ctx, claims), headers={"crit": [parameter], parameter: True})
    ctx.expect(_refused(ctx, token, "unknown critical header parameter"),
               f"a token marking the unknown header parameter {parameter!r} critical was accepted")


# ------------------------------------------------------------------ token types and tampering
@check(
    "TOK-TYPE-REFRESH-AS-ACCESS",
    controls=("valid-token", "no-token", "liveness"),
    title="present the refresh token where an access token is expected",
    rule="a refresh token is never accepted where an access token is (type checked)",
    severity=Severity.HIGH,
    references=("RFC 8725 §3.11", "RFC 9700 §4.14", "ASVS 3.5.3", "API2:2023"),
    needs=("refresh",),
)
def refresh_as_access(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    ctx.control(bool(tokens.refresh), "the login answer carried no refresh token")
    accepted = _refused_variants(ctx, {"refresh token as bearer": tokens.refresh})
    if ctx.profile.tokens.delivery == "cookie":
        spec = ctx.profile.tokens
        swapped = Tokens(cookies={**tokens.cookies, spec.access_cookie: tokens.refresh})
        if not ctx.refused(ctx.api.me(swapped, note="refresh token in the access cookie")):
            accepted.append("refresh token in the access cookie")
    ctx.expect(not accepted, "a refresh token authenticated an API request: " + "; ".join(accepted))


@check(
    "TOK-TYPE-ACCESS-AS-REFRESH",
    controls=("valid-token", "no-token", "liveness"),
    title="present the access token to the refresh operation",
    rule="an access token is never accepted where a refresh token is (type checked)",
    severity=Severity.HIGH,
    references=("RFC 8725 §3.11", "RFC 9700 §4.14", "ASVS 3.5.3", "API2:2023"),
    needs=("refresh",),
)
def access_as_refresh(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    swapped = Tokens(refresh=tokens.access, cookies=dict(tokens.cookies))
    response = ctx.api.refresh_response(swapped)
    ctx.expect(ctx.refused(response, also=(400,)),
               f"the refresh operation answered {response.status} to an access token presented as a refresh token")


@check(
    "TOK-CLAIMS-TAMPERED",
    controls=("valid-token", "no-token", "liveness"),
    title="raise the role and swap the sub in a token's payload, keeping the original signature",
    rule="a token whose payload was changed after signing is rejected",
    severity=Severity.CRITICAL,
    references=("RFC 7519 §7.2", "RFC 8725 §3.1", "ASVS 3.5.3", "API1:2023", "API2:2023"),
)
def claims_tampered(ctx: CheckContext) -> None:
    user = ctx.users.create("viewer")
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    _header, claims, _signature = split(tokens.access)
    variants = {}
    if "role" in claims and ctx.profile.roles:
        top = ctx.profile.roles_by_level()[-1]
        variants[f"role raised to {top}"] = forging.tampered(tokens.access, {"role": top})
    no_second_user: NotApplicable | None = None
    try:
        other = ctx.api.login(ctx.users.create("editor", distinct_from=user))
    except NotApplicable as exc:  # one pre-provisioned account: no other sub to swap in
        no_second_user = exc
    else:
        other_sub = split(other.access)[1].get("sub")
        if other_sub is not None and other_sub != claims.get("sub"):
            variants["sub swapped for another user's"] = forging.tampered(tokens.access, {"sub": other_sub})
    if not variants and no_second_user is not None:
        raise no_second_user
    ctx.control(bool(variants), "the access token carries neither a role nor a sub to tamper with")
    accepted = _refused_variants(ctx, variants)
    ctx.expect(not accepted, "a token whose payload was changed after signing was accepted: " + "; ".join(accepted))


@check(
    "TOK-QUERY-STRING",
    controls=("valid-token", "no-token", "liveness"),
    title="send no Authorization header and the token in ?access_token=, ?token= and ?jwt=",
    rule="access tokens are taken from the Authorization header only, never from the URL",
    severity=Severity.MEDIUM,
    references=("RFC 6750 §2.3", "RFC 6750 §5.3", "RFC 9700 §4.3.2", "ASVS 3.1.1", "API2:2023"),
)
def token_in_query(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    answers = {}
    for name in ("access_token", "token", "jwt"):
        answers[name] = ctx.api.call("me", params={name: tokens.access}, note=f"token in ?{name}=").status
    wrong = [f"?{name}= answered {status}" for name, status in answers.items() if status != 401]
    ctx.expect(not wrong, "a request with the token only in the query string was not refused with 401: "
                          + "; ".join(wrong))


@check(
    "TOK-ACCESS-TTL",
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="read exp - iat of an issued access token (decoded without verifying)",
    rule="an access token lives no longer than the declared access TTL",
    severity=Severity.MEDIUM,
    references=("RFC 8725 §3.10", "RFC 9700 §4.14", "ASVS 3.5.2", "API2:2023"),
)
def access_ttl(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    claims = jwt.decode(tokens.access, options={"verify_signature": False})
    declared = ctx.profile.tokens.access_ttl
    exp, start = claims.get("exp"), claims.get("iat", claims.get("nbf"))
    if not isinstance(exp, (int, float)):
        raise CheckFailed("the issued access token has no numeric exp claim")
    if not isinstance(start, (int, float)):
        raise ControlFailed("the issued access token has neither iat nor nbf to measure its lifetime from")
    lifetime = int(exp - start)
    ctx.details["access_token_lifetime"] = lifetime
    ctx.expect(lifetime <= declared, f"an issued access token lives {lifetime} s (exp - iat), longer than the "
                                     f"declared access TTL of {declared} s")



# Uses of one access token within its TTL that TOK-ACCESS-REUSABLE makes.
REUSES = 3


@check(
    "TOK-ACCESS-REUSABLE",
    controls=("valid-token", "no-token"),  # liveness is the rule itself here
    title=f"use one fresh access token {REUSES} times in a row",
    rule="an access token is a bearer token for its whole TTL: it is accepted on every use until it expires "
         "or is revoked (tokens that die after one use break every client and make refusals meaningless)",
    severity=Severity.LOW,
    references=("RFC 6750 §1.2", "RFC 7519 §4.1.4"),
)
def access_reusable(ctx: CheckContext) -> None:
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    tokens = ctx.api.login(user)
    ctx.baseline(tokens, alive_after=False)  # the controls use the token once
    for use in range(2, REUSES + 2):
        response = ctx.api.me(tokens, note=f"use {use} of the same access token")
        if not ctx.accepted(response):
            ctx.decisive()
            ctx.expect(False, f"the access token was refused on use {use} within its TTL ({response.status}): "
                              "the target's access tokens seem single-use, a deviation from the contract")


@check(
    "TOK-REFRESH-FORM",
    controls=("valid-token", "no-token", "liveness"),
    title="log in and read the refresh token's claims (decoded without verifying)",
    rule="a refresh token that is a JWT carries type refresh, a jti of its own and lives no longer than the "
         "declared refresh TTL",
    severity=Severity.MEDIUM,
    references=("RFC 7519 §4.1.7", "RFC 8725 §3.11", "RFC 9700 §4.14", "ASVS 3.5.2", "API2:2023"),
    needs=("refresh",),
)
def refresh_form(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    ctx.control(bool(tokens.refresh), "the login answer carried no refresh token where the profile says it is")
    claims = _jwt_claims(tokens.refresh)
    if claims is None:
        raise NotApplicable("the refresh token is opaque (not a JWT), which the contract allows: it has no "
                            "claims to read")
    access_jti = (_jwt_claims(tokens.access) or {}).get("jti")
    declared = ctx.profile.tokens.refresh_ttl
    exp, start = claims.get("exp"), claims.get("iat", claims.get("nbf"))
    lifetime = int(exp - start) if isinstance(exp, (int, float)) and isinstance(start, (int, float)) else None
    ctx.details["refresh_token"] = {"type": claims.get("type"), "has_jti": bool(claims.get("jti")),
                                    "jti_shared_with_access": claims.get("jti") == access_jti,
                                    "lifetime": lifetime, "declared_refresh_ttl": declared}
    wrong: list[str] = []
    if claims.get("type") != "refresh":
        wrong.append(f"its type claim is {claims.get('type')!r}, not 'refresh'")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        wrong.append("it has no jti")
    elif jti == access_jti:
        wrong.append("its jti is the access token's, so it has no id of its own")
    if not isinstance(exp, (int, float)):
        wrong.append("it has no numeric exp claim")
    elif lifetime is None:
        wrong.append("it has neither iat nor nbf, so its lifetime cannot be measured")
    elif lifetime > declared:
        wrong.append(f"it lives {lifetime} s (exp - iat), longer than the declared refresh TTL of {declared} s")
    ctx.expect(not wrong, "the issued refresh token breaks the contract's form: " + "; ".join(wrong))


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWS compact token, or None when the token is not one (opaque)."""
    try:
        claims = split(token)[1]
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


# Members only a private or a symmetric JWK has: EC and OKP d (RFC 7518 §6.2.2, RFC 8037 §2), the
# RSA private members (RFC 7518 §6.3.2) and the octet key value k (RFC 7518 §6.4.1).
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@check(
    "TOK-JWKS-PUBLIC-ONLY",
    no_controls="it reads a published document: a JWKS answer that is not a key set ends it in error",
    title="fetch the JWKS and look in every key for private or symmetric key members",
    rule="the JWKS publishes public keys only: no private member (d, p, q, dp, dq, qi, oth) and no "
         "symmetric key (k), so an HS secret is never published",
    severity=Severity.CRITICAL,
    references=("RFC 7517 §5", "RFC 7518 §6.2.2", "RFC 7518 §6.3.2", "RFC 7518 §6.4.1", "RFC 8037 §2",
                "ASVS 6.4.1", "API8:2023"),
    needs=("jwks",),
)
def jwks_public_only(ctx: CheckContext) -> None:
    response = ctx.api.call("jwks", note="fetch the target's published keys")
    ctx.control(200 <= response.status < 300, f"the JWKS endpoint answered {response.status}")
    data = response.json()
    keys = data.get("keys") if isinstance(data, dict) else None
    ctx.control(isinstance(keys, list), "the JWKS answer is not a JSON object with a keys array (RFC 7517 §5)")
    assert isinstance(keys, list)
    leaks: list[str] = []
    leaked: list[str] = []
    for index, key in enumerate(keys, start=1):
        if not isinstance(key, dict):
            continue
        members = [member for member in PRIVATE_JWK_MEMBERS if member in key]
        label = f"key {index} (kty {key.get('kty')!r}" + (f", kid {key['kid']!r})" if key.get("kid") else ")")
        if members:
            leaks.append(f"{label} has {', '.join(members)}")
            leaked += [value if isinstance(value, str) else json.dumps(value) for value in
                       (key[member] for member in members)]
        elif key.get("kty") == "oct":
            leaks.append(f"{label} is a symmetric key")
    signing = ctx.minter.signing if ctx.minter is not None else None
    if signing is not None and signing.algorithm.upper().startswith("HS") and signing.key:
        raw = signing.key.encode()
        body = response.text
        if any(form in body for form in (signing.key, b64url(raw), raw.hex())):
            leaks.append("the answer contains the HMAC signing secret")
    ctx.details["keys_published"] = len(keys)
    if leaked:
        ctx.redact(*leaked)
    ctx.expect(not leaks, "the JWKS publishes secret key material: " + "; ".join(leaks))


# ------------------------------------------------------------------ every operation
def _operation_forgeries(ctx: CheckContext, tokens: Tokens, jku_url: str, jwks: list[dict[str, Any]]) -> dict[str, str]:
    """The TOK-* forgeries of ``tokens``' access token, one token each (a verifier that one blueprint
    of the service skips accepts all of them there)."""
    access = tokens.access
    claims = _fresh(ctx, split(access)[1])
    found: dict[str, str] = {f'alg "{spelling}"': forging.alg_none(access, spelling)
                             for spelling in forging.NONE_SPELLINGS}
    found["broken signature"] = forging.signature_broken(access)
    found["empty signature"] = forging.signature_null(access)
    found["attacker's key in a jwk header"] = headers.embedded_jwk(access, "rsa", claims=claims)
    payload = headers.KID_PAYLOADS[0]
    found[payload.label] = headers.kid_injection(access, payload.kid, payload.key, claims=claims)
    if jku_url:
        found["attacker's key set named by jku"] = headers.remote_key(access, "jku", jku_url, claims=claims)
    if jwks:
        encoding = confusion.encodings(jwks[0])[0]
        found[f"HS256 keyed with the public key ({encoding.label})"] = confusion.key_confusion(
            access, jwks[0], encoding, claims=claims)
    if ctx.minter is not None:
        leeway, ttl = _leeway(ctx), ctx.profile.tokens.access_ttl
        exp = _now(ctx, claims) - leeway - TIME_MARGIN
        extra = {"nbf": exp - ttl} if "nbf" in claims else {}
        found["expired"] = ctx.minter.mint(_fresh(ctx, claims, exp=exp, iat=exp - ttl, **extra))
        found["another audience"] = ctx.minter.mint(_fresh(ctx, claims, aud="attacker-api"))
    if tokens.refresh and ctx.profile.probes("refresh"):
        found["refresh token as access token"] = tokens.refresh
    ctx.redactor.add(*found.values())
    return found


def _public_rsa_keys(ctx: CheckContext) -> list[dict[str, Any]]:
    if not ctx.profile.offers("jwks"):
        return []
    response = ctx.api.call("jwks", note="fetch the target's public keys (for key confusion)")
    return confusion.rsa_jwks_keys(response.json()) if 200 <= response.status < 300 else []


def _session_lifetime(ctx: CheckContext) -> float | None:
    """How long a session of the suite's surely lasts on a target whose clock the suite cannot
    hold (None in process): the access TTL, and the absolute timeout where one is declared."""
    if ctx.target.clock is not None:
        return None
    lifetimes = [float(ctx.profile.tokens.access_ttl)]
    if ctx.profile.declares("absolute_timeout"):
        lifetimes.append(float(ctx.profile.sessions.absolute_timeout))
    return min(lifetimes)


@check(
    "TOK-FORGED-EVERY-OPERATION",
    controls=("valid-token", "no-token", "liveness"),
    title="send each forged token (alg none in four casings, broken and empty signature, jwk, jku and kid "
          "injection, key confusion, expired, another audience, refresh as access) once to every protected "
          "operation of the OpenAPI document, or of the profile's routes",
    rule="every protected operation verifies tokens: a forged, expired, foreign-audience or refresh token is "
         "refused on each of them, not only on the route the other token checks probe",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.1", "RFC 8725 §3.11", "RFC 7519 §7.2", "ASVS 3.5.3", "ASVS 4.1.1", "API2:2023",
                "API5:2023"),
)
def forged_every_operation(ctx: CheckContext) -> None:
    catalog = operations_catalog.catalog(ctx)
    protected = catalog.protected()
    if not protected:
        raise NotApplicable(f"{catalog.source} declares no protected operation")
    mutate = operations_catalog.mutation_allowed(ctx)
    judgeable = [op for op in protected if op.safe or mutate]
    chosen, sampled_out = operations_catalog.sample(judgeable, ctx.profile.limits.operations)
    role, tokens = top_session(ctx)
    if ctx.minter is not None:
        _checked_minter(ctx, tokens)
    jwks = _public_rsa_keys(ctx)
    not_judged: dict[str, str] = {op.label: "state-changing, and [safety] mutate is off"
                                  for op in protected if op not in judgeable}
    not_judged.update({op.label: f"left out of the sample of {len(chosen)}" for op in sampled_out})
    accepted: list[str] = []
    judged: list[str] = []
    with contextlib.ExitStack() as stack:
        jku_url = ""
        try:
            bind, public_url = _attacker_address(ctx)
            server = stack.enter_context(headers.attacker_documents(bind, public_url))
            jku_url = server.url(headers.JKU_PATH)
        except NotApplicable as exc:
            ctx.details["jku_not_sent"] = str(exc)
        forged = _operation_forgeries(ctx, tokens, jku_url, jwks)
        ctx.details["forgeries"] = list(forged)
        lifetime = _session_lifetime(ctx)
        logged_in = time.monotonic()
        for op in chosen:
            caller = tokens.user
            if lifetime is not None and caller is not None and time.monotonic() - logged_in > lifetime / 2:
                # Over HTTP the run through every operation may outlive the session (its absolute
                # timeout or the token's TTL): a fresh login, and forgeries of its token, before it does.
                tokens = login(ctx, caller)
                tokens.user = caller
                logged_in = time.monotonic()
                forged = _operation_forgeries(ctx, tokens, jku_url, jwks)
                ctx.live = [(tokens, "the check's valid access token (renewed before its session ended)")]
            request = catalog_request(ctx, op)
            anonymous = operations_catalog.send(ctx, request, None, f"{op.label} without a token (control)")
            if ctx.answer(anonymous) is not Answer.REFUSED:
                not_judged[op.label] = f"answered {anonymous.status} without a token (ROLE-MATRIX judges that)"
                continue
            own, variants = tokens, forged
            if op.ends_credential:  # its valid call ends the credential: a user of its own, called last
                user = own_user(ctx, role, tokens.user)
                if user is None:
                    not_judged[op.label] = ("it ends its caller's session or account, and the suite has no user "
                                            "of its own to spend (pre-provisioned accounts are never ended)")
                    continue
                own = login(ctx, user)
                variants = _operation_forgeries(ctx, own, jku_url, jwks)
            else:
                valid = operations_catalog.send(ctx, request, own.access, f"{op.label} with the valid token (control)")
                if ctx.answer(valid) in (Answer.REFUSED, Answer.RATE_LIMITED, Answer.CRASHED):
                    not_judged[op.label] = f"the valid {role}'s token answered {valid.status}"
                    continue
            taken: list[str] = []
            refusals: set[int] = set()
            for label, token in variants.items():
                response = operations_catalog.send(ctx, request, token, f"{op.label}, {label}")
                forging.note_recipe(ctx.evidence, token, ctx.redactor.text)
                kind = ctx.answer(response)
                if kind is Answer.REFUSED:
                    refusals.add(response.status)
                elif kind not in (Answer.RATE_LIMITED, Answer.CRASHED):
                    ctx.decisive()
                    taken.append(f"{label} ({response.status})")
            if op.ends_credential:
                valid = operations_catalog.send(ctx, request, own.access, f"{op.label} with the valid token (control)")
                # A valid token refused for another reason (403: a wrong current password in the body)
                # still tells the forgeries' refusals (401) apart as refusals of the token.
                kind = ctx.answer(valid)
                if not taken and (kind in (Answer.RATE_LIMITED, Answer.CRASHED)
                                  or (kind is Answer.REFUSED and valid.status in refusals)):
                    not_judged[op.label] = f"the valid {role}'s token answered {valid.status}"
                    continue
            judged.append(op.label)
            if taken:
                accepted.append(f"{op.label}: {', '.join(taken)}")
    ctx.details["operations"] = {"source": catalog.source, "judged": judged, "not_judged": not_judged,
                                 "requests_per_operation": 2 + len(forged)}
    ctx.expect(not accepted, "forged tokens were accepted by protected operations: " + "; ".join(accepted))
    if not judged:
        raise CannotJudge("no protected operation could be judged: " +
                          "; ".join(f"{label}: {why}" for label, why in list(not_judged.items())[:5]))
    ctx.cover(len(judged), len(protected), "protected operations",
              [f"{label} ({why})" for label, why in not_judged.items()])
