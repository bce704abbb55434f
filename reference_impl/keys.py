"""Signing keys: the HS256 secret, or an RSA / EC P-256 / Ed25519 key pair, and the JWKS.

The server's key set is exactly one key. Its ``kid`` is the RFC 7638 thumbprint of the public
key (asymmetric) so every worker and every restart with the same key agrees on it; HS256 tokens
carry no kid and the JWKS is empty (a shared secret is never published).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import Algorithm, get_default_algorithms

from reference_impl.config import ASYMMETRIC, Config, ConfigError

_ALGORITHMS: dict[str, Algorithm] = get_default_algorithms()
# RFC 7638 §3.2: the members of the thumbprint input per key type.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def algorithm(name: str) -> Algorithm:
    return _ALGORITHMS[name]


def generate_private_key_pem(alg: str) -> str:
    key: Any
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ConfigError(f"no key pair for algorithm {alg}")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    members = {k: jwk[k] for k in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class KeySet:
    """The one key this server signs and verifies with."""

    algorithm: str
    kid: str  # "" for HS256
    signing_key: Any  # bytes (HS) or a private key object
    verification_key: Any  # bytes (HS) or a public key object
    minting_key: str  # what a tester signs with: the HS secret, or the private key PEM
    public_pem: bytes  # b"" for HS256
    public_jwk: dict[str, Any] | None

    @property
    def kids(self) -> frozenset[str]:
        return frozenset({self.kid}) if self.kid else frozenset()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk] if self.public_jwk else []}

    def leaky_jwks(self) -> dict[str, Any]:
        """Faults jwks-publishes-secret and jwks-leaks-private: the key set serialised from the
        signing key itself, so the HMAC secret (``k``) or the private members (``d``, ``p``, ...)
        are published."""
        if self.public_jwk is None:
            return {"keys": [{"kty": "oct", "k": b64url(self.signing_key), "alg": self.algorithm, "use": "sig"}]}
        private: dict[str, Any] = json.loads(algorithm(self.algorithm).to_jwk(self.signing_key))
        return {"keys": [{**private, "kid": self.kid, "alg": self.algorithm, "use": "sig"}]}

    def sign(self, signing_input: bytes) -> bytes:
        if self.algorithm == "HS256":
            # Direct HMAC: PyJWT refuses an empty key, which the blank-secret fault needs.
            return hmac.new(self.signing_key, signing_input, hashlib.sha256).digest()
        return algorithm(self.algorithm).sign(signing_input, self.signing_key)

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        if self.algorithm == "HS256":
            expected = hmac.new(self.verification_key, signing_input, hashlib.sha256).digest()
            return hmac.compare_digest(expected, signature)
        return bool(algorithm(self.algorithm).verify(signing_input, self.verification_key, signature))


def load_keys(config: Config) -> KeySet:
    alg = config.jwt_algorithm
    if alg not in ASYMMETRIC:
        secret = config.signing_secret
        return KeySet(alg, "", secret.encode(), secret.encode(), secret, b"", None)
    pem = config.private_key_pem or generate_private_key_pem(alg)
    try:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"AUTHCONF_PRIVATE_KEY_FILE does not hold an unencrypted PEM private key ({exc})") \
            from None
    expected = {"RS256": rsa.RSAPrivateKey, "ES256": ec.EllipticCurvePrivateKey,
                "EdDSA": ed25519.Ed25519PrivateKey}[alg]
    if not isinstance(private, expected):
        raise ConfigError(f"AUTHCONF_PRIVATE_KEY_FILE holds a {type(private).__name__}, which cannot sign "
                          f"{alg}; give a matching key or change AUTHCONF_JWT_ALGORITHM")
    if isinstance(private, ec.EllipticCurvePrivateKey) and not isinstance(private.curve, ec.SECP256R1):
        raise ConfigError("ES256 needs a P-256 (secp256r1) key in AUTHCONF_PRIVATE_KEY_FILE")
    public = private.public_key()
    jwk: dict[str, Any] = json.loads(algorithm(alg).to_jwk(public))
    jwk = {k: v for k, v in jwk.items() if k not in ("key_ops", "kid", "alg", "use")}
    kid = thumbprint(jwk)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeySet(alg, kid, private, public, pem, public_pem, jwk)


def signing_material(app: Any) -> KeySet:
    """The app's key set: ``algorithm``, ``minting_key`` (HS secret or private PEM) and ``kid``."""
    keys: KeySet = app.extensions["authconform"].keys
    return keys
