"""Hypothesis settings for the property checks, chosen by ``AUTHCONF_HYPOTHESIS_PROFILE``.

``ci`` (the default) is small and derandomized, so a run is quick and repeatable; ``thorough``
draws many more examples from a fresh seed, which the check records so a failure can be replayed
(``AUTHCONF_HYPOTHESIS_SEED``). ``AUTHCONF_HYPOTHESIS_MAX_EXAMPLES`` overrides the number of
examples of either. ``authconform run`` sets them from --hypothesis-profile, --seed, --max-examples.
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, settings

from conformance.errors import UsageError

PROFILE_ENV = "AUTHCONF_HYPOTHESIS_PROFILE"
SEED_ENV = "AUTHCONF_HYPOTHESIS_SEED"
MAX_EXAMPLES_ENV = "AUTHCONF_HYPOTHESIS_MAX_EXAMPLES"
DEFAULT_PROFILE = "ci"

_QUIET_HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much,
                        HealthCheck.data_too_large]


def _profile(max_examples: int, derandomize: bool) -> settings:
    # No example database is written into the user's working directory; no blob is printed.
    return settings(max_examples=max_examples, derandomize=derandomize, deadline=None, database=None,
                    print_blob=False, suppress_health_check=_QUIET_HEALTH_CHECKS)


PROFILES: dict[str, settings] = {
    "ci": _profile(30, derandomize=True),
    "thorough": _profile(500, derandomize=False),
}
for _name, _settings in PROFILES.items():
    settings.register_profile(_name, _settings)


def active_name() -> str:
    name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    if name not in PROFILES:
        raise UsageError(f"{PROFILE_ENV}={name!r} is not a known hypothesis profile; use one of "
                         f"{', '.join(PROFILES)}")
    return name


def max_examples() -> int | None:
    """The number of examples the environment asks for instead of the profile's, or None."""
    text = os.environ.get(MAX_EXAMPLES_ENV, "")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{MAX_EXAMPLES_ENV}={text!r} is not a whole number of at least 1")
    return value


def active() -> settings:
    """The settings of the profile the environment selects (with its max_examples override)."""
    chosen = PROFILES[active_name()]
    wanted = max_examples()
    return chosen if wanted is None else settings(chosen, max_examples=wanted)


def seed() -> int | None:
    """The seed for a randomized profile (from the environment, else fresh); None when derandomized."""
    if active().derandomize:
        return None
    text = os.environ.get(SEED_ENV, "")
    if text:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{SEED_ENV}={text!r} is not an integer") from None
    # One fresh seed per process, kept where every later check reads it, so all the checks of a run
    # and its report name the same seed.
    fresh = random.SystemRandom().getrandbits(32)
    os.environ[SEED_ENV] = str(fresh)
    return fresh
