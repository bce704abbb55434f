"""Token verification: ``jwt.decode`` (PyJWT) with the strict options, then the claims of our own.

PyJWT verifies the signature with exactly the configured algorithm, refuses unknown ``crit``
parameters, and checks ``exp``, ``nbf``, ``iat``, ``iss`` and ``aud`` and that the registered claims
are present. What is ours: the size limit, the ``kid`` (one of our keys or none), and the shape
of the application claims (type, user, tenant, session, role) and of the NumericDates, which PyJWT
reads with ``int()`` (so it would take ``"123"`` or ``true``).

The token faults of the catalog are the mistakes people make with PyJWT: ``algorithms`` taken from
the token header, ``verify_signature=False``, ``verify_aud`` off, a leeway in minutes, the key taken
from the token's own ``jwk`` or ``jku``. Where current PyJWT refuses to make the mistake (an empty
or PEM-shaped HMAC key, an ignored ``crit``), the fault runs on a PyJWT with that guard taken out
again (:mod:`reference_impl.faulty_pyjwt`); only alg "None" in another casing and the psychic ECDSA
signature are written by hand, as no PyJWT ever had them.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
from jwt.types import Options

from reference_impl.config import Config
from reference_impl.faulty_pyjwt import FAULTY_JWS_FAULTS, FaultyJWT
from reference_impl.keys import KeySet
from reference_impl.services import ProcessLocal

MAX_TOKEN_LENGTH = 8192
MAX_CLAIM_LENGTH = 256
# The registered claims PyJWT is told to require; the application claims are checked here.
REGISTERED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "jti"]
APPLICATION_CLAIMS = ("sub", "type", "tid", "sid")
STRING_CLAIMS = ("jti", "sub", "type", "tid", "sid", "role")
TIME_CLAIMS = ("exp", "nbf", "iat")
MAX_TIMESTAMP = 2**40
# Every verification PyJWT has, on, and explicitly so: a missing option would fall back to
# PyJWT's defaults, which switch claim checks off whenever verify_signature is off.
# The minimum key length is left to start-up (config.validate refuses short and well-known
# secrets, except in debug, where a short one is the developer's choice).
STRICT_OPTIONS: Options = {
    "verify_signature": True, "verify_exp": True, "verify_nbf": True, "verify_iat": True,
    "verify_aud": True, "verify_iss": True, "verify_sub": True, "verify_jti": True,
    "require": REGISTERED_CLAIMS,
}
# Faults only: where a kid-as-file-path is resolved from, the lenient leeway, the jku fetch limit.
KID_FILE_BASE = "/var/lib/authconform/keys"
FAULT_LEEWAY = timedelta(minutes=5)
JKU_TIMEOUT = 2.0


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (logged, not echoed in detail)."""


def _is_timestamp(value: Any) -> bool:
    """A JSON number within range: PyJWT's ``int()`` would also take a string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -MAX_TIMESTAMP < value < MAX_TIMESTAMP


class TokenVerifier:
    def __init__(self, config: Config, keys: KeySet, local: ProcessLocal) -> None:
        self.config = config
        self.keys = keys
        self.local = local
        self._unverified_header: Callable[[str], dict[str, Any]] = jwt.get_unverified_header
        self._decode: Callable[..., dict[str, Any]] = jwt.decode
        if any(config.has_fault(name) for name in FAULTY_JWS_FAULTS):
            faulty = FaultyJWT(config)
            self._unverified_header, self._decode = faulty.get_unverified_header, faulty.decode

    def verify(self, token: str, expected_type: str) -> dict[str, Any]:
        """The verified claims, or InvalidToken."""
        if self.config.has_fault("crash-on-malformed-token"):
            # The bug: the header decoded without any error handling before verification.
            json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")).get("alg")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise InvalidToken("not a compact JWS")
        try:
            claims = self._decode_with_pyjwt(token)
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
            # PyJWTError covers the token's faults; the others are a malformed key from a token
            # header (the key-choosing faults), never a reason to answer 500.
            raise InvalidToken(str(exc) or type(exc).__name__) from None
        self._check_claims(claims, expected_type)
        return claims

    # ------------------------------------------------------------------ PyJWT
    def _decode_with_pyjwt(self, token: str) -> dict[str, Any]:
        config, has = self.config, self.config.has_fault
        header = self._unverified_header(token)
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise InvalidToken("no alg")
        key: Any = self.keys.verification_key
        algorithms: list[str] | None = [config.jwt_algorithm]
        options: Options = {**STRICT_OPTIONS}
        kid = header.get("kid")
        if has("skip-signature-check") or self._honours_unsigned(alg, token):
            options["verify_signature"] = False  # the claims are still verified: STRICT_OPTIONS says so
        elif has("trust-embedded-jwk") and isinstance(header.get("jwk"), dict):
            # jwt.decode(token, PyJWK(header["jwk"])): the token brings its own key and algorithm.
            key, algorithms = jwt.PyJWK(header["jwk"]), None
        elif has("fetch-jku") and ("jku" in header or "x5u" in header):
            url = header.get("jku") or header.get("x5u")
            if not isinstance(url, str):
                raise InvalidToken("jku is not a URL")
            key, algorithms = jwt.PyJWKClient(url, timeout=JKU_TIMEOUT).get_signing_key_from_jwt(token), None
        elif kid is not None and has("kid-file-lookup"):
            key, algorithms = self._kid_file_key(kid), ["HS256"]
        elif kid is not None and has("kid-sql-lookup"):
            key, algorithms = self._kid_sql_key(kid), ["HS256"]
        elif has("hs-rs-key-confusion"):
            # jwt.decode(token, public_pem, algorithms=[header["alg"]]): an HS256 token is then
            # checked with the public key as its HMAC secret.
            key, algorithms = self.keys.public_pem, [alg]
        elif kid is not None and kid not in self.keys.kids:
            raise InvalidToken("kid is not one of our keys")
        if has("ignore-exp"):
            options["verify_exp"] = False
        if has("ignore-nbf"):
            options["verify_nbf"] = False
        if has("accept-future-iat"):
            options["verify_iat"] = False
        if has("ignore-iss"):
            options["verify_iss"] = False
        if has("ignore-aud"):
            options["verify_aud"] = False
        if has("optional-claims"):
            options["require"] = []  # PyJWT's default: exp, nbf, iat and jti may be left out
        leeway: float | timedelta = FAULT_LEEWAY if has("leeway-minutes") else config.leeway
        return self._decode(token, key, algorithms=algorithms, options=options,
                            audience=config.audience, issuer=config.issuer, leeway=leeway)

    def _honours_unsigned(self, alg: str, token: str) -> bool:
        """Faults accept-alg-none(-casing): an unsigned token taken as valid. PyJWT cannot be made to
        do it (its "none" never verifies), so this is the app's own code: the first fault skips
        verification when the header says exactly "none", the second compares case-insensitively."""
        if not token.endswith("."):
            return False  # a signature is there: the faults only skip verifying an absent one
        if self.config.has_fault("accept-alg-none-casing"):
            return alg.lower() == "none"
        return self.config.has_fault("accept-alg-none") and alg == "none"

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

    # ------------------------------------------------------------------ our claims
    def _check_claims(self, claims: dict[str, Any], expected_type: str) -> None:
        missing = [name for name in APPLICATION_CLAIMS if name not in claims]
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
        for name in TIME_CLAIMS:
            if name in claims and not _is_timestamp(claims[name]):
                raise InvalidToken(f"claim {name} is not a NumericDate")
        token_type = claims["type"]
        if token_type != expected_type:
            lenient = (expected_type == "access" and self.config.has_fault("refresh-as-access")) or (
                expected_type == "refresh" and self.config.has_fault("access-as-refresh"))
            if not lenient:
                raise InvalidToken(f"a {token_type} token where a {expected_type} token is needed")
