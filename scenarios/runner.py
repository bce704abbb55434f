"""Scenarios as entries of the one registry, run by the one runner, and their transcripts.

Each story (``scenarios.catalog.Scenario``) is an entry of ``conformance.registry`` of kind
"scenario", id ``scenario:NAME``, whose body plays the story's steps through the ``CheckContext``
the runner hands it. ``conformance.runner.run_check`` runs it as it runs any check: it settles the
needs first, maps how the body ended to a verdict, settles the declared controls (a set-up login
is the ``valid-login`` control) and keeps the evidence; reports take the result as they take a
check's. What is the story's own is the record of its steps: the body writes one line per step
to ``details["scenario_steps"]`` (the step as written, the request it judged, the status, what
was expected, the verdict), and the transcript is rendered from that. Secrets never reach it:
steps, paths and reasons pass through the deployment's redactor, and bodies and headers are not
shown at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance import registry
from conformance.context import CheckContext
from conformance.errors import UsageError
from conformance.profile import Profile
from conformance.registry import Check, Severity
from conformance.runner import Deployment, run_check
from conformance.verdict import CheckOutcome, NotApplicable, Result, TargetUnreachable, Verdict
from scenarios.catalog import Scenario, all_scenarios
from scenarios.steps import ScenarioError, StepLog, World

log = logging.getLogger("authconform.scenarios")

ID_PREFIX = "scenario:"
STEPS_DETAIL = "scenario_steps"
FAILED_STEP_DETAIL = "scenario_failed_step"


# ---------------------------------------------------------------------------- registry entries

@dataclass(frozen=True, eq=False)
class Play:
    """The body of a scenario's registry entry: play the story on the context it is given."""

    scenario: Scenario

    def __call__(self, ctx: CheckContext) -> None:
        play(self.scenario, ctx)


def entry(scenario: Scenario) -> Check:
    """The registry entry of ``scenario`` (built, not registered: see ``register_all``)."""
    return registry.entry(
        ID_PREFIX + scenario.name, kind=registry.SCENARIO,
        area=registry.area_of_section(next(iter(scenario.contract))),
        title=scenario.title, rule="; ".join(scenario.contract.values()), severity=Severity.HIGH,
        references=scenario.checks, needs=scenario.needs, body=Play(scenario),
        controls=scenario.controls, no_controls=scenario.no_controls,
        # A story names the limiter's answers where it expects them ("rate-limited"): they reach
        # its steps unchanged, and a "refused" step never takes a 429 for one.
        counts_limits=True, about=scenario.describe())


def register_all() -> list[Check]:
    """Register every bundled story (once); the registry's scenario entries, in report order."""
    known = {c.id for c in registry.all_checks(kind=registry.SCENARIO)}
    for scenario in all_scenarios():
        if ID_PREFIX + scenario.name not in known:
            registry.register(entry(scenario))
    return registry.all_checks(kind=registry.SCENARIO)


def scenario_check(scenario: Scenario) -> Check:
    """The registered entry of a bundled story; a story from a file (or changed in a test) gets an
    entry built the same way, outside the catalog."""
    register_all()
    try:
        known = registry.get(ID_PREFIX + scenario.name)
    except registry.SelectionError:
        known = None
    if known is not None and isinstance(known.body, Play) and known.body.scenario == scenario:
        return known
    return entry(scenario)


def scenario_of(check: Check) -> Scenario:
    if not isinstance(check.body, Play):
        raise ValueError(f"{check.id} is not a scenario")
    return check.body.scenario


# ---------------------------------------------------------------------------- the body

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


def play(scenario: Scenario, ctx: CheckContext) -> None:
    """Play the steps in order; the first that ends otherwise than in "ok" ends the body the same
    way (the runner maps it to the verdict), the steps after it are not run."""
    problems = unmet_assumptions(scenario, ctx.profile)
    if problems:
        raise NotApplicable("needs " + "; ".join(f"profile {p}" for p in problems))
    world = World(ctx)
    redact = ctx.redactor.text
    lines: list[dict[str, Any]] = []
    ctx.details[STEPS_DETAIL] = lines
    for number, step in enumerate(scenario.steps, 1):
        world.log = StepLog(first=ctx.exchanges)
        try:
            step.run(world)
        except Exception as exc:
            verdict, reason = _step_verdict(exc)
            lines.append(asdict(_step_result(world, number, redact(step.source()), verdict, redact(reason), step.op)))
            lines += [asdict(StepResult(n, redact(later.source()), "not run"))
                      for n, later in enumerate(scenario.steps[number:], number + 1)]
            ctx.details[FAILED_STEP_DETAIL] = number
            raise
        lines.append(asdict(_step_result(world, number, redact(step.source()), "ok", "", step.op)))


_STEP_VERDICT = {Verdict.FAIL: "FAIL", Verdict.ERROR: "ERROR", Verdict.NOT_APPLICABLE: "N/A",
                 Verdict.NON_STRICT: "FAIL", Verdict.PASS: "ok"}


def _step_verdict(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, CheckOutcome):
        return _STEP_VERDICT[exc.verdict], exc.reason
    if isinstance(exc, TargetUnreachable):
        return "ERROR", f"target unreachable: {exc}"
    if isinstance(exc, ScenarioError):
        return "ERROR", f"scenario error: {exc}"
    return "ERROR", f"harness error: {type(exc).__name__}: {exc}"  # the runner logs its traceback


def _step_result(world: World, number: int, text: str, verdict: str, reason: str, op: str) -> StepResult:
    step_log = world.log
    shown = step_log.judged or world.last_exchange()
    result = StepResult(number, text, verdict, reason=reason, expected=step_log.expected,
                        action=step_log.action, summary=step_log.summary)
    if shown is not None:
        result.request = f"{shown.method} {shown.url}"
        result.status = shown.status if step_log.judged is None else step_log.status
        result.more_requests = world.requests() - 1
    if op == "note" and verdict == "ok":
        result.verdict = ""
    return result


# ---------------------------------------------------------------------------- results

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
    result: Result | None = None  # the runner's result (evidence, controls), as a report takes it

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def transcript(self) -> str:
        return render(self)

    @classmethod
    def of(cls, scenario: Scenario, target_name: str, result: Result) -> ScenarioResult:
        """The story's view of the runner's result: its steps, where it ended."""
        recorded = result.details.get(STEPS_DETAIL)
        steps = ([StepResult(**line) for line in recorded] if recorded
                 else [StepResult(n, step.source(), "not run") for n, step in enumerate(scenario.steps, 1)])
        return cls(scenario, target_name, result.verdict, result.reason, result.details.get(FAILED_STEP_DETAIL),
                   steps, result.duration, result.reason.startswith("target unreachable"), result)


def run_scenario(scenario: Scenario, deployment: Deployment) -> ScenarioResult:
    """Run the story's registry entry with the one runner (``conformance.runner.run_check``)."""
    return ScenarioResult.of(scenario, deployment.target.name, run_check(scenario_check(scenario), deployment))


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
