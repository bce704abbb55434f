"""A recording stand-in for a target, and a check context over a profile written to a file: what
the profile-shape tests share to see exactly what the suite would send."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance import profile
from conformance.context import CheckContext
from conformance.evidence import Redactor
from conformance.registry import get
from conformance.targets.base import Headers, Response


class RecordingTarget:
    """A target that records every request and answers with the next canned response."""

    name = base_url = "recording"
    abilities: frozenset[str] = frozenset()
    clock = None

    def __init__(self, *answers: tuple[int, Any, list[tuple[str, str]]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        self.requests.append({"method": method, "path": path, **kwargs})
        status, body, headers = self.answers.pop(0) if self.answers else (200, {}, [])
        raw = json.dumps(body).encode() if body is not None else b""
        return Response(status, Headers(headers), raw, 0.0)


def context(tmp_path: Path, text: str, target: RecordingTarget, environ: Mapping[str, str] | None = None
            ) -> CheckContext:
    path = tmp_path / "target.toml"
    path.write_text(text)
    loaded = profile.load(path, environ=environ or {})
    return CheckContext(get("TOK-SIG-BROKEN"), target, loaded, Redactor())  # type: ignore[arg-type]
