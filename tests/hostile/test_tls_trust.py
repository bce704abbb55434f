"""A target with a self-signed certificate: refused by default with a reason that says what to
do, accepted when the profile names the certificate's CA file or switches verification off
(``verify_tls = false``, also written ``verify = false``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from conformance import exitcodes
from reference_impl import Config, create_app

from .certs import TlsFiles
from .test_hostile_targets import SETTINGS, run_suite

pytestmark = pytest.mark.hostile

CHECKS = ("--check", "TOK-ALG-NONE", "--check", "REV-LOGOUT-ACCESS")
RUN_TIMEOUT = 120


@pytest.fixture(scope="module")
def reference_over_tls(tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference, in this process, served over TLS with the self-signed certificate. Its database
    is a file: the suite's checks run side by side, and the in-memory database is one connection
    that concurrent requests would share."""
    database = tmp_path_factory.mktemp("tls-reference") / "reference.sqlite3"
    app = create_app(Config.for_tests(database_url=f"sqlite:///{database}"))
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True,
                                         ssl_context=tls_files.server_context())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _run(url: str, tmp_path: Path, *settings: str, profile: Path | None = None) -> tuple[int, str, dict]:
    extra = ("--profile", str(profile)) if profile else ()
    outcome = run_suite(url, tmp_path / "report", SETTINGS + settings, timeout=RUN_TIMEOUT,
                        extra_args=(*CHECKS, *extra))
    return outcome.code, outcome.output, outcome.report


def test_a_self_signed_certificate_is_refused_by_default(reference_over_tls: str, tmp_path: Path) -> None:
    code, output, report = _run(reference_over_tls, tmp_path)
    assert code == exitcodes.TARGET_UNREACHABLE, output
    assert "not trusted" in output and "target.ca_file" in output and "Traceback" not in output
    assert {c["verdict"] for c in report["checks"]} == {"error"}


def test_naming_the_ca_file_trusts_it(reference_over_tls: str, tls_files: TlsFiles, tmp_path: Path) -> None:
    code, output, report = _run(reference_over_tls, tmp_path, f"target.ca_file={tls_files.cert}")
    assert code == exitcodes.OK, output
    assert {c["verdict"] for c in report["checks"]} == {"pass"}


def test_verify_false_in_the_profile_skips_verification(reference_over_tls: str, tmp_path: Path) -> None:
    profile = tmp_path / "insecure.toml"
    profile.write_text('extends = "reference"\n[target]\nverify = false\n')
    code, output, report = _run(reference_over_tls, tmp_path, profile=profile)
    assert code == exitcodes.OK, output
    assert {c["verdict"] for c in report["checks"]} == {"pass"}
    assert "verification is off" in output and "Traceback" not in output


def test_a_missing_ca_file_is_a_profile_error(reference_over_tls: str, tmp_path: Path) -> None:
    code, output, _report = _run(reference_over_tls, tmp_path, f"target.ca_file={tmp_path / 'nope.pem'}")
    assert code == exitcodes.USAGE_OR_PROFILE, output
    assert "target.ca_file" in output and "Fix:" in output and "Traceback" not in output
