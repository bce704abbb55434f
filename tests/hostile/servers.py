"""Deliberately misbehaving loopback servers, for running the suite against broken and hostile
targets, and a recorder standing for "another host" that must never hear from the suite.

``MisbehavingServer`` listens on a free loopback port (optionally with TLS), reads each request's
head and body itself, and hands the connection to a behaviour: a function that writes whatever it
likes (or nothing) and says whether to keep the connection for another request. It counts what
it sent and whether the client hung up before an answer was complete, so a test can tell that the
suite read a huge body only up to its cap.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

HEAD_LIMIT = 65536
ACCEPT_POLL = 0.1


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stats:
    connections: int = 0
    requests: int = 0
    answers_started: int = 0
    answers_completed: int = 0
    answers_cut_by_client: int = 0  # the client hung up while the answer was still being written
    largest_answer_sent: int = 0  # bytes written for the largest single answer
    received: list[bytes] = field(default_factory=list)  # the recorder keeps what it is sent

    def note_answer(self, sent: int, completed: bool) -> None:
        self.largest_answer_sent = max(self.largest_answer_sent, sent)
        if completed:
            self.answers_completed += 1
        else:
            self.answers_cut_by_client += 1


class Connection:
    """One accepted connection, as a behaviour sees it."""

    def __init__(self, sock: socket.socket, server: MisbehavingServer) -> None:
        self.sock = sock
        self.server = server
        self.buffer = b""

    def read_request(self) -> Request | None:
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data or len(self.buffer) > HEAD_LIMIT:
                return None
            self.buffer += data
            if not self.buffer[:1].isalpha():  # a TLS hello, or other bytes that are no request
                self.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return None
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            data = self.sock.recv(65536)
            if not data:
                return None
            rest += data
        self.buffer = rest[length:]
        return Request(parts[0], parts[1], headers, rest[:length])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
               reason: str = "Whatever") -> None:
        """A complete HTTP/1.1 answer in one write (no Nagle stalls)."""
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.write_answer(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def write_answer(self, data: bytes, chunk: int = 0) -> bool:
        """Write one answer, counting it; False when the client hung up first."""
        stats = self.server.stats
        with self.server.lock:
            stats.answers_started += 1
        sent = 0
        try:
            view = memoryview(data)
            step = chunk or len(data)
            while sent < len(data):
                self.sock.sendall(view[sent:sent + step])
                sent += len(view[sent:sent + step])
        except OSError:
            with self.server.lock:
                stats.note_answer(sent, completed=False)
            return False
        with self.server.lock:
            stats.note_answer(sent, completed=True)
        return True


Behaviour = Callable[[Connection], None]


def serve_requests(answer: Callable[[Connection, Request], bool]) -> Behaviour:
    """A behaviour reading requests one after another (keep-alive) and answering each with
    ``answer``, which returns False to close the connection."""

    def behaviour(connection: Connection) -> None:
        while True:
            request = connection.read_request()
            if request is None:
                return
            with connection.server.lock:
                connection.server.stats.requests += 1
            if not answer(connection, request):
                return

    return behaviour


class MisbehavingServer:
    def __init__(self, behaviour: Behaviour, *, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour
        self.host = host
        self.tls = tls
        self.stats = Stats()
        self.lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._listener is not None, "use the server in a with block"
        return int(self._listener.getsockname()[1])

    def url(self, scheme: str = "") -> str:
        return f"{scheme or ('https' if self.tls else 'http')}://{self.host}:{self.port}"

    def __enter__(self) -> MisbehavingServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, name="misbehaving-server", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self.lock:
                self.stats.connections += 1
                self._open.add(sock)
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                try:
                    sock = self.tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                with self.lock:
                    self._open.add(sock)
            self.behaviour(Connection(sock, self))
        except OSError:
            pass  # the client went away: that is the client's right
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self.lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        if self._thread is not None:
            self._thread.join(5)


# ---------------------------------------------------------------------------- behaviours

def hang(connection: Connection) -> None:
    """Accept, read whatever comes, never answer."""
    while connection.sock.recv(65536):
        pass


def trickle(connection: Connection) -> None:
    """Answer one byte per second: every read of the client succeeds, the answer never ends."""
    if connection.read_request() is None:
        return
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n" + b" " * 200
    for byte in answer:
        connection.send(bytes([byte]))
        time.sleep(1)


def close_mid_body(connection: Connection) -> None:
    """Promise a body of 1,000 bytes, send 11, hang up."""
    if connection.read_request() is None:
        return
    connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    b'{"access_to')


def not_http(connection: Connection) -> None:
    """Answer a request with bytes that are not HTTP at all."""
    if connection.read_request() is None:
        return
    connection.send(b"\x00\xffSSH-2.0-garbage\r\n\x1b[31m" * 8)


def fixed(status: int, body: bytes, content_type: str = "application/json",
          headers: dict[str, str] | None = None) -> Behaviour:
    """The same answer to every request on every route."""
    extra = {"Content-Type": content_type, **(headers or {})}

    def answer(connection: Connection, _request: Request) -> bool:
        connection.answer(status, body, extra)
        return True

    return serve_requests(answer)


def redirect(status: int, location: Callable[[Request], str]) -> Behaviour:
    def answer(connection: Connection, request: Request) -> bool:
        connection.answer(status, b"", {"Location": location(request), "Content-Type": "text/plain"})
        return True

    return serve_requests(answer)


def huge_bodies(size: int) -> Behaviour:
    """A 200 JSON answer of ``size`` bytes to every request, written in 64 KB pieces."""
    body = b'{"padding": "' + b"x" * (size - 15) + b'"}'

    def answer(connection: Connection, _request: Request) -> bool:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
        return connection.write_answer(head + body, chunk=65536)

    return serve_requests(answer)


def endless_chunks(connection: Connection) -> None:
    """A chunked 200 answer that never ends: chunks until the client hangs up."""
    if connection.read_request() is None:
        return
    chunk = b"4000\r\n" + b"[" * 0x4000 + b"\r\n"
    stats = connection.server.stats
    with connection.server.lock:
        stats.answers_started += 1
    sent = 0
    try:
        connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            connection.send(chunk)
            sent += len(chunk)
    except OSError:
        with connection.server.lock:
            stats.note_answer(sent, completed=False)


def record(connection: Connection) -> None:
    """The recorder: keep every byte any client sends, answer nothing useful."""
    connection.sock.settimeout(2)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := connection.sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                break
    with connection.server.lock:
        connection.server.stats.received.append(data)
    with contextlib.suppress(OSError):
        connection.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@contextlib.contextmanager
def not_listening(host: str = "127.0.0.1") -> Iterator[str]:
    """A URL on which nothing listens: the port is held by a socket that never calls listen()."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind((host, 0))
    try:
        yield f"http://{host}:{holder.getsockname()[1]}"
    finally:
        holder.close()
