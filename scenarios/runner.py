"""Plays a scenario against a deployment and writes its transcript.

The deployment is the checks' own (``conformance.runner.Deployment``: a target, its profile, its
signing key and redactor), so a scenario sees exactly what a check would. The transcript has one
line per step: the step as written, the request it judged (method and path), the status, what was
expected and the verdict. Secrets never reach it: paths pass through the deployment's redactor, and
request bodies and headers are not shown at all.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.context import CheckContext
from conformance.errors import UsageError
from conformance.profile import Profile
from conformance.registry import Check, Level, Severity
from conformance.runner import Deployment, unmet_needs
from conformance.targets.base import Response
from conformance.verdict import CheckOutcome, TargetUnreachable, Verdict
from scenarios.catalog import Scenario
from scenarios.steps import Exchange, ScenarioError, StepLog, World

log = logging.getLogger("authconform.scenarios")



def _elapsed() -> float:
    """Real seconds, also while the in-process target's clock is frozen. freezegun swaps every
    module-level reference to the real clock, so the real one is looked up in freezegun itself."""
    try:
        import freezegun.api
    except ImportError:  # pragma: no cover - freezegun is a dependency
        return time.perf_counter()
    return float(freezegun.api.real_perf_counter())


class ScenarioContext(CheckContext):
    """A check context that also tells the world about every exchange of the current step."""

    world: World | None = None

    def send(self, method: str, path: str, **kwargs: Any) -> Response:
        try:
            response = super().send(method, path, **kwargs)
        except TargetUnreachable:
            self._note(method, path, kwargs.get("params"), None)
            raise
        self._note(method, path, kwargs.get("params"), response.status)
        return response

    def _note(self, method: str, path: str, params: Mapping[str, str] | None, status: int | None) -> None:
        if self.world is None:
            return
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        self.world.log.exchanges.append(Exchange(method, self.redactor.text(url), status))


@dataclass
class StepResult:
    number: int
    text: str
    verdict: str  # ok, FAIL, ERROR, N/A, not run, or "" for narrative
    request: str = ""
    more_requests: int = 0
    status: int | None = None
    expected: str = ""
    action: str = ""
    summary: str = ""
    reason: str = ""


@dataclass
class ScenarioResult:
    scenario: Scenario
    target_name: str
    verdict: Verdict
    reason: str = ""
    failed_step: int | None = None
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    unreachable: bool = False

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def transcript(self) -> str:
        return render(self)


def scenario_check(scenario: Scenario) -> Check:
    """The registry-shaped stand-in a CheckContext needs (never registered)."""
    def body(_ctx: CheckContext) -> None:
        raise NotImplementedError

    return Check(id=f"scenario:{scenario.name}", area="properties", title=scenario.title,
                 rule="; ".join(scenario.contract.values()), level=Level.MUST, severity=Severity.HIGH,
                 references=tuple(scenario.checks), needs=scenario.needs, body=body,
                 # A story names the limiter's answers where it expects them ("rate-limited"):
                 # they reach its steps unchanged, and a "refused" step never takes a 429 for one.
                 no_controls="a story's set-up steps are its controls", counts_limits=True)


def unmet_assumptions(scenario: Scenario, profile: Profile) -> list[str]:
    problems = []
    for dotted, wanted in scenario.assumes.items():
        value: Any = profile
        for part in dotted.split("."):
            value = getattr(value, part, None)
        allowed = tuple(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else (wanted,)
        if value not in allowed:
            shown = " or ".join(str(a) for a in allowed)
            problems.append(f"{dotted} = {shown} (the profile has {value})")
    return problems


def run_scenario(scenario: Scenario, deployment: Deployment) -> ScenarioResult:
    started = _elapsed()
    check = scenario_check(scenario)
    result = ScenarioResult(scenario, deployment.target.name, Verdict.PASS)
    missing = unmet_needs(check, deployment)
    missing += [f"profile {p}" for p in unmet_assumptions(scenario, deployment.profile)]
    if missing:
        result.verdict, result.reason = Verdict.NOT_APPLICABLE, "needs " + "; ".join(missing)
        result.steps = [StepResult(n, s.source(), "not run") for n, s in enumerate(scenario.steps, 1)]
        return result
    ctx = ScenarioContext(check, deployment.target, deployment.profile, deployment.redactor,
                          deployment.minter())
    world = World(ctx)
    ctx.world = world
    redact = deployment.redactor.text
    for number, step in enumerate(scenario.steps, 1):
        text = redact(step.source())
        if result.verdict is not Verdict.PASS:
            result.steps.append(StepResult(number, text, "not run"))
            continue
        world.log = StepLog()
        verdict, reason = "ok", ""
        try:
            step.run(world)
        except CheckOutcome as outcome:
            verdict, reason = _STEP_VERDICT[outcome.verdict], outcome.reason
            result.verdict = outcome.verdict
        except TargetUnreachable as exc:
            verdict, reason = "ERROR", f"target unreachable: {exc}"
            result.verdict, result.unreachable = Verdict.ERROR, True
        except ScenarioError as exc:
            verdict, reason = "ERROR", f"scenario error: {exc}"
            result.verdict = Verdict.ERROR
        except Exception as exc:  # a harness bug or an answer the step could not handle
            log.debug("scenario %s step %d raised\n%s", scenario.name, number, traceback.format_exc())
            verdict, reason = "ERROR", f"harness error: {type(exc).__name__}: {exc}"
            result.verdict = Verdict.ERROR
        result.steps.append(_step_result(number, text, verdict, redact(reason), world.log, step.op))
        if result.verdict is not Verdict.PASS:
            result.reason, result.failed_step = redact(reason), number
    result.seconds = _elapsed() - started
    return result


_STEP_VERDICT = {Verdict.FAIL: "FAIL", Verdict.ERROR: "ERROR", Verdict.NOT_APPLICABLE: "N/A",
                 Verdict.NON_STRICT: "FAIL", Verdict.PASS: "ok"}


def _step_result(number: int, text: str, verdict: str, reason: str, step_log: StepLog, op: str) -> StepResult:
    shown = step_log.judged or (step_log.exchanges[-1] if step_log.exchanges else None)
    result = StepResult(number, text, verdict, reason=reason, expected=step_log.expected,
                        action=step_log.action, summary=step_log.summary)
    if shown is not None:
        result.request = f"{shown.method} {shown.url}"
        result.status = shown.status if step_log.judged is None else step_log.status
        result.more_requests = len(step_log.exchanges) - 1
    if op == "note" and verdict == "ok":
        result.verdict = ""
    return result


# ---------------------------------------------------------------------------- transcript

STEP_WIDTH = 52  # longer steps get a line of their own, the request columns below them
WRAP = 100


def render(result: ScenarioResult) -> str:
    scenario = result.scenario
    contract = "; ".join(f"§{section} {rule}" for section, rule in scenario.contract.items())
    lines = [f"scenario {scenario.name}: {scenario.title}",
             *_wrapped("threat:", scenario.threat), *_wrapped("contract:", contract),
             *_wrapped("checks:", ", ".join(scenario.checks)), *_wrapped("target:", result.target_name), ""]
    rows = [_cells(step) for step in result.steps]
    header = ("#", "step", "request", "status", "expected", "verdict")
    columns = [header, *(r for r, step in zip(rows, result.steps, strict=True) if step.text[:5] != "note(")]
    widths = [max(len(row[i]) for row in columns) for i in range(6)]
    widths[1] = min(widths[1], STEP_WIDTH)
    lines.append(_row(header, widths))
    for row, step in zip(rows, result.steps, strict=True):
        if step.text.startswith("note(") and step.verdict in ("", "not run"):
            lines.append(f"  {row[0]:>{widths[0]}}  ~ {_note_text(step.text)}")
            continue
        if len(row[1]) > widths[1]:
            lines.append(f"  {row[0]:>{widths[0]}}  {row[1]}")
            row = ("", "", *row[2:])
        lines.append(_row(row, widths))
        indent = " " * (2 + widths[0] + 2)
        if step.summary and step.verdict != "not run":
            lines.append(f"{indent}  {step.summary}")
        if step.reason:
            lines.append(f"{indent}=> {step.reason}")
    lines += ["", _conclusion(result)]
    return "\n".join(lines)


def _cells(step: StepResult) -> tuple[str, str, str, str, str, str]:
    request = step.request + (f" (+{step.more_requests})" if step.more_requests else "")
    if not request and step.action and step.action != "note":
        request = step.action
    status = "" if step.status is None else str(step.status)
    return (str(step.number), step.text, request, status, step.expected, step.verdict)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    first = f"{cells[0]:>{widths[0]}}"
    rest = [cell.ljust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
    return ("  " + "  ".join([first, *rest])).rstrip()


def _note_text(source: str) -> str:
    import json

    try:
        return str(json.loads(source[len("note("):-1]))
    except ValueError:
        return source


def _wrapped(label: str, text: str) -> list[str]:
    import textwrap

    prefix = f"  {label:<10}"
    return textwrap.wrap(text, WRAP, initial_indent=prefix, subsequent_indent=" " * len(prefix)) or [prefix]


def _conclusion(result: ScenarioResult) -> str:
    took = f"({len(result.steps)} steps, {result.seconds:.2f} s)"
    if result.verdict is Verdict.PASS:
        return f"PASS {took}"
    where = f" at step {result.failed_step}" if result.failed_step else ""
    label = {Verdict.FAIL: "FAIL", Verdict.ERROR: "ERROR", Verdict.NOT_APPLICABLE: "NOT APPLICABLE",
             Verdict.NON_STRICT: "FAIL"}[result.verdict]
    return f"{label}{where}: {result.reason} {took}"


# ---------------------------------------------------------------------------- deployments

def reference_deployment(scenario: Scenario, profile: Profile, faults: Iterable[str] = ()) -> Deployment:
    """A fresh in-process reference for this scenario, with its reference settings and ``faults``.
    The caller closes ``deployment.target`` when done (it holds a frozen clock)."""
    from conformance.deployments import faults_by_name, in_process_source, reference_config

    chosen = frozenset(faults)
    settings: dict[str, Any] = dict(scenario.reference_config)
    by_name = faults_by_name()
    for name in sorted(chosen):
        if name not in by_name:
            raise UsageError(f"unknown fault {name!r} (see `authconform faults`)")
        settings.update(by_name[name].config)
    source = in_process_source(profile, reference_config(chosen, **settings))
    deployment = source(scenario_check(scenario))
    if chosen:
        deployment.target.name = f"{deployment.target.name} with faults {', '.join(sorted(chosen))}"
    return deployment


def run_on_reference(scenario: Scenario, profile: Profile, faults: Iterable[str] = ()) -> ScenarioResult:
    deployment = reference_deployment(scenario, profile, faults)
    try:
        return run_scenario(scenario, deployment)
    finally:
        deployment.target.close()
