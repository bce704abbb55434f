"""The bundled reference, in this process: Flask's test client and a frozen clock.

One ``InProcessTarget`` is one fresh deployment of the reference (its own database and store),
so checks are isolated from each other. It can do what no remote target allows: move the clock
(freezegun; nothing sleeps), run several "workers" (app instances sharing the store and database,
as gunicorn workers would), restart (new app instances, same store), take the store down, and
provision users of any role directly.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# freezegun_api.real_perf_counter is read through the module at call time: while a freeze is
# active freezegun swaps a real clock held by any other module for its frozen one.
from freezegun import api as freezegun_api
from freezegun import freeze_time
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from conformance.minting import SigningKey
from conformance.targets.base import Headers, Response
from reference_impl import Config, create_app
from reference_impl.memory_store import MemoryStore
from reference_impl.store import StoreUnavailable
from reference_impl.users import provision_user

WORKERS = 2
# A fixed, ordinary start instant keeps runs reproducible.
EPOCH = dt.datetime(2030, 1, 7, 9, 0, 0, tzinfo=dt.UTC)


@functools.cache
def settle_cryptography_datetime() -> None:
    """cryptography remembers the datetime type the first time it converts a date; were that first
    time under a frozen clock, it would remember freezegun's FakeDatetime and refuse every real
    datetime afterwards (a TLS test after an in-process run, say). So convert one real date first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authconform")])
    day = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(day).not_valid_after(day + dt.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    assert certificate.not_valid_after_utc > day  # the way back, Rust to Python, converts too


class FrozenClock:
    def __init__(self) -> None:
        self._freezer = freeze_time(EPOCH, tick=False, ignore=["hypothesis"])
        self._frozen: Any = None

    def start(self) -> None:
        settle_cryptography_datetime()
        self._frozen = self._freezer.start()

    def stop(self) -> None:
        self._freezer.stop()

    def now(self) -> float:
        return float(self._frozen().timestamp())

    def reset(self) -> None:
        """Back to the start instant, for a new target that takes this running clock over."""
        self._frozen.move_to(EPOCH)

    def advance(self, seconds: float) -> None:
        self._frozen.tick(dt.timedelta(seconds=seconds))


class SwitchableStore:
    """Forwards to the real store, or raises StoreUnavailable while switched off."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreUnavailable("store switched off by the suite")
            return attr(*args, **kwargs)

        return call


def signing_key_of(app: Any) -> SigningKey:
    """The reference's own signing key, so in-process checks can mint tokens."""
    keys = app.extensions["authconform"].keys
    return SigningKey(keys.algorithm, keys.minting_key, keys.kid)


class InProcessTarget:
    base_url = "inprocess://reference"
    abilities = frozenset({"clock", "workers", "restart", "store_control", "provision"})

    def __init__(self, config: Config, *, clock: FrozenClock | None = None) -> None:
        """With ``clock``, a running clock a closed target handed over (``hand_over_clock``), set back
        to the start instant: starting and stopping freezegun scans every loaded module each time."""
        self.name = "reference (in-process)"
        self.config = config
        if clock is None:
            clock = FrozenClock()
            clock.start()
        else:
            clock.reset()
        self.clock = clock
        self._clock_handed_over = False
        self._store = SwitchableStore(MemoryStore())
        self._engine = create_engine(config.database_url, poolclass=StaticPool,
                                     connect_args={"check_same_thread": False})
        self._apps: list[Any] = []
        self.restart()

    def restart(self) -> None:
        self._apps = [create_app(self.config, store=self._store, engine=self._engine)
                      for _ in range(WORKERS)]
        self._clients = [app.test_client(use_cookies=False) for app in self._apps]

    @property
    def app(self) -> Any:
        return self._apps[0]

    @contextmanager
    def store_down(self) -> Iterator[None]:
        self._store.down = True
        try:
            yield
        finally:
            self._store.down = False

    def provision_user(self, *, username: str, password: str, tenant: str, role: str) -> str:
        return str(provision_user(self.app, username=username, password=password, tenant=tenant, role=role))

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
        client = self._clients[worker % len(self._clients)]
        request_headers = dict(headers or {})
        remote_addr = request_headers.pop("X-Authconform-Remote-Addr", "127.0.0.1")
        if cookies:
            request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        kwargs: dict[str, Any] = {"headers": request_headers, "query_string": dict(params or {}),
                                  "environ_base": {"REMOTE_ADDR": remote_addr}}
        if raw_body is not None:
            kwargs["data"] = raw_body
        elif form is not None:
            kwargs["data"] = dict(form)
        elif json_body is not None:
            kwargs["json"] = json_body
        started = freezegun_api.real_perf_counter()
        answer = client.open(path, method=method, **kwargs)
        body = answer.get_data()
        return Response(
            status=answer.status_code,
            headers=Headers(list(answer.headers.to_wsgi_list())),
            body=body,
            elapsed=freezegun_api.real_perf_counter() - started,
            url=path,
        )

    def hand_over_clock(self) -> FrozenClock:
        """Close this target, leaving its clock running for the next one to take over."""
        self._clock_handed_over = True
        self.close()
        return self.clock

    def close(self) -> None:
        if not self._clock_handed_over:
            self.clock.stop()
        self._engine.dispose()
