"""Token verification: parse strictly, check ``crit``, choose the key from our own key set only,
verify with exactly the configured algorithm, then validate every required claim.

Parsing and signature checks are done here rather than by ``jwt.decode`` so that each step is
visible (and so the token faults of the catalog each live at the one line they would break).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from reference_impl.config import Config
from reference_impl.keys import KeySet, algorithm
from reference_impl.services import ProcessLocal

MAX_TOKEN_LENGTH = 8192
MAX_CLAIM_LENGTH = 256
# Header parameters this verifier understands, for the RFC 7515 §4.1.11 crit check: none.
UNDERSTOOD_CRIT: frozenset[str] = frozenset()
REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "jti", "sub", "type", "tid", "sid")
STRING_CLAIMS = ("jti", "sub", "type", "tid", "sid", "role")
TIME_CLAIMS = ("exp", "nbf", "iat")
MAX_TIMESTAMP = 2**40
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
# Faults only: where a kid-as-file-path is resolved from, and the lenient leeway.
KID_FILE_BASE = "/var/lib/authconform/keys"
FAULT_LEEWAY = 300
JKU_TIMEOUT = 2.0


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (logged, not echoed in detail)."""


@dataclass(frozen=True)
class ParsedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64decode(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("a segment is not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("a segment is not base64url") from None


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidToken(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the {what} is not a JSON object")
    return value


def parse(token: object) -> ParsedToken:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken("not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise InvalidToken("not three segments")
    header = _json_object(_b64decode(parts[0]), "header")
    claims = _json_object(_b64decode(parts[1]), "payload")
    signature = _b64decode(parts[2])
    return ParsedToken(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def _timestamp(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not -MAX_TIMESTAMP < value < MAX_TIMESTAMP:
        return None
    return float(value)


class TokenVerifier:
    def __init__(self, config: Config, keys: KeySet, local: ProcessLocal) -> None:
        self.config = config
        self.keys = keys
        self.local = local

    def verify(self, token: str, expected_type: str) -> dict[str, Any]:
        """The verified claims, or InvalidToken."""
        if self.config.has_fault("crash-on-malformed-token"):
            # The bug: the header decoded without any error handling before verification.
            json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")).get("alg")
        parsed = parse(token)
        self._check_crit(parsed.header)
        self._check_signature(parsed)
        self._check_claims(parsed.claims, expected_type)
        return parsed.claims

    # ------------------------------------------------------------------ header
    def _check_crit(self, header: dict[str, Any]) -> None:
        if "crit" not in header or self.config.has_fault("ignore-crit"):
            return
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(name, str) for name in crit):
            raise InvalidToken("malformed crit header")
        unknown = [name for name in crit if name not in UNDERSTOOD_CRIT]
        if unknown:
            raise InvalidToken(f"critical header parameters not understood: {', '.join(unknown)}")

    # ------------------------------------------------------------------ signature
    def _check_signature(self, token: ParsedToken) -> None:
        config, header = self.config, token.header
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise InvalidToken("no alg")
        if config.has_fault("skip-signature-check"):
            return  # jwt.decode(token, options={"verify_signature": False})
        if alg.lower() == "none" and not token.signature and (
                config.has_fault("accept-alg-none-casing")
                or (config.has_fault("accept-alg-none") and alg == "none")):
            return  # a blocklist of the exact string "none" (or none at all)
        if config.has_fault("trust-embedded-jwk") and "jwk" in header:
            self._verify_with_foreign_jwks({"keys": [header["jwk"]]}, token)
            return
        if config.has_fault("fetch-jku") and ("jku" in header or "x5u" in header):
            self._verify_with_foreign_jwks(self._fetch_jwks(header.get("jku") or header.get("x5u")), token)
            return
        kid = header.get("kid")
        if kid is not None:
            if config.has_fault("kid-file-lookup"):
                self._verify_hmac(self._kid_file_key(kid), token)
                return
            if config.has_fault("kid-sql-lookup"):
                self._verify_hmac(self._kid_sql_key(kid), token)
                return
            if not isinstance(kid, str) or kid not in self.keys.kids:
                raise InvalidToken("kid is not one of our keys")
        if config.has_fault("hs-rs-key-confusion") and alg == "HS256" and config.jwt_algorithm == "RS256":
            # The algorithm taken from the header, and the "key" (the RSA public PEM) used as HMAC secret.
            self._verify_hmac(self.keys.public_pem, token)
            return
        if (config.has_fault("psychic-ecdsa") and alg == "ES256" and config.jwt_algorithm == "ES256"
                and token.signature == bytes(64)):
            return  # CVE-2022-21449: r = s = 0 passes the verification equation
        if alg != config.jwt_algorithm:
            raise InvalidToken(f"algorithm {alg!r} is not the configured one")
        try:
            ok = self.keys.verify(token.signing_input, token.signature)
        except Exception:  # a malformed signature for the algorithm (e.g. wrong length)
            ok = False
        if not ok:
            raise InvalidToken("bad signature")

    def _verify_hmac(self, key: bytes, token: ParsedToken) -> None:
        if token.header.get("alg") != "HS256":
            raise InvalidToken("not HS256")
        expected = hmac.new(key, token.signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, token.signature):
            raise InvalidToken("bad signature")

    def _verify_with_foreign_jwks(self, jwks: Any, token: ParsedToken) -> None:
        """Faults only: verify with a key the token itself pointed at."""
        from jwt import PyJWK

        alg = token.header.get("alg")
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidToken("no usable key set")
        kid = token.header.get("kid")
        candidates = [k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") in (None, kid))]
        for candidate in candidates:
            try:
                key = PyJWK(candidate, algorithm=alg)
                if key.algorithm_name == "HS256" or alg.startswith("HS"):
                    secret = key.key if isinstance(key.key, bytes) else bytes(key.key)
                    if hmac.compare_digest(hmac.new(secret, token.signing_input, hashlib.sha256).digest(),
                                           token.signature):
                        return
                elif algorithm(alg).verify(token.signing_input, key.key, token.signature):
                    return
            except Exception:  # any unusable key in a foreign set is skipped
                continue
        raise InvalidToken("no key of the referenced set verifies the token")

    def _fetch_jwks(self, url: Any) -> Any:
        import requests

        if not isinstance(url, str):
            raise InvalidToken("jku is not a URL")
        try:
            answer = requests.get(url, timeout=JKU_TIMEOUT, allow_redirects=False)
            return answer.json()
        except (requests.RequestException, ValueError):
            raise InvalidToken("the jku could not be fetched") from None

    def _kid_file_key(self, kid: Any) -> bytes:
        if not isinstance(kid, str):
            raise InvalidToken("kid is not a string")
        path = os.path.normpath(os.path.join(KID_FILE_BASE, kid))
        try:
            with open(path, "rb") as handle:
                return handle.read(65536)
        except (OSError, ValueError):
            raise InvalidToken("no key file for this kid") from None

    def _kid_sql_key(self, kid: Any) -> bytes:
        if not isinstance(kid, str):
            raise InvalidToken("kid is not a string")
        with self.local.lock:
            if self.local.kid_db is None:
                connection = sqlite3.connect(":memory:", check_same_thread=False)
                connection.execute("CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, key TEXT)")
                connection.execute("INSERT INTO signing_keys VALUES ('primary', ?)", (self.config.signing_secret,))
                self.local.kid_db = connection
            try:
                row = self.local.kid_db.execute(f"SELECT key FROM signing_keys WHERE kid = '{kid}'").fetchone()
            except (sqlite3.Error, ValueError):
                raise InvalidToken("kid lookup failed") from None
        if row is None or row[0] is None:
            raise InvalidToken("unknown kid")
        return str(row[0]).encode()

    # ------------------------------------------------------------------ claims
    def _check_claims(self, claims: dict[str, Any], expected_type: str) -> None:
        config = self.config
        optional = {"exp", "iss", "aud", "jti"} if config.has_fault("optional-claims") else set()
        missing = [name for name in REQUIRED_CLAIMS if name not in claims and name not in optional]
        if claims.get("type") == "access" and "role" not in claims:
            missing.append("role")
        if missing:
            raise InvalidToken(f"required claims missing: {', '.join(missing)}")
        for name in STRING_CLAIMS:
            value = claims.get(name, "")
            if not isinstance(value, str) or len(value) > MAX_CLAIM_LENGTH or (name in claims and not value):
                raise InvalidToken(f"claim {name} is not a short non-empty string")
        if not claims["sub"].isdigit() or len(claims["sub"]) > 18:
            raise InvalidToken("sub is not a user id")
        times = {}
        for name in TIME_CLAIMS:
            if name in claims:
                value = _timestamp(claims[name])
                if value is None:
                    raise InvalidToken(f"claim {name} is not a NumericDate")
                times[name] = value
        now = time.time()
        leeway = FAULT_LEEWAY if config.has_fault("leeway-minutes") else config.leeway
        if "exp" in times and not config.has_fault("ignore-exp") and times["exp"] <= now - leeway:
            raise InvalidToken("expired")
        if not config.has_fault("ignore-nbf") and times["nbf"] > now + leeway:
            raise InvalidToken("not valid yet (nbf)")
        if not config.has_fault("accept-future-iat") and times["iat"] > now + leeway:
            raise InvalidToken("issued in the future (iat)")
        if "iss" in claims and not config.has_fault("ignore-iss") and claims["iss"] != config.issuer:
            raise InvalidToken("wrong issuer")
        if "aud" in claims and not config.has_fault("ignore-aud"):
            aud = claims["aud"]
            audiences = aud if isinstance(aud, list) else [aud]
            if config.audience not in [a for a in audiences if isinstance(a, str)]:
                raise InvalidToken("wrong audience")
        token_type = claims["type"]
        if token_type != expected_type:
            lenient = (expected_type == "access" and config.has_fault("refresh-as-access")) or (
                expected_type == "refresh" and config.has_fault("access-as-refresh"))
            if not lenient:
                raise InvalidToken(f"a {token_type} token where a {expected_type} token is needed")
