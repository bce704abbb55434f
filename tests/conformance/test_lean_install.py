"""``pip install authconform`` without extras is the suite alone, and it runs against a URL.

A fresh virtual environment gets the project as a user installs it (no extras, from a copy of the
source, so nothing of this checkout or of the development environment leaks in). It must hold
none of the reference's or the load runner's packages, run a few checks against the reference
served by the development environment, write its reports, and say in one line which extra the
commands that need one want.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.served import reference_server

pytestmark = pytest.mark.served

ROOT = Path(__file__).resolve().parents[2]
# What a build of the project reads (pyproject's packages, package data and readme).
SOURCES = ("pyproject.toml", "README.md", "conformance", "reference_impl", "reports", "scenarios")
# Modules only the [reference], [load] and [openapi] extras bring: none may be in the lean environment.
EXTRA_ONLY = ("flask", "sqlalchemy", "argon2", "redis", "gunicorn", "mirakuru", "locust", "gevent",
              "schemathesis")
INSTALL_TIMEOUT = 600  # seconds: a fresh environment's packages come from the package index
RUN_TIMEOUT = 180
CHECKS = ("TOK-ALG-NONE", "TOK-SIG-BROKEN", "TOK-CLAIMS-MISSING", "CRED-ENUM-STATUS")
PROFILE = """\
extends = "reference"
[target]
base_url = "{base}"
[signing]
key = "${{LEAN_SIGNING_KEY}}"
"""


def _lean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would put this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("lean")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    environment = work / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                str(source)], env=_lean_env(), cwd=work, capture_output=True, text=True,
                               timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0, installed.stderr[-3000:]
    yield environment


def _run(environment: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(environment / "bin" / "authconform"), *args], env=_lean_env(**env), cwd=cwd,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)


def test_the_lean_install_holds_no_package_of_an_extra(lean_venv: Path) -> None:
    probe = "import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in %r}))"
    done = subprocess.run([str(lean_venv / "bin" / "python"), "-c", probe % (EXTRA_ONLY,)], env=_lean_env(),
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == dict.fromkeys(EXTRA_ONLY, False)


def test_the_lean_install_runs_checks_against_a_served_reference(lean_venv: Path, tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    with reference_server({"AUTHCONF_SECRET_KEY": secret}, tmp_path / "server") as base:
        profile = tmp_path / "served.toml"
        profile.write_text(PROFILE.format(base=base))
        report_dir = tmp_path / "report"
        done = _run(lean_venv, "run", "--target", base, "--profile", str(profile), "--report-dir", str(report_dir),
                    *[arg for check in CHECKS for arg in ("--check", check)], cwd=tmp_path, LEAN_SIGNING_KEY=secret)
        # The same checks under pytest, through the plugin the lean install registers.
        under_pytest = subprocess.run(
            [str(lean_venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "--authconform-target", base, "--authconform-profile", str(profile),
             "-k", " or ".join(CHECKS)], env=_lean_env(LEAN_SIGNING_KEY=secret), cwd=tmp_path,
            capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert under_pytest.returncode == 0, under_pytest.stdout[-3000:]
    assert f"{len(CHECKS)} passed" in under_pytest.stdout
    output = done.stdout + done.stderr
    assert done.returncode == exitcodes.OK, output
    assert "Traceback" not in output and secret not in output
    report = json.loads((report_dir / "report.json").read_text())
    assert {entry["id"]: entry["verdict"] for entry in report["checks"]} == dict.fromkeys(CHECKS, "pass")
    assert {path.name for path in report_dir.iterdir()} >= {"report.json", "junit.xml", "report.html", "summary.md"}


@pytest.mark.parametrize("args,extra", [(("load", "rate_limit_probe", "--target", "http://127.0.0.1:9"), "load"),
                                        (("run", "--check", "TOK-ALG-NONE"), "reference"),
                                        (("selftest", "--fault", "ignore-exp"), "reference")])
def test_a_command_that_needs_an_extra_says_which_in_one_line(lean_venv: Path, tmp_path: Path,
                                                              args: tuple[str, ...], extra: str) -> None:
    done = _run(lean_venv, *args, cwd=tmp_path)
    assert done.returncode == exitcodes.USAGE_OR_PROFILE
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and f"pip install 'authconform[{extra}]'" in lines[0], done.stderr


def test_the_fault_catalog_lists_without_the_reference_extra(lean_venv: Path, tmp_path: Path) -> None:
    done = _run(lean_venv, "faults", cwd=tmp_path)
    assert done.returncode == exitcodes.OK, done.stderr
    assert done.stdout.splitlines()[-1].endswith(" faults")



def test_the_operation_checks_read_routes_lean_and_name_the_extra_for_a_document(lean_venv: Path,
                                                                                tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    check = "TOK-FORGED-EVERY-OPERATION"
    with reference_server({"AUTHCONF_SECRET_KEY": secret}, tmp_path / "server") as base:
        profile = tmp_path / "served.toml"
        profile.write_text(PROFILE.format(base=base))
        verdicts = {}
        for name, extra in (("routes", ()), ("openapi", ("--openapi", "/openapi.json"))):
            report_dir = tmp_path / name
            done = _run(lean_venv, "run", "--profile", str(profile), "--check", check, "--report-dir",
                        str(report_dir), *extra, cwd=tmp_path, LEAN_SIGNING_KEY=secret)
            assert "Traceback" not in done.stdout + done.stderr
            entry = json.loads((report_dir / "report.json").read_text())["checks"][0]
            verdicts[name] = (entry["verdict"], entry["reason"])
    # Judged from the profile without Schemathesis; /audit needs a superadmin, which sign-up never makes.
    assert verdicts["routes"][0] == "partial" and "GET /audit (the valid admin's token answered 403)" in \
        verdicts["routes"][1], verdicts["routes"]
    assert verdicts["openapi"][0] == "not-applicable" and "install authconform[openapi]" in verdicts["openapi"][1]


def test_init_drafts_from_the_openapi_document_without_schemathesis(lean_venv: Path, tmp_path: Path) -> None:
    # init reads the document with the loader --openapi uses; its parsing part needs no extra.
    with reference_server({"AUTHCONF_SECRET_KEY": secrets.token_urlsafe(48)}, tmp_path / "server") as base:
        written = tmp_path / "drafted.toml"
        done = _run(lean_venv, "init", "--target", base, "-o", str(written), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == exitcodes.OK and "Traceback" not in output, output
    assert "openapi: /openapi.json describes" in done.stdout, done.stdout
    assert "from the OpenAPI document" in written.read_text()
