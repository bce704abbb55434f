"""What the example-target tests share: a served target's description, and running the whole
suite against it the way a user would, with its profile."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from conformance import registry
from conformance.deployments import http_source
from conformance.profile import load
from conformance.runner import RunResult, run

REPO = Path(__file__).resolve().parent.parent.parent
PROFILES = REPO / "examples" / "profiles"


@dataclass
class Served:
    name: str
    url: str
    profile: Path
    environ: dict[str, str] = field(default_factory=dict)  # what the profile's ${VARS} read
    log: Path | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.environ}



def run_suite(profile_path: Path | str, environ: dict[str, str], **overrides: object) -> RunResult:
    profile = load(str(profile_path), environ=environ, overrides=dict(overrides))
    return run(registry.all_checks(), http_source(profile), profile=profile, target_name=profile.name)


def verdicts(result: RunResult) -> dict[str, str]:
    return {r.check_id: str(r.verdict) for r in result.results}
