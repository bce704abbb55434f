"""What the pytest suite module needs: the profile and the deployments, built once per session."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from conformance.extras import MissingExtra
from conformance.profile import Account, Profile, load, parse_override


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
        # behind the circuit breaker, as under `authconform run`
        return guarded_http_source(worker_share(profile, os.environ))
    faults = parse_faults(config.getoption("authconform_fault") or [])
    try:
        return in_process_source(profile, reference_config(faults))
    except MissingExtra as exc:
        raise pytest.UsageError(f"{exc} (or pass --authconform-target URL)") from None


def worker_share(profile: Profile, environ: Mapping[str, str]) -> Profile:
    """Under pytest-xdist, this worker's share of the declared accounts. Each worker leases accounts from
    a pool of its own, and two workers must never use one account at once (one's logout-all or wrong
    password burst would land on the other's check): so each role's accounts (per tenant) are dealt
    out among the workers, and a check that needs more than its worker's share is not applicable
    with the advice to declare more. Without xdist, every account."""
    worker, count = environ.get("PYTEST_XDIST_WORKER", ""), environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker.removeprefix("gw").isdigit() or not count.isdigit() or int(count) < 2:
        return profile
    index, workers = int(worker.removeprefix("gw")), int(count)
    groups: dict[tuple[str, str, bool], list[Account]] = {}
    for account in profile.users.accounts:
        groups.setdefault((account.role, account.tenant, bool(account.totp_secret)), []).append(account)
    share = [account for group in groups.values() for account in group[index::workers]]
    if len(share) == len(profile.users.accounts):
        return profile
    return profile.model_copy(update={"users": profile.users.model_copy(update={"accounts": share})})
