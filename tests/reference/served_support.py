"""Processes for the fault tests of the reference: a redis-server of a test's own (with an
append-only file, so that stopping and starting it keeps its data) and the reference under
gunicorn, which a test can reload (HUP), restart, or rob of a worker (SIGKILL)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from conformance.served import free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL = 0.05
REQUEST_TIMEOUT = 15.0  # longer than the reference's own store timeouts (2 x 2 s)
PASSWORD = "correct-horse-battery"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL)


class RedisProcess:
    """A redis-server on a free loopback port, never the machine's own. ``persistent`` keeps an
    append-only file (fsync on every write) in ``directory``, so a stop and a start lose nothing."""

    def __init__(self, directory: Path, *, persistent: bool = True) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server not found on PATH: install it (apt-get install redis-server)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, socket_timeout=2)

    def start(self) -> RedisProcess:
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                       else ["--appendonly", "no"])
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--dir", str(self.directory), *persistence]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            try:
                return bool(self.client().ping())
            except redis.RedisError:
                return False

        wait_for(answers, START_TIMEOUT, f"redis-server on port {self.port} answering")
        return self

    def stop(self) -> None:
        """SIGTERM: Redis writes what it must and exits (a paused one is woken first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


class ServedReference:
    """``python -m reference_impl serve`` with ``env``; its log is kept in ``directory``."""

    def __init__(self, directory: Path, env: dict[str, str], *, workers: int) -> None:
        self.directory = directory
        self.env = {**os.environ, **env}
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServedReference:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reference_impl", "serve", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}"],
            env=self.env, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"the reference exited ({self.process.returncode}): {self.log()[-2000:]}")
            try:  # the key set needs neither store nor database: up means up
                return requests.get(f"{self.base}/.well-known/jwks.json", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, START_TIMEOUT, "the reference answering")
        wait_for(lambda: len(self.worker_pids()) == self.workers, START_TIMEOUT, "every worker started")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return children(self.process.pid)

    def reload(self) -> None:
        """gunicorn's HUP: new workers, the old ones stopped gracefully; the master stays."""
        assert self.process is not None
        old = set(self.worker_pids())
        self.process.send_signal(signal.SIGHUP)
        wait_for(lambda: not old & set(self.worker_pids()) and len(self.worker_pids()) == self.workers,
                 START_TIMEOUT, "the workers replaced after HUP")
        self.wait_ready()

    def restart(self) -> None:
        """A full restart: TERM (graceful), then a new master with the same configuration."""
        self.stop()
        self.start()

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker, then wait for the master to start its replacement."""
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pid not in self.worker_pids() and len(self.worker_pids()) == self.workers,
                 START_TIMEOUT, "the killed worker replaced")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def reference_env(directory: Path, *, store: str, redis_url: str = "", **settings: Any) -> dict[str, str]:
    """The reference's configuration: a file database in ``directory``, fast hashing, generous login
    limits (tests log in often from one address), HS256 with a secret kept across restarts."""
    import secrets

    env = {"AUTHCONF_SECRET_KEY": secrets.token_urlsafe(48), "AUTHCONF_STORE": store,
           "AUTHCONF_DATABASE_URL": f"sqlite:///{directory / 'reference.sqlite3'}",
           "AUTHCONF_HASH_PRESET": "fast", "AUTHCONF_LOGIN_LIMIT_IP": "1000",
           "AUTHCONF_LOGIN_LIMIT_ACCOUNT": "1000"}
    if redis_url:
        env["AUTHCONF_REDIS_URL"] = redis_url
    env.update({f"AUTHCONF_{name.upper()}": str(value) for name, value in settings.items()})
    return env


# ---------------------------------------------------------------------------- a client

class Client:
    """Contract operations against ``base``, each on a new connection (so gunicorn spreads them
    over its workers)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Connection": "close", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=REQUEST_TIMEOUT, **kwargs)

    def signup(self, tenant: str, username: str = "ann") -> dict[str, str]:
        body = {"username": username, "password": PASSWORD, "tenant": tenant}
        answer = self._send("POST", "/auth/register", json=body)
        assert answer.status_code == 201, answer.text
        return body

    def login(self, account: dict[str, str]) -> dict[str, str]:
        answer = self._send("POST", "/auth/login", json=account)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def login_status(self, account: dict[str, str]) -> int:
        return self._send("POST", "/auth/login", json=account).status_code

    def me(self, tokens: dict[str, str]) -> requests.Response:
        return self._send("GET", "/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    def me_status(self, tokens: dict[str, str]) -> int:
        return self.me(tokens).status_code

    def refresh(self, refresh_token: str) -> requests.Response:
        return self._send("POST", "/auth/refresh", json={"refresh_token": refresh_token})

    def logout(self, tokens: dict[str, str]) -> int:
        return self._send("POST", "/auth/logout",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code

    def health(self) -> int:
        return self._send("GET", "/healthz").status_code

    def key_set(self) -> int:
        return self._send("GET", "/.well-known/jwks.json").status_code


def user_id(tokens: dict[str, str]) -> str:
    """The ``sub`` claim of the access token (read, not verified: the test's own token)."""
    payload = tokens["access_token"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])
