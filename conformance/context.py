"""What a check body gets: the target, the profile, helpers, and the evidence it is recording."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.api import Api
from conformance.evidence import Redactor, exchange_record
from conformance.minting import Minter
from conformance.profile import Profile
from conformance.registry import Check
from conformance.targets.base import Clock, Response, Target
from conformance.users import Users
from conformance.verdict import CheckFailed, ControlFailed, NotApplicable, TargetUnreachable

# Evidence kept per check: the first exchanges set the scene, the last ones decide the verdict.
EVIDENCE_HEAD, EVIDENCE_TAIL = 6, 14


class CheckContext:
    def __init__(self, check: Check, target: Target, profile: Profile, redactor: Redactor,
                 minter: Minter | None = None) -> None:
        self.check = check
        self.target = target
        self.profile = profile
        self.redactor = redactor
        self.minter = minter
        self.evidence: list[dict[str, Any]] = []
        self.exchanges = 0
        self.details: dict[str, Any] = {}
        self.last_response: Response | None = None  # what the target last answered (diagnosis of errors)
        self.api = Api(self)
        self.users = Users(self)

    @property
    def clock(self) -> Clock:
        if self.target.clock is None:
            raise NotApplicable("needs a controllable clock")
        return self.target.clock

    # -------------------------------------------------------------- talking to the target
    def send(self, method: str, path: str, *, note: str = "", headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None, json_body: Any = None,
             form: Mapping[str, str] | None = None, raw_body: bytes | None = None,
             cookies: Mapping[str, str] | None = None, worker: int = 0) -> Response:
        request_body: bytes | str | None = raw_body
        if form is not None:
            request_body = "&".join(f"{k}={v}" for k, v in form.items())
        elif json_body is not None:
            request_body = _json_text(json_body)
        shown_headers = dict(headers or {})
        if cookies:
            shown_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            response = self.target.request(method, path, headers=headers, params=params,
                                           json_body=json_body, form=form, raw_body=raw_body,
                                           cookies=cookies, worker=worker)
        except TargetUnreachable as exc:
            self._keep(exchange_record(self.redactor, note=note, method=method, url=path,
                                       request_headers=shown_headers, request_body=request_body,
                                       status=None, response_headers={}, response_body=None,
                                       error=str(exc)))
            raise
        self.last_response = response
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        self._keep(exchange_record(self.redactor, note=note, method=method, url=url,
                                   request_headers=shown_headers, request_body=request_body,
                                   status=response.status, response_headers=response.headers.as_dict(),
                                   response_body=response.body))
        return response

    def _keep(self, record: dict[str, Any]) -> None:
        self.exchanges += 1
        record["n"] = self.exchanges
        self.evidence.append(record)
        if len(self.evidence) > EVIDENCE_HEAD + EVIDENCE_TAIL:
            del self.evidence[EVIDENCE_HEAD]

    def redact(self, *secrets: str) -> None:
        """Register secrets learnt from an answer (a leaked private key, say) and mask them in the
        evidence already kept, which was recorded before anyone knew they were secrets."""
        self.redactor.add(*secrets)
        self.evidence = [_scrubbed(self.redactor, record) for record in self.evidence]

    # -------------------------------------------------------------- verdict helpers
    def control(self, condition: bool, reason: str) -> None:
        """A negative control: when it does not hold, the check cannot judge (verdict error)."""
        if not condition:
            raise ControlFailed(f"negative control failed: {reason}")

    def expect(self, condition: bool, reason: str) -> None:
        """The rule itself: when it does not hold, the check fails with ``reason``."""
        if not condition:
            raise CheckFailed(reason)

    def require(self, *abilities: str) -> None:
        missing = [a for a in abilities if a not in self.target.abilities]
        if missing:
            raise NotApplicable(f"needs target abilities {', '.join(missing)}")

    def require_minter(self) -> Minter:
        if self.minter is None:
            raise NotApplicable("needs the target's signing key ([signing] in the profile)")
        return self.minter

    def baseline(self, tokens: Any) -> None:
        """The two standard controls: the valid token is accepted, no token is refused with 401."""
        me = self.api.me(tokens, note="control: valid token")
        self.control(200 <= me.status < 300, f"a valid access token was refused ({me.status})")
        anonymous = self.api.call("me", note="control: no token")
        self.control(anonymous.status == 401, f"a request without a token answered {anonymous.status}")


def _scrubbed(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {key: _scrubbed(redactor, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(redactor, item) for item in value]
    return value


def _json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
