"""How each example target is served: a real process on a free loopback port, with the environment
its profile in ``examples/profiles/`` reads. Each ``serve_*`` yields a ``Served`` while the service
runs and stops it afterwards (the test fixtures in conftest.py, and bench/example_run.py, use them).

- notes (Flask-JWT-Extended, token blocklist in Redis) under gunicorn with two workers;
- shop (FastAPI, ``OAuth2PasswordBearer``) under uvicorn;
- portal (Flask, cookies with double-submit CSRF) under Werkzeug's threaded server;
- members (Django REST framework + simplejwt with its blacklist app) under gunicorn, migrated first;
- tracker (FastAPI + fastapi-users, JWT strategy, SQLite via aiosqlite) under uvicorn;
- ledger (Flask + PyJWT, HTTP Basic login, refresh with both tokens) under Werkzeug's threaded server;
- vault (FastAPI, single-use access tokens, renewal answering ``token``) under uvicorn.

A ``Served`` is the base URL and the variables the example profile expands. Secrets are generated
per run; nothing is written outside the working directory given.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from example_targets import PROFILES, Served, serve_process

from conformance.served import free_port

HERE = Path(__file__).parent
# Cheap password hashing: the suite logs in a few hundred times per run.
TEST_HASH_ITERATIONS = "20000"
# notes hashes with this Werkzeug method: slow enough that a login for an unknown user (which
# skips hashing) is told apart from a wrong password, as with the production default.
NOTES_HASH = "pbkdf2:sha256:150000"
# shop's login limits, suited to testing: a short window so the suite waits seconds, not minutes,
# and hashing cheap enough that 40 failed logins fit in one window on a busy machine.
SHOP_HASH_ITERATIONS = "5000"
SHOP_LIMITS = {"SHOP_LOGIN_LIMIT_ACCOUNT": "10", "SHOP_LOGIN_LIMIT_IP": "40", "SHOP_LOGIN_WINDOW": "3"}
# vault's Argon2 cost, lowered like the others' (argon2-cffi's default takes 64 MiB per hash).
VAULT_ARGON2 = {"VAULT_ARGON2_TIME_COST": "1", "VAULT_ARGON2_MEMORY_KIB": "8192"}
# The accounts members is served with: Django superusers (role admin) and signed-up users (role user).
MEMBERS_ACCOUNTS = {"admin": ("boss1", "boss2"), "user": ("member1", "member2")}
SERVICE_PREFIXES = ("NOTES_", "SHOP_", "PORTAL_", "MEMBERS_", "TRACKER_", "LEDGER_", "VAULT_", "DJANGO_")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVICE_PREFIXES)}
    env.pop("FORWARDED_ALLOW_IPS", None)  # uvicorn's default (trust 127.0.0.1) is part of the example
    env.update(extra)
    return env


def serve_notes(workdir: Path, redis_server: str) -> Iterator[Served]:
    port = free_port()
    secret = secrets.token_urlsafe(48)
    env = _clean_env(NOTES_JWT_SECRET=secret, NOTES_REDIS_URL=redis_server.rsplit("/", 1)[0] + "/5",
                     NOTES_DB=str(workdir / "notes.sqlite3"), NOTES_PASSWORD_HASH=NOTES_HASH)
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--chdir", str(HERE / "notes_api"), "app:create_app()"]
    url = f"http://127.0.0.1:{port}"
    for log in serve_process("notes", command, env, workdir, "/api/me", port):
        yield Served("notes", url, PROFILES / "notes-api.toml",
                     {"NOTES_URL": url, "NOTES_JWT_SECRET": secret}, log)


def serve_shop(workdir: Path) -> Iterator[Served]:
    port = free_port()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "shop-signing-key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    accounts = [{"username": f"shopper{n}", "password": secrets.token_urlsafe(12)} for n in (1, 2)]
    users_file = workdir / "users.json"
    users_file.write_text(json.dumps(accounts))
    client_id, client_secret = "shop-web", secrets.token_urlsafe(24)
    env = _clean_env(SHOP_PRIVATE_KEY_FILE=str(key_file), SHOP_CLIENT_ID=client_id,
                     SHOP_CLIENT_SECRET=client_secret, SHOP_USERS_FILE=str(users_file),
                     SHOP_PBKDF2_ITERATIONS=SHOP_HASH_ITERATIONS, **SHOP_LIMITS)
    command = _uvicorn(HERE / "shop_api", port)
    url = f"http://127.0.0.1:{port}"
    profile_env = {"SHOP_URL": url, "SHOP_CLIENT_ID": client_id, "SHOP_CLIENT_SECRET": client_secret,
                   "SHOP_SIGNING_KEY_FILE": str(key_file)}
    for n, account in enumerate(accounts, 1):
        profile_env[f"SHOP_USER{n}"] = account["username"]
        profile_env[f"SHOP_PASSWORD{n}"] = account["password"]
    for log in serve_process("shop", command, env, workdir, "/health", port):
        yield Served("shop", url, PROFILES / "shop-api.toml", profile_env, log)


def serve_portal(workdir: Path) -> Iterator[Served]:
    port = free_port()
    env = _clean_env(PORTAL_SECRET=secrets.token_urlsafe(48), PORTAL_PBKDF2_ITERATIONS=TEST_HASH_ITERATIONS)
    command = [sys.executable, str(HERE / "portal" / "app.py"), "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    for log in serve_process("portal", command, env, workdir, "/", port):
        yield Served("portal", url, PROFILES / "portal.toml", {"PORTAL_URL": url}, log)


def serve_members(workdir: Path) -> Iterator[Served]:
    port = free_port()
    project = HERE / "members_drf"
    secret = secrets.token_urlsafe(48)
    env = _clean_env(MEMBERS_SECRET_KEY=secret, MEMBERS_DB=str(workdir / "members.sqlite3"),
                     MEMBERS_PBKDF2_ITERATIONS=TEST_HASH_ITERATIONS, DJANGO_SETTINGS_MODULE="members.settings")
    passwords = {name: "Pw-" + secrets.token_urlsafe(12) for names in MEMBERS_ACCOUNTS.values() for name in names}
    manage = [sys.executable, str(project / "manage.py")]
    _setup_step(manage + ["migrate", "--verbosity", "0"], env, workdir)
    for name in MEMBERS_ACCOUNTS["admin"]:
        _setup_step(manage + ["createsuperuser", "--noinput", "--username", name, "--email", f"{name}@example.com"],
                    {**env, "DJANGO_SUPERUSER_PASSWORD": passwords[name]}, workdir)
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--no-control-socket", "--bind",
               f"127.0.0.1:{port}", "--chdir", str(project), "members.wsgi"]
    url = f"http://127.0.0.1:{port}"
    profile_env = {"MEMBERS_URL": url, "MEMBERS_SECRET_KEY": secret}
    for role, names in MEMBERS_ACCOUNTS.items():
        for n, name in enumerate(names, 1):
            profile_env[f"MEMBERS_{role.upper()}{n}"] = name
            profile_env[f"MEMBERS_{role.upper()}{n}_PASSWORD"] = passwords[name]
    for log in serve_process("members", command, env, workdir, "/api/users/me/", port):
        for name in MEMBERS_ACCOUNTS["user"]:  # the way a member joins: the open sign-up
            answer = requests.post(f"{url}/api/register/", json={"username": name, "password": passwords[name]},
                                   timeout=10)
            assert answer.status_code == 201, f"members sign-up of {name}: {answer.status_code} {answer.text}"
        yield Served("members", url, PROFILES / "members-drf.toml", profile_env, log)


def _uvicorn(app_dir: Path, port: int) -> list[str]:
    """The FastAPI examples' ``app:app`` under uvicorn on loopback, quiet but for warnings."""
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "app:app"]


def _setup_step(command: list[str], env: dict[str, str], workdir: Path) -> None:
    """One set-up command before a service starts (a migration, an account); its output on failure."""
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command[1:3])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"[-3000:])


def serve_tracker(workdir: Path) -> Iterator[Served]:
    port = free_port()
    secret = secrets.token_urlsafe(48)
    env = _clean_env(TRACKER_SECRET=secret, TRACKER_DB=str(workdir / "tracker.sqlite3"))
    command = _uvicorn(HERE / "tracker_fastapi_users", port)
    url = f"http://127.0.0.1:{port}"
    for log in serve_process("tracker", command, env, workdir, "/health", port):
        yield Served("tracker", url, PROFILES / "tracker-fastapi-users.toml",
                     {"TRACKER_URL": url, "TRACKER_SECRET": secret}, log)


def serve_ledger(workdir: Path) -> Iterator[Served]:
    port = free_port()
    secret = secrets.token_urlsafe(48)
    env = _clean_env(LEDGER_JWT_SECRET=secret, LEDGER_DB=str(workdir / "ledger.sqlite3"),
                     LEDGER_PASSWORD_HASH=f"pbkdf2:sha256:{TEST_HASH_ITERATIONS}")
    command = [sys.executable, str(HERE / "ledger_basic" / "app.py"), "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    for log in serve_process("ledger", command, env, workdir, "/", port):
        yield Served("ledger", url, PROFILES / "ledger-basic.toml", {"LEDGER_URL": url, "LEDGER_JWT_SECRET": secret},
                     log)


def serve_vault(workdir: Path) -> Iterator[Served]:
    port = free_port()
    secret = secrets.token_urlsafe(48)
    env = _clean_env(VAULT_JWT_SECRET=secret, **VAULT_ARGON2)
    command = _uvicorn(HERE / "vault_single_use", port)
    url = f"http://127.0.0.1:{port}"
    for log in serve_process("vault", command, env, workdir, "/v1/health", port):
        yield Served("vault", url, PROFILES / "vault-single-use.toml", {"VAULT_URL": url, "VAULT_JWT_SECRET": secret},
                     log)
