"""PyJWT with guards taken out again, for the token faults that need a bug PyJWT has since fixed.

Current PyJWT refuses an empty HMAC key and a PEM (public) key used as an HMAC secret, and it
refuses tokens with unknown ``crit`` parameters. Deployments on older or patched JOSE layers did
not, and those are the bugs some faults imitate. The ECDSA verifier that accepts r = s = 0
(CVE-2022-21449, Java's, not PyJWT's) is written here by hand.

Only a reference configured with one of :data:`FAULTY_JWS_FAULTS` uses this; the clean reference
uses ``jwt.decode`` itself.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, HMACAlgorithm
from jwt.utils import force_bytes

from reference_impl.config import Config

# The faults whose bug lives in the JOSE layer rather than in how the app calls it.
UNGUARDED_HMAC_FAULTS = frozenset({"blank-secret", "default-secret", "hs-rs-key-confusion", "kid-file-lookup",
                                   "kid-sql-lookup"})
FAULTY_JWS_FAULTS = UNGUARDED_HMAC_FAULTS | {"ignore-crit", "psychic-ecdsa"}
_HMAC_HASHES = {"HS256": HMACAlgorithm.SHA256, "HS384": HMACAlgorithm.SHA384, "HS512": HMACAlgorithm.SHA512}


class UnguardedHMAC(HMACAlgorithm):
    """HMAC that takes any bytes as its key, as PyJWT did before CVE-2017-11424: an empty key, a
    PEM public key (the key-confusion attack) and a short key all verify."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return force_bytes(key)

    def check_key_length(self, key: Any) -> str | None:
        return None  # no InsecureKeyLengthWarning: a short key is what these faults are about


def is_zero_signature(signature: bytes) -> bool:
    """r = s = 0 in any encoding a sloppy verifier reads: zero bytes of any length (raw r || s), or
    a DER SEQUENCE of two zero INTEGERs."""
    if signature and not any(signature):
        return True
    try:
        return decode_dss_signature(signature) == (0, 0)
    except ValueError:
        return False


class PsychicECDSA(ECAlgorithm):
    """ES256 whose verifier skips the range check on r and s, so r = s = 0 verifies any message
    (CVE-2022-21449)."""

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        return is_zero_signature(sig) or super().verify(msg, key, sig)


class FaultyJWS(jwt.PyJWS):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.ignore_crit = config.has_fault("ignore-crit")
        replacements: dict[str, Any] = {}
        if any(config.has_fault(name) for name in UNGUARDED_HMAC_FAULTS):
            replacements.update({name: UnguardedHMAC(digest) for name, digest in _HMAC_HASHES.items()})
        if config.has_fault("psychic-ecdsa"):
            replacements["ES256"] = PsychicECDSA(ECAlgorithm.SHA256, SECP256R1)
        for name, algorithm in replacements.items():
            self.unregister_algorithm(name)
            self.register_algorithm(name, algorithm)

    def _validate_crit(self, headers: dict[str, Any]) -> None:
        if not self.ignore_crit:
            super()._validate_crit(headers)


class FaultyJWT(jwt.PyJWT):
    """``decode`` and ``get_unverified_header`` on a :class:`FaultyJWS`."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        # PyJWT's own module-level decode is built the same way: a PyJWT over a given PyJWS.
        self._jws = FaultyJWS(config)

    def get_unverified_header(self, token: str) -> dict[str, Any]:
        return self._jws.get_unverified_header(token)
