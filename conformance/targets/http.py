"""A target reached over HTTP with requests: timeouts on every call, bodies read with a size and
time cap, redirects never followed, and nothing ever sent to a host other than the target's."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters

from conformance.targets.base import MAX_BODY_BYTES, Headers, Response
from conformance.verdict import TargetUnreachable

POOL_SIZE = 64  # connections kept per host; above the largest burst a check sends


class HttpTarget:
    abilities: frozenset[str] = frozenset()
    clock = None

    def __init__(self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 verify: bool | str = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = self.base_url
        self._origin = urlsplit(self.base_url)
        self._timeouts = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies or netrc credentials from the environment
        self._session.verify = verify
        # Concurrency checks send bursts from threads: keep their connections instead of warning.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

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
    ) -> Response:
        url = self.url_for(path)
        self._session.cookies.clear()  # every check states its cookies; none leak between checks
        started = time.perf_counter()
        try:
            answer = self._session.request(
                method, url, headers=dict(headers or {}), params=params,
                json=json_body if raw_body is None and form is None else None,
                data=raw_body if raw_body is not None else form,
                cookies=dict(cookies or {}), timeout=self._timeouts,
                allow_redirects=False, stream=True,
            )
        except requests.exceptions.SSLError as exc:
            raise TargetUnreachable(f"TLS handshake with {self.base_url} failed: {_short(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            raise TargetUnreachable(f"cannot connect to {self.base_url}: {_short(exc)}") from None
        except requests.exceptions.Timeout:
            raise TargetUnreachable(f"{self.base_url} did not answer within {self._timeouts[1]} s") from None
        except requests.exceptions.RequestException as exc:
            raise TargetUnreachable(f"request to {url} failed: {_short(exc)}") from None
        body, truncated = self._read_capped(answer, started)
        return Response(
            status=answer.status_code,
            headers=Headers(list(answer.raw.headers.items())),
            body=body,
            elapsed=time.perf_counter() - started,
            url=url,
            truncated=truncated,
        )

    def _read_capped(self, answer: requests.Response, started: float) -> tuple[bytes, bool]:
        # The read timeout bounds each socket read; the deadline bounds a body trickled slowly.
        deadline = started + self._timeouts[0] + 2 * self._timeouts[1]
        chunks, size, truncated = [], 0, False
        try:
            for chunk in answer.iter_content(chunk_size=16384):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES or time.perf_counter() > deadline:
                    truncated = True
                    break
        except (requests.exceptions.RequestException, OSError) as exc:
            if not chunks:
                raise TargetUnreachable(f"{self.base_url} broke off its answer: {_short(exc)}") from None
            truncated = True
        finally:
            answer.close()
        return b"".join(chunks)[:MAX_BODY_BYTES], truncated

    def restart(self) -> None:
        raise NotImplementedError("an HTTP target cannot be restarted by the suite")

    @contextmanager
    def store_down(self) -> Iterator[None]:
        raise NotImplementedError("an HTTP target's store cannot be controlled by the suite")
        yield

    def provision_user(self, *, username: str, password: str, tenant: str, role: str) -> str:
        raise NotImplementedError("an HTTP target's users are provisioned by the profile")

    def close(self) -> None:
        self._session.close()


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
