"""A target reached over HTTP with requests: timeouts on every call, one time limit on every whole
exchange, bodies read with a size cap, redirects never followed, and nothing ever sent to a host
other than the target's.

The time limit is what keeps a hostile target from holding the suite: a server that trickles its
answer one byte a second never trips a read timeout (each byte arrives in time), so every
exchange also runs under a watchdog that cuts its connection when ``exchange_limit`` seconds have
passed. A target can also be given a fuse (``arm_fuse``): after one exchange fails, every further
request fails at once without being sent, until the run's circuit breaker has probed the target
and reset it. That way a check that fires many requests at a dead target costs one time limit,
not one per request.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from conformance.evidence import printable
from conformance.targets.base import MAX_BODY_BYTES, Headers, Response
from conformance.verdict import TargetUnreachable

POOL_SIZE = 64  # connections kept per host; above the largest burst a check sends

log = logging.getLogger("authconform")

# One exchange (connect, send, the answer's head and its whole body) may take the connect timeout
# plus this many read timeouts; then its connection is cut.
READ_ALLOWANCE = 2
BODY_CHUNK = 16384


def exchange_limit(connect_timeout: float, read_timeout: float) -> float:
    """The longest one exchange with the target may take, in seconds."""
    return connect_timeout + READ_ALLOWANCE * read_timeout


# ---------------------------------------------------------------------------- the watchdog

class _Exchange:
    """The connections (and raw sockets) one exchange uses, so its watchdog can cut them."""

    def __init__(self) -> None:
        self.parts: list[HTTPConnection | socket.socket] = []
        self.expired = False
        self._lock = threading.Lock()

    def attach(self, part: HTTPConnection | socket.socket) -> None:
        with self._lock:
            self.parts.append(part)
            if self.expired:
                _cut(part)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for part in self.parts:
                _cut(part)


def _cut(part: HTTPConnection | socket.socket) -> None:
    sock = part if isinstance(part, socket.socket) else getattr(part, "sock", None)
    if sock is None:
        return
    try:
        # The plain socket's shutdown, also for a TLS socket: a blocked read returns at once.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


_current = threading.local()  # the exchange this thread is in, if any


def _attach(part: HTTPConnection | socket.socket) -> None:
    exchange: _Exchange | None = getattr(_current, "exchange", None)
    if exchange is not None:
        exchange.attach(part)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)  # before a TLS handshake, which a hostile server may drag out
        return sock

    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)  # a pooled connection, reused by this exchange
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)
        return sock

    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def __init__(self, *args: Any, source: str | None = None, **kwargs: Any) -> None:
        self._source = source  # the local address connections are made from (None: the system's choice)
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._source is not None:
            kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


@contextmanager
def _watchdog(seconds: float) -> Iterator[_Exchange]:
    exchange = _Exchange()
    timer = threading.Timer(seconds, exchange.expire)
    timer.daemon = True
    _current.exchange = exchange
    timer.start()
    try:
        yield exchange
    finally:
        timer.cancel()
        _current.exchange = None


# ---------------------------------------------------------------------------- the target

class HttpTarget:
    abilities: frozenset[str] = frozenset()
    clock = None

    def __init__(self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 verify: bool | str = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = self.base_url
        self._origin = urlsplit(self.base_url)
        self._timeouts = (connect_timeout, read_timeout)
        self.exchange_limit = exchange_limit(connect_timeout, read_timeout)
        self._verify = verify
        # One session per local source address (see ClientAddresses in conformance/leases.py).
        self._sessions: dict[str | None, requests.Session] = {}
        self._sessions_lock = threading.Lock()
        if verify is False:  # the profile chose this: one log line says so, not a warning per request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            log.warning("TLS certificate verification is off for %s (target.verify_tls = false)", self.base_url)
        self._fuse_armed = False
        self.down: str | None = None  # why the fuse blew: requests are refused until reset()

    def _session_for(self, source: str | None) -> requests.Session:
        with self._sessions_lock:
            session = self._sessions.get(source)
            if session is None:
                session = requests.Session()
                session.trust_env = False  # no proxies or netrc credentials from the environment
                session.verify = self._verify
                # Checks run side by side and share a session: it never keeps a cookie (each request
                # states its own), so none leaks from one check into another.
                session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
                # Concurrency checks send bursts from threads: keep their connections instead of warning.
                adapter = _WatchedAdapter(max_retries=0, pool_connections=4, pool_maxsize=POOL_SIZE, source=source)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._sessions[source] = session
            return session

    def release_source(self, source: str | None) -> None:
        """Close the connections made from ``source`` (a check that used it has ended)."""
        if source is None:
            return
        with self._sessions_lock:
            session = self._sessions.pop(source, None)
        if session is not None:
            session.close()

    # -------------------------------------------------------------- the fuse
    def arm_fuse(self) -> None:
        """After this, the first failed exchange blows the fuse: later requests fail unsent."""
        self._fuse_armed = True

    def reset(self) -> None:
        self.down = None

    # -------------------------------------------------------------- requests
    def url_for(self, path: str) -> str:
        url = urljoin(self.base_url + "/", path.lstrip("/"))
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
            # A check must never be able to send credentials off the target.
            raise ValueError(f"refusing to send a request off the target: {url}")
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
        cookies: Mapping[str, str] | None = None,
        worker: int = 0,
        source: str | None = None,
    ) -> Response:
        down = self.down
        if down is not None:
            raise TargetUnreachable(f"not sent, the target stopped answering: {down}")
        try:
            return self._exchange(method, path, headers=headers, params=params, json_body=json_body,
                                  form=form, raw_body=raw_body, cookies=cookies, source=source)
        except TargetUnreachable as exc:
            if self._fuse_armed:
                self.down = str(exc)
            raise

    def probe(self, path: str) -> Response:
        """One GET of ``path``, sent even when the fuse has blown (the circuit breaker's probe)."""
        return self._exchange("GET", path)

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
        cookies: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> Response:
        url = self.url_for(path)
        session = self._session_for(source)
        started = time.perf_counter()
        with _watchdog(self.exchange_limit) as exchange:
            try:
                answer = session.request(
                    method, url, headers=dict(headers or {}), params=params,
                    json=json_body if raw_body is None and form is None else None,
                    data=raw_body if raw_body is not None else form,
                    cookies=dict(cookies or {}), timeout=self._timeouts,
                    allow_redirects=False, stream=True,
                )
            except requests.exceptions.RequestException as exc:
                raise TargetUnreachable(self._describe(exc, url, exchange.expired)) from None
            body, truncated = self._read_capped(answer, exchange)
        return Response(
            status=answer.status_code,
            headers=Headers(list(answer.raw.headers.items())),
            body=body,
            elapsed=time.perf_counter() - started,
            url=url,
            truncated=truncated,
        )

    def _read_capped(self, answer: requests.Response, exchange: _Exchange) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size, truncated = 0, False
        try:
            for chunk in answer.iter_content(chunk_size=BODY_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    truncated = True  # the rest is never read: a hostile target cannot fill memory
                    break
        except (requests.exceptions.RequestException, OSError) as exc:
            if exchange.expired:
                raise TargetUnreachable(self._too_slow(size)) from None
            got = f" after {size} bytes of the body" if size else ""
            raise TargetUnreachable(f"{self.base_url} broke off its answer{got}: {_plain(exc)}") from None
        finally:
            answer.close()
        if exchange.expired:
            raise TargetUnreachable(self._too_slow(size))
        return b"".join(chunks)[:MAX_BODY_BYTES], truncated

    def _too_slow(self, size: int) -> str:
        return (f"{self.base_url} did not finish its answer within {self.exchange_limit:g} s "
                f"(connect_timeout + {READ_ALLOWANCE} x read_timeout; {size} bytes of the body had come)")

    def _describe(self, exc: requests.exceptions.RequestException, url: str, expired: bool) -> str:
        """What went wrong, in words, with what to do where the cause is clear."""
        text = _plain(exc)
        if expired:
            return (f"{self.base_url} did not answer within {self.exchange_limit:g} s "
                    f"(connect_timeout + {READ_ALLOWANCE} x read_timeout)")
        if isinstance(exc, requests.exceptions.SSLError):
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                return (f"the TLS certificate of {self.base_url} is not trusted ({_ssl_detail(text)}): name the "
                        "CA that signed it with target.ca_file, or set target.verify_tls = false to skip "
                        "verification (a test system only)")
            if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
                return (f"TLS handshake with {self.base_url} failed: the server does not speak TLS on this "
                        "port; if it serves plain HTTP, use an http:// URL")
            return f"TLS handshake with {self.base_url} failed: {_ssl_detail(text)}"
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"cannot connect to {self.base_url} within {self._timeouts[0]:g} s (target.connect_timeout)"
        if isinstance(exc, requests.exceptions.Timeout):
            return f"{self.base_url} did not answer within {self._timeouts[1]:g} s (target.read_timeout)"
        if isinstance(exc, requests.exceptions.ConnectionError):
            not_http = _cause(exc, http.client.BadStatusLine)
            if not_http is not None:
                return (f"{self.base_url} answered with something that is not HTTP (it began "
                        f"{str(not_http)[:40]!r}): is this the right host and port?")
            if "refused" in text.lower():
                return f"cannot connect to {self.base_url}: connection refused (is the server running?)"
            hint = ""
            if self._origin.scheme == "http" and ("reset" in text.lower() or "aborted" in text.lower()):
                hint = " (if the server speaks TLS on this port, use an https:// URL)"
            return f"{self.base_url} closed the connection without an answer: {text}{hint}"
        return f"request to {url} failed: {text}"

    # -------------------------------------------------------------- what HTTP targets cannot do
    def restart(self) -> None:
        raise NotImplementedError("an HTTP target cannot be restarted by the suite")

    @contextmanager
    def store_down(self) -> Iterator[None]:
        raise NotImplementedError("an HTTP target's store cannot be controlled by the suite")
        yield

    def provision_user(self, *, username: str, password: str, tenant: str, role: str) -> str:
        raise NotImplementedError("an HTTP target's users are provisioned by the profile")

    def close(self) -> None:
        with self._sessions_lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.close()


def _ssl_detail(text: str) -> str:
    """The OpenSSL reason out of requests' nested message (``certificate verify failed: ...``)."""
    for marker in ("certificate verify failed: ", "] "):
        if marker in text:
            detail = text.split(marker, 1)[1]
            return detail.split(" (_ssl.c", 1)[0].rstrip("')\"")
    return text


def _plain(exc: BaseException, depth: int = 0) -> str:
    """The message of the innermost cause, without the wrappers' reprs (requests wraps urllib3,
    which wraps http.client and ssl)."""
    if depth < 6:
        reason = getattr(exc, "reason", None)  # urllib3's MaxRetryError
        if isinstance(reason, BaseException):
            return _plain(reason, depth + 1)
        args = exc.args
        if args and isinstance(args[0], BaseException):
            return _plain(args[0], depth + 1)
        if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], BaseException):
            head, inner = args[0].rstrip(". "), _plain(args[1], depth + 1)
            return head if not inner or inner in head else f"{head}: {inner}"
    return _short(str(exc) or type(exc).__name__)


def _cause(exc: BaseException, kind: type[BaseException], depth: int = 0) -> BaseException | None:
    """The first exception of ``kind`` in ``exc``'s chain of wrapped causes, or None."""
    if isinstance(exc, kind):
        return exc
    if depth >= 6:
        return None
    for inner in (getattr(exc, "reason", None), *exc.args, exc.__cause__, exc.__context__):
        if isinstance(inner, BaseException):
            found = _cause(inner, kind, depth + 1)
            if found is not None:
                return found
    return None


def _short(text: str) -> str:
    text = printable(text)
    return text if len(text) < 200 else text[:200] + "..."
