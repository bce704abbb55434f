"""What the pytest suite module needs: the profile and the deployments, built once per session."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.extras import MissingExtra
from conformance.profile import Profile, load, parse_override


def suite_profile(config: pytest.Config) -> Profile:
    overrides = dict(parse_override(item) for item in config.getoption("authconform_set") or [])
    target = config.getoption("authconform_target")
    if target:
        overrides["target.base_url"] = target
    from conformance.attacks.wordlists import with_wordlists

    profile = load(config.getoption("authconform_profile"), overrides=overrides)
    return with_wordlists(profile, config.getoption("authconform_wordlist") or [])


def suite_source(config: pytest.Config) -> Any:
    from conformance.deployments import guarded_http_source, in_process_source, parse_faults, reference_config

    profile = suite_profile(config)
    if config.getoption("authconform_target") or config.getoption("authconform_profile"):
        return guarded_http_source(profile)  # behind the circuit breaker, as under `authconform run`
    faults = parse_faults(config.getoption("authconform_fault") or [])
    try:
        return in_process_source(profile, reference_config(faults))
    except MissingExtra as exc:
        raise pytest.UsageError(f"{exc} (or pass --authconform-target URL)") from None
