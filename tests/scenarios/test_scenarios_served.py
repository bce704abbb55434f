"""The scenarios over HTTP, against the reference served by gunicorn (marker ``served``).

Real waiting is switched off (``target.max_wait = 0``), so stories that need time to pass are
not applicable here, with their reason; every other story must pass exactly as in-process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.deployments import http_source
from conformance.profile import load
from conformance.served import free_port
from conformance.verdict import Verdict
from scenarios.catalog import all_scenarios
from scenarios.runner import run_scenario, scenario_check

pytestmark = pytest.mark.served

# Every story logs in a few times from this one client; the per-IP login limit is raised (and
# declared in the profile) so that stories do not lock each other out.
LOGIN_IP_LIMIT = 500


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {**os.environ, "AUTHCONF_SECRET_KEY": secrets.token_urlsafe(48), "AUTHCONF_HASH_PRESET": "fast",
           "AUTHCONF_LOGIN_LIMIT_IP": str(LOGIN_IP_LIMIT),
           "AUTHCONF_DATABASE_URL": f"sqlite:///{directory / 'reference.sqlite3'}"}
    log = (directory / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "reference_impl", "serve", "--bind", f"127.0.0.1:{port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_scenarios_pass_over_http_or_say_why_not(served_url: str, tmp_path: Path) -> None:
    profile_file = tmp_path / "served.toml"
    profile_file.write_text(f"extends = \"reference\"\n[target]\nbase_url = \"{served_url}\"\nmax_wait = 0\n"
                            f"[rate_limits]\nlogin_ip_limit = {LOGIN_IP_LIMIT}\n")
    profile = load(profile_file)
    source = http_source(profile)
    results = {}
    for scenario in sorted(all_scenarios(), key=lambda s: bool(s.side_effects)):
        results[scenario.name] = run_scenario(scenario, source(scenario_check(scenario)))
    bad = {name: r.transcript() for name, r in results.items()
           if r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)}
    assert not bad, "\n\n".join(bad.values())
    waits = [r for r in results.values() if r.verdict is Verdict.NOT_APPLICABLE]
    assert all("max_wait" in r.reason or "profile tokens.algorithm" in r.reason for r in waits), \
        [r.reason for r in waits]
    assert sum(r.verdict is Verdict.PASS for r in results.values()) >= 12
