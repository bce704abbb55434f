"""Password hashing with argon2id, and the dummy hash that makes an unknown user cost the same time."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128
# "fast" keeps tests quick; it is still argon2id, just cheap.
FAST_TIME_COST, FAST_MEMORY_COST, FAST_PARALLELISM = 1, 1024, 1


class Passwords:
    def __init__(self, preset: str) -> None:
        self.hasher = (
            PasswordHasher(time_cost=FAST_TIME_COST, memory_cost=FAST_MEMORY_COST, parallelism=FAST_PARALLELISM,
                           type=Type.ID)
            if preset == "fast" else PasswordHasher(type=Type.ID))
        # Verified against when the user does not exist, so both paths run one argon2 verify.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Constant-work check: with no stored hash the dummy one is verified and False returned."""
        try:
            ok = self.hasher.verify(stored_hash or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None


def length_problem(password: object) -> str | None:
    if not isinstance(password, str):
        return "password must be a string"
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"password must be {MIN_LENGTH}-{MAX_LENGTH} characters"
    return None
