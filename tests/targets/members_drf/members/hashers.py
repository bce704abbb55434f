"""PBKDF2 with a work factor from the environment (the suite logs in hundreds of times)."""

import os

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class TunedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = int(os.environ.get("MEMBERS_PBKDF2_ITERATIONS", PBKDF2PasswordHasher.iterations))
