"""The settings of one load run: the profile's ``[load]`` section, overridden by command-line
options, checked before anything starts. Every refusal names the field or option and the fix."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conformance.errors import UsageError
from conformance.profile import Profile, ProfileError, load

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "load"
LOCUST_MASTER_PORT = 5557  # locust's own default, which workers on other machines assume
SCENARIOS: dict[str, str] = {
    "login_storm": "many users logging in, with wrong passwords and unknown users, against the login limits",
    "refresh_churn": "refresh rotation under concurrency: every refresh token used once, reuse refused",
    "rate_limit_probe": "users hammering an authenticated route: admitted per user per window vs the limit",
    "revocation_race": "logout while other users keep using the same token: nothing succeeds after it",
    "mixed": "a realistic mix of reads, writes, refreshes and logouts",
}
# What each profile needs the target to declare.
NEEDS: dict[str, tuple[str, ...]] = {
    "login_storm": ("rate_limit_login",),
    "refresh_churn": ("refresh",),
    "rate_limit_probe": ("rate_limit_api",),
    "revocation_race": ("logout",),
    "mixed": ("refresh", "logout"),
}
_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*$")


class LoadUsageError(UsageError):
    """A bad option or setting of a load run; the message names it and the fix."""


@dataclass(frozen=True)
class LoadSettings:
    scenario: str
    users: int
    spawn_rate: float
    run_time: int
    workers: int

    @property
    def locustfile(self) -> Path:
        return SCENARIO_DIR / f"{self.scenario}.py"

    @property
    def processes(self) -> int:
        """Processes that generate load: the workers, or the one local process."""
        return max(1, self.workers)


def parse_duration(text: str, option: str = "--run-time") -> int:
    """``90``, ``90s``, ``2m``, ``1m30s``, ``1h`` -> seconds."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise LoadUsageError(f"{option} {text!r} is not a duration; write seconds (30, 30s) or 2m, 1m30s")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def check_profile(profile: Profile) -> None:
    """Range checks of the [load] section (types were checked when the profile was read)."""
    load, src = profile.load, profile.source
    positive = {"users": load.users, "spawn_rate": load.spawn_rate, "run_time": load.run_time,
                "max_run_time": load.max_run_time, "max_requests": load.max_requests,
                "users_per_account": load.users_per_account}
    for name, value in positive.items():
        if value <= 0:
            raise ProfileError(src, f"load.{name}", f"must be positive, not {value}", "declare a value above 0")
    for name in ("workers", "max_over_admission", "max_5xx"):
        if getattr(load, name) < 0:
            raise ProfileError(src, f"load.{name}", "must be 0 or more", "declare 0 or a positive number")
    for name in ("wrong_password_ratio", "unknown_user_ratio", "max_error_ratio"):
        if not 0.0 <= getattr(load, name) <= 1.0:
            raise ProfileError(src, f"load.{name}", f"{getattr(load, name)} is not a share between 0 and 1",
                               "write a number from 0.0 to 1.0")
    if load.wrong_password_ratio + load.unknown_user_ratio > 1.0:
        raise ProfileError(src, "load.unknown_user_ratio", "wrong_password_ratio + unknown_user_ratio exceed 1",
                           "make the two shares add up to at most 1.0")
    if load.max_p95_ms <= 0:
        raise ProfileError(src, "load.max_p95_ms", "must be positive", "declare a latency in milliseconds")
    if load.route not in profile.operations or "{" in profile.operations[load.route].path:
        usable = sorted(name for name, op in profile.operations.items() if "{" not in op.path)
        raise ProfileError(src, "load.route", f"{load.route!r} is not an operation without ids",
                           "name one of: " + ", ".join(usable))


def resolve(profile: Profile, scenario: str, *, users: int | None, spawn_rate: float | None,
            run_time: str | None, workers: int | None) -> LoadSettings:
    """The run's settings: command-line options over the profile's [load] section, all checked."""
    if scenario not in SCENARIOS:
        raise LoadUsageError(f"unknown load profile {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    check_profile(profile)
    load = profile.load
    missing = [c for c in NEEDS[scenario] if not profile.declares(c)]
    if missing:
        raise ProfileError(profile.source, "capabilities", f"{scenario} needs {', '.join(missing)}, which the "
                           "profile does not declare", f"add {', '.join(missing)} to capabilities if the target "
                           "has it, or choose another load profile")
    chosen = LoadSettings(
        scenario=scenario,
        users=load.users if users is None else users,
        spawn_rate=load.spawn_rate if spawn_rate is None else spawn_rate,
        run_time=load.run_time if run_time is None else parse_duration(run_time),
        workers=load.workers if workers is None else workers,
    )
    if chosen.users <= 0:
        raise LoadUsageError(f"--users {chosen.users}: give at least 1 simulated user")
    if chosen.spawn_rate <= 0:
        raise LoadUsageError(f"--spawn-rate {chosen.spawn_rate:g}: give a positive rate (users per second)")
    if chosen.workers < 0:
        raise LoadUsageError(f"--workers {chosen.workers}: give 0 (one local process) or more worker processes")
    if not 0 < chosen.run_time <= load.max_run_time:
        raise LoadUsageError(f"--run-time {chosen.run_time} s is outside 1..{load.max_run_time} s; a load run is "
                             "always bounded: shorten it, or raise load.max_run_time in the profile")
    return chosen


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, declared: str) -> None:
    """Load goes to loopback, or to the one target the profile file itself declares (``declared``,
    read before any ``--set``); nowhere else."""
    if not re.match(r"^https?://[^/\s]+", url):
        raise LoadUsageError(f"target {url!r} is not an http(s) URL; write it like http://127.0.0.1:8000")
    if is_loopback(url):
        return
    if declared and url.rstrip("/") == declared.rstrip("/"):
        return
    raise LoadUsageError(
        f"refusing to send load to {url}: only loopback addresses (127.0.0.1, ::1, localhost) or the target the "
        f"profile file itself declares (target.base_url = {declared or 'none'}) take load; write the URL into "
        "the profile's [target] base_url if this target is yours to load")


def profile_from_options(path: str, overrides_json: str) -> Profile:
    """The profile a locust process runs with: the file (empty: the bundled one) and the JSON object of
    overrides that ``authconform load`` passes (``--authconform-profile``, ``--authconform-overrides``)."""
    try:
        overrides = json.loads(overrides_json or "{}")
    except json.JSONDecodeError as exc:
        raise ProfileError("--authconform-overrides", "", f"not JSON ({exc.msg})",
                           'write a JSON object like {"rate_limits.api_limit": 20}') from None
    if not isinstance(overrides, dict):
        raise ProfileError("--authconform-overrides", "", "not a JSON object", 'write {"field": value, ...}')
    return load(path or None, overrides=overrides)


def processes_text(workers: int, remote: int) -> str:
    """How the load is generated, in words."""
    if not workers and not remote:
        return "one locust process"
    parts = [f"{workers} local"] if workers else []
    parts += [f"{remote} remote"] if remote else []
    return "a locust master with " + " + ".join(parts) + " worker processes"
