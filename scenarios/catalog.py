"""Scenario files and the list of them.

A scenario is one small Python module (the bundled ones live in ``scenarios/stories/``) that
declares, at module level:

- ``title``: one line; ``threat``: what the attacker or the accident is, in plain words;
- ``contract``: {section number: the rule(s) of that section it touches}; ``checks``: check ids;
- ``needs``: profile capabilities and target abilities, as a check's ``needs``;
- ``assumes`` (optional): profile values the story only makes sense with, e.g.
  ``{"tokens.algorithm": ("RS256",)}``; otherwise it is not applicable, with that reason;
- ``reference_config`` (optional): settings for the bundled reference when the scenario runs
  in-process (e.g. an RSA algorithm), so the story can be told there;
- ``caught_by_faults``: faults of ``reference_impl/faults.py`` the story must fail against;
- ``side_effects`` (optional): what the story leaves behind on a shared target (e.g. the client
  IP locked out of login for a window); such stories run last when several run together;
- ``controls`` / ``no_controls`` (optional): as on ``@check``. A story with a set-up login (a
  ``login`` at its default expectation with the right password) has the ``valid-login`` control
  without saying so; a story without one says in ``no_controls`` why (a failure of it is then
  weighed against a fresh witness login, as a check without controls is);
- ``steps``: the story, in the vocabulary of ``scenarios.steps``.

Each story is an entry of the one registry (kind "scenario", id ``scenario:NAME``): see
``scenarios.runner``.

The scenario's name is its file name with dashes (``stolen_refresh_replay.py`` is
``stolen-refresh-replay``).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from conformance.errors import UsageError
from scenarios.steps import Step

STORIES_PACKAGE = "scenarios.stories"
STORIES_DIR = Path(__file__).with_name("stories")
REQUIRED = ("title", "threat", "contract", "checks", "needs", "steps")


class ScenarioFileError(Exception):
    def __init__(self, source: str, field_name: str, problem: str, fix: str) -> None:
        super().__init__(f"{source}: {field_name}: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    threat: str
    contract: Mapping[str, str]
    checks: tuple[str, ...]
    needs: frozenset[str]
    steps: tuple[Step, ...]
    caught_by_faults: tuple[str, ...] = ()
    assumes: Mapping[str, Any] = field(default_factory=dict)
    reference_config: Mapping[str, Any] = field(default_factory=dict)
    side_effects: str = ""
    source: str = ""
    controls: frozenset[str] = frozenset()
    no_controls: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "threat": self.threat,
                "contract": dict(self.contract), "checks": list(self.checks), "needs": sorted(self.needs),
                "caught_by_faults": list(self.caught_by_faults), "steps": [s.source() for s in self.steps],
                "controls": sorted(self.controls), **({"no_controls": self.no_controls} if self.no_controls else {}),
                "source": self.source}


def name_of(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1].replace("_", "-")


def from_module(module: ModuleType, name: str | None = None) -> Scenario:
    source = getattr(module, "__file__", None) or module.__name__
    for attribute in REQUIRED:
        if not hasattr(module, attribute):
            raise ScenarioFileError(source, attribute, "missing", f"declare `{attribute} = ...` at module level")
    steps = tuple(module.steps)
    bad = [s for s in steps if not isinstance(s, Step)]
    if bad or not steps:
        raise ScenarioFileError(source, "steps", "must be a non-empty list of step calls",
                                "build steps with the functions of scenarios.steps")
    contract = dict(module.contract)
    if not contract or not all(isinstance(k, str) and isinstance(v, str) for k, v in contract.items()):
        raise ScenarioFileError(source, "contract", "must map section numbers to rule sentences",
                                'e.g. contract = {"2": "refresh rotates ..."}')
    no_controls = " ".join(str(getattr(module, "no_controls", "")).split())
    controls = frozenset(getattr(module, "controls", ()))
    if not controls and not no_controls and any(step.is_control_login for step in steps):
        controls = frozenset({"valid-login"})
    if bool(controls) == bool(no_controls):
        raise ScenarioFileError(source, "no_controls", "the story has no set-up login with the right password "
                                "(the valid-login control)" if not controls else "declared with controls",
                                "say in `no_controls = ...` why its set-up steps are enough, or add a "
                                "set-up login" if not controls else "declare one of the two")
    return Scenario(
        name=name or name_of(module.__name__),
        title=str(module.title),
        threat=" ".join(str(module.threat).split()),
        contract=contract,
        checks=tuple(module.checks),
        needs=frozenset(module.needs),
        steps=steps,
        caught_by_faults=tuple(getattr(module, "caught_by_faults", ())),
        assumes=dict(getattr(module, "assumes", {})),
        reference_config=dict(getattr(module, "reference_config", {})),
        side_effects=str(getattr(module, "side_effects", "")),
        source=source,
        controls=controls,
        no_controls=no_controls,
    )


def all_scenarios() -> list[Scenario]:
    package = importlib.import_module(STORIES_PACKAGE)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        found.append(from_module(importlib.import_module(f"{STORIES_PACKAGE}.{info.name}")))
    return found


def load_file(path: str | Path) -> Scenario:
    """A scenario from any file (e.g. one saved from a stateful-model run)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioFileError(str(path), "file", "not found", "give the path of a scenario .py file")
    module_name = f"_authconform_scenario_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    return from_module(module, name=path.stem.replace("_", "-"))


def get(name_or_path: str) -> Scenario:
    """A bundled scenario by name, or a scenario file by path."""
    if name_or_path.endswith(".py") or "/" in name_or_path:
        return load_file(name_or_path)
    scenarios = {s.name: s for s in all_scenarios()}
    wanted = name_or_path.replace("_", "-")
    if wanted not in scenarios:
        raise UsageError(f"no scenario named {name_or_path!r}; see `authconform scenario list`")
    return scenarios[wanted]
