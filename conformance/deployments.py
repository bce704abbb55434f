"""Where checks run: the bundled reference in-process (fresh per check), or a URL."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.breaker import Breaker
from conformance.extras import require as require_extra
from conformance.leases import ClientAddresses
from conformance.minting import SigningKey
from conformance.profile import Profile, ProfileError
from conformance.registry import Check
from conformance.runner import Deployment, DeploymentSource
from conformance.targets.http import HttpTarget
from conformance.verdict import TargetUnreachable

if TYPE_CHECKING:
    from reference_impl.faults import Fault

# This module and conformance/targets/inprocess.py are the only ones that import reference_impl
# (conformance/devtools/layers.py enforces it): the rest of the suite asks them, so a run against a
# URL needs nothing of the reference.


def fault_catalog() -> tuple[Fault, ...]:
    """The reference's fault catalog, in catalog order."""
    from reference_impl.faults import CATALOG

    return CATALOG


def faults_by_name() -> Mapping[str, Fault]:
    from reference_impl.faults import BY_NAME

    return BY_NAME


def parse_faults(options: Iterable[str]) -> frozenset[str]:
    """Fault names from repeated ``--fault`` options (each may be a comma list); an unknown name is a
    ValueError that lists the known ones."""
    from reference_impl.faults import parse_fault_list

    return parse_fault_list(",".join(options))


def condition_catalog() -> tuple[Any, ...]:
    """The reference's conditions (reference_impl/conditions.py), in catalog order."""
    from reference_impl.conditions import CONDITIONS

    return CONDITIONS


def parse_conditions(options: Iterable[str]) -> frozenset[str]:
    """Condition names from repeated ``--condition`` options; an unknown name is a ValueError."""
    from reference_impl.conditions import parse_condition_list

    return parse_condition_list(",".join(options))


def reference_config_from_environment(environment: Mapping[str, str]) -> Any:
    """The reference's configuration as a served reference reads it from ``AUTHCONF_*`` variables; a
    bad value is a ValueError (the reference's ConfigError) saying which variable."""
    from reference_impl.config import Config

    return Config.from_env(environment)


def reference_config(faults: frozenset[str] = frozenset(), conditions: frozenset[str] = frozenset(),
                     **overrides: Any) -> Any:
    """The reference's test configuration with ``faults`` and ``conditions`` on, and what they need.

    Every in-process run of the reference starts here, so this is where a lean install (no
    ``[reference]`` extra) is told what to install."""
    require_extra("reference", "running the bundled reference (no --target, --fault, selftest, scenarios)")
    from reference_impl import Config
    from reference_impl.conditions import BY_NAME as CONDITIONS
    from reference_impl.faults import BY_NAME

    settings: dict[str, Any] = {}
    for name in sorted(faults):
        settings.update(BY_NAME[name].config)
    for name in sorted(conditions):
        settings.update(CONDITIONS[name].config)
    settings.update(overrides)
    return Config.for_tests(faults=frozenset(faults), conditions=frozenset(conditions), **settings)


def unknown_fault_error() -> type[Exception]:
    """What the reference raises for a fault name outside its catalog (the CLI's usage error)."""
    from reference_impl.faults import UnknownFault

    return UnknownFault


def profile_for_reference(base: Profile, config: Any) -> Profile:
    """The bundled profile, with every declared number taken from the reference's configuration."""
    return base.with_overrides(reference_overrides(base, config))


def reference_overrides(base: Profile, config: Any) -> dict[str, Any]:
    """The profile fields (dotted) that describe the reference running with ``config``."""
    capabilities = list(base.capabilities)
    overrides: dict[str, Any] = {
        "tokens.algorithm": config.jwt_algorithm,
        "tokens.issuer": config.issuer,
        "tokens.audience": config.audience,
        "tokens.access_ttl": config.access_ttl,
        "tokens.refresh_ttl": config.refresh_ttl,
        "tokens.leeway": config.leeway,
        "sessions.max_sessions": config.max_sessions,
        "sessions.idle_timeout": config.idle_timeout,
        "sessions.absolute_timeout": config.absolute_timeout,
        "rate_limits.api_limit": config.api_rate_limit,
        "rate_limits.api_window": config.api_rate_window,
        "rate_limits.login_account_limit": config.login_limit_account,
        "rate_limits.login_ip_limit": config.login_limit_ip,
        "rate_limits.login_window": config.login_rate_window,
        "rate_limits.trusted_proxies": config.trusted_proxies,
    }
    if config.cookie_mode:
        overrides["tokens.delivery"] = "cookie"
        if "cookies" not in capabilities:
            capabilities.append("cookies")
    if not config.allow_signup:
        capabilities = [c for c in capabilities if c != "signup"]
    overrides["capabilities"] = capabilities
    from reference_impl.conditions import BY_NAME as CONDITIONS

    for name in sorted(getattr(config, "conditions", ())):
        for hidden in CONDITIONS[name].hides:
            overrides.pop(hidden, None)
    return overrides


def in_process_source(base: Profile, config: Any) -> DeploymentSource:
    """A fresh in-process deployment of the reference for every check."""
    from conformance.targets.inprocess import InProcessTarget, signing_key_of

    profile = profile_for_reference(base, config)
    current: list[InProcessTarget] = []

    def deploy(_check: Check) -> Deployment:
        clock = None
        for old in current:
            clock = old.hand_over_clock()  # the next target runs on it, set back to the start
        current.clear()
        target = InProcessTarget(config, clock=clock)
        signing = signing_key_of(target.app)
        deployment = Deployment(target, profile, signing)
        deployment.redactor.add(signing.key, config.secret_key)
        current.append(target)
        return deployment

    def close() -> None:  # the last target's frozen clock must not outlive the run
        for old in current:
            old.close()
        current.clear()

    deploy.close = close  # type: ignore[attr-defined]
    return deploy


def signing_from_profile(profile: Profile) -> SigningKey | None:
    signing = profile.signing
    key = signing.key
    if signing.key_file:
        try:
            key = Path(signing.key_file).read_text()
        except OSError as exc:
            raise ProfileError(profile.source, "signing.key_file", f"cannot read it ({exc.strerror})",
                               "point it at a readable key file, or use signing.key") from None
    if not key:
        return None
    return SigningKey(signing.algorithm or profile.tokens.algorithm, key, signing.kid)


def http_deployment(profile: Profile) -> Deployment:
    """The deployment of a target described by ``profile``, not yet probed."""
    settings = profile.target
    if not settings.base_url:
        raise ProfileError(profile.source, "target.base_url", "no target URL",
                           "pass --target URL or set target.base_url")
    verify: bool | str = settings.ca_file or settings.verify_tls
    if settings.ca_file and not Path(settings.ca_file).is_file():
        raise ProfileError(profile.source, "target.ca_file", f"{settings.ca_file} is not a readable file",
                           "point it at the PEM file of the CA that signed the target's certificate")
    target = HttpTarget(settings.base_url, connect_timeout=settings.connect_timeout,
                        read_timeout=settings.read_timeout, verify=verify)
    signing = signing_from_profile(profile)
    loopback = (urlsplit(settings.base_url).hostname or "").startswith("127.")  # IPv4 loopback, by address
    addresses = ClientAddresses(settings.client_addresses == "loopback" and loopback)
    deployment = Deployment(target, profile, signing, addresses=addresses)
    if signing is not None:
        deployment.redactor.add(signing.key)
    for account in profile.users.accounts:
        deployment.redactor.add(account.password, account.totp_secret)
    return deployment


def http_source(profile: Profile) -> DeploymentSource:
    """One shared HTTP target for every check; checks isolate themselves with fresh users."""
    deployment = http_deployment(profile)
    settings = profile.target
    assert isinstance(deployment.target, HttpTarget)
    wait_until_ready(deployment.target, settings.ready_path, settings.ready_timeout)
    return SharedSource(deployment)


class SharedSource:
    """One shared HTTP deployment for every check (the runner may run checks side by side)."""

    concurrent = True

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def __call__(self, _check: Check) -> Deployment:
        return self.deployment


class GuardedSource:
    """``http_source`` behind the run's circuit breaker (``conformance/breaker.py``): a target
    that does not answer ends the run's checks with errors at once instead of raising."""

    concurrent = True  # one shared HTTP target: the runner may run checks side by side

    def __init__(self, deployment: Deployment, breaker: Breaker) -> None:
        self.deployment = deployment
        self.breaker = breaker

    def __call__(self, _check: Check) -> Deployment:
        return self.deployment


def guarded_http_source(profile: Profile) -> DeploymentSource:
    deployment = http_deployment(profile)
    assert isinstance(deployment.target, HttpTarget)
    breaker = Breaker(deployment.target, profile.target)
    breaker.preflight()
    return GuardedSource(deployment, breaker)


def wait_until_ready(target: HttpTarget, path: str, timeout: float) -> None:
    """Any HTTP answer means the target is up; give up after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            target.probe(path)
            return
        except TargetUnreachable as exc:
            last_error = str(exc)
        if time.monotonic() >= deadline:
            raise TargetUnreachable(f"{last_error} (waited {timeout:g} s for it to answer)")
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
