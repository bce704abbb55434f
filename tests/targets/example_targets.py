"""What the example-target tests share: a served target's description, and running the whole
suite against it the way a user would, with its profile."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from conformance import registry
from conformance.api import Principal
from conformance.context import CheckContext
from conformance.deployments import http_source
from conformance.profile import load
from conformance.registry import Check, Level, Severity
from conformance.runner import RunResult, run

READY_TIMEOUT = 30.0
# Notes accounts with 2FA on, enrolled before the MFA run: each login waits for a TOTP step its account
# has not used yet, so with more accounts the checks side by side wait less.
NOTES_MFA_ACCOUNT_COUNT = 4

REPO = Path(__file__).resolve().parent.parent.parent
PROFILES = REPO / "examples" / "profiles"


@dataclass
class Served:
    name: str
    url: str
    profile: Path
    environ: dict[str, str] = field(default_factory=dict)  # what the profile's ${VARS} read
    log: Path | None = None


def serve_process(name: str, command: list[str], env: dict[str, str], workdir: Path, ready_path: str,
           port: int) -> Iterator[Path]:
    """Start ``command``, wait until it answers HTTP on ``port``, stop it afterwards."""
    log_path = workdir / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}{ready_path}"
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {READY_TIMEOUT:g} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_suite(profile_path: Path | str, environ: dict[str, str], *, area: str = "", jobs: int | None = 1,
              **overrides: object) -> RunResult:
    """The whole suite (or one area) against the target; one check at a time unless ``jobs`` says otherwise."""
    profile = load(str(profile_path), environ=environ, overrides=dict(overrides))
    checks = [check for check in registry.all_checks() if not area or check.area == area]
    return run(checks, http_source(profile), profile=profile, target_name=profile.name, jobs=jobs)


def verdicts(result: RunResult) -> dict[str, str]:
    return {r.check_id: str(r.verdict) for r in result.results}


def _log_in_every_declared_account(ctx: CheckContext) -> None:
    for account in ctx.profile.users.accounts:
        if account.totp_secret:  # a second step only the MFA checks take
            continue
        principal = Principal(account.username, account.password, account.tenant, account.role)
        answer = ctx.api.login_response(principal, retry_limited=True)
        ctx.expect(ctx.api.logged_in(answer), f"declared account {account.username!r} no longer logs in with its "
                                              f"declared password ({answer.status})")


DECLARED_ACCOUNTS_LOG_IN = Check(
    id="TEST-DECLARED-ACCOUNTS-LOG-IN", area="credentials", title="log in with every declared account",
    rule="a run leaves the declared accounts as it found them", level=Level.MUST, severity=Severity.LOW,
    references=(), needs=frozenset(), body=_log_in_every_declared_account,
    no_controls="a login with each declared account is the whole check")


def declared_accounts_still_log_in(profile_path: Path | str, environ: dict[str, str]) -> str:
    """After a run: does every declared account log in with its declared password? ("" if so, else why not.)
    A check that changes an account's password must give it back: the next run logs in with it."""
    profile = load(str(profile_path), environ=environ)
    result = run([DECLARED_ACCOUNTS_LOG_IN], http_source(profile), profile=profile, target_name=profile.name,
                 jobs=1).results[0]
    return "" if str(result.verdict) == "pass" else f"{result.verdict}: {result.reason}"
