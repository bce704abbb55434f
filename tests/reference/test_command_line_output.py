"""What the reference prints on its command lines: serve says where it listens, and create-user
without the server's environment ends in one line naming the variables it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from reference_impl.config import Config
from reference_impl.serve import banner

ROOT = Path(__file__).resolve().parents[2]


def test_serve_says_where_it_listens_the_store_and_the_workers() -> None:
    config = Config(secret_key="s" * 48, store="redis", redis_url="redis://:hunter2@127.0.0.1:6390/0",
                    database_url="postgresql://app:pw@db/auth")
    line = banner(config, bind="127.0.0.1:8000", workers=4, threads=2)
    assert "listening on http://127.0.0.1:8000" in line and "4 worker(s) x 2 thread(s)" in line
    assert "store redis at redis://:***@127.0.0.1:6390/0" in line and "postgresql://app:***@db/auth" in line
    assert "hunter2" not in line and ":pw@" not in line


def test_create_user_without_the_environment_is_one_line(tmp_path: Path) -> None:
    environ: dict[str, Any] = {k: v for k, v in os.environ.items() if not k.startswith("AUTHCONF_")}
    environ.update(PYTHONPATH=str(ROOT), ROOT_PW="a long enough password")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "reference_impl", "create-user", "--role",
                           "superadmin", "--username", "root", "--tenant", "acme", "--password-env", "ROOT_PW"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=environ)
    assert done.returncode != 0
    # Before: a 30-line traceback ending in "AUTHCONF_SECRET_KEY is not set".
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "AUTHCONF_SECRET_KEY" in done.stderr and "AUTHCONF_DATABASE_URL" in done.stderr
