"""A small HTTP server the suite runs on its own side, posing as the attacker.

Header checks (``jku``, ``x5u``) point a token at a URL this server answers, then ask two
questions: did the target accept the token, and did it fetch the URL at all? Either is a failure.
The server binds a free port, serves only the documents it was given, counts every request it
sees, and lives only inside a ``with`` block (daemon threads, short socket timeouts).
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

# Where the server listens and what host it names in URLs. Loopback suits an in-process target
# or one on the same machine; set AUTHCONF_ATTACKER_HOST to an address the target can reach.
HOST_ENV = "AUTHCONF_ATTACKER_HOST"
DEFAULT_HOST = "127.0.0.1"
# Seconds a connection may stay idle and the shutdown waits for the serving thread.
SOCKET_TIMEOUT = 5.0
SHUTDOWN_TIMEOUT = 5.0

LOOPBACK_HOSTS = ("127.", "localhost", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    return host.startswith(LOOPBACK_HOSTS)


class AttackerServer:
    """Serves ``documents`` (path -> (content type, body)) and records each path requested."""

    def __init__(self, documents: dict[str, tuple[str, bytes]], host: str | None = None,
                 public_url: str = "") -> None:
        self.documents = dict(documents)
        self.host = host or os.environ.get(HOST_ENV, DEFAULT_HOST)
        self.public_url = public_url.rstrip("/")  # how the target names this server, when not host:port
        self._hits: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- what the checks read
    @property
    def hits(self) -> list[str]:
        with self._lock:
            return list(self._hits)

    def url(self, path: str) -> str:
        if self._server is None:
            raise RuntimeError("the attacker server is not running (use it in a with block)")
        if self.public_url:
            return self.public_url + path
        return f"http://{self.host}:{self._server.server_address[1]}{path}"

    def _record(self, path: str) -> None:
        with self._lock:
            self._hits.append(path)

    # -------------------------------------------------------------- life cycle
    def __enter__(self) -> AttackerServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = SOCKET_TIMEOUT

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
                path = self.path.split("?", 1)[0]
                owner._record(path)
                document = owner.documents.get(path)
                if document is None:
                    self.send_error(404)
                    return
                content_type, body = document
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # keep test output quiet

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="authconform-attacker-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._server = None
        self._thread = None
