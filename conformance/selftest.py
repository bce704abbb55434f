"""The self-test: proof that every check catches the vulnerability it exists for.

The suite runs against the clean reference (every check must pass or be not applicable) and
against the reference with each fault of the catalog switched on (the checks the fault names must
fail: verdict fail for a MUST rule, non-strict for a SHOULD rule, ``killing_verdict``). A fault's
configuration (say RS256 for key confusion) is also run clean, so a kill is never an artefact of
the configuration. The result is the kill matrix: faults x checks.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from conformance import registry
from conformance.verdict import Verdict

CLEAN = ""  # the name a clean run carries in place of a fault


def killing_verdict(check_id: str) -> str:
    """The verdict with which a check catches its fault: a broken MUST fails, a broken SHOULD is
    non-strict (the verdict the check's level gives any failure it finds)."""
    try:
        level = registry.get(check_id).level
    except registry.SelectionError:  # a fault naming no check: build() reports it as such
        return str(Verdict.FAIL)
    return str(Verdict.NON_STRICT if level is registry.Level.SHOULD else Verdict.FAIL)


@dataclass(frozen=True)
class Task:
    fault: str  # CLEAN for a clean run
    config: tuple[tuple[str, Any], ...]
    check_ids: tuple[str, ...]
    condition: str = ""  # a condition of reference_impl/conditions.py the run is under, or none


@dataclass
class Outcome:
    fault: str
    config: dict[str, Any]
    verdicts: dict[str, str]
    reasons: dict[str, str]
    seconds: float
    condition: str = ""

    def headline(self) -> str:
        """One progress line: a fault killed or not, or a clean run clean or not."""
        if self.fault == CLEAN:
            fine = (str(Verdict.PASS), str(Verdict.NOT_APPLICABLE))
            bad = sorted(c for c, v in self.verdicts.items() if v not in fine)
            label = "clean " + (str(self.config) if self.config else "default config")
            return f"{label}: " + (f"NOT CLEAN ({', '.join(bad)})" if bad else f"{len(self.verdicts)} checks clean")
        from conformance.deployments import faults_by_name

        missed = [c for c in faults_by_name()[self.fault].caught_by if self.verdicts.get(c) != killing_verdict(c)]
        return f"{self.fault}: " + (f"NOT KILLED (missed {', '.join(missed)})" if missed else "killed")


def config_key(config: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(config.items()))


def plan(fault_names: Iterable[str] | None = None, *, full: bool = False) -> list[Task]:
    """Clean runs (one per distinct fault configuration) and one run per fault.

    Per fault the named checks run, plus (for collateral) every check of the same areas, or every
    check at all with ``full``.
    """
    from conformance.deployments import fault_catalog, faults_by_name

    by_name = faults_by_name()
    faults = [by_name[name] for name in fault_names] if fault_names else list(fault_catalog())
    checks = registry.all_checks()
    known = {c.id for c in checks}
    tasks: list[Task] = []
    clean_checks: dict[tuple[tuple[str, Any], ...], set[str]] = {(): set(known)}
    for fault in faults:
        named = [c for c in fault.caught_by if c in known]
        areas = {registry.get(c).area for c in named}
        chosen = known if full else {c.id for c in checks if c.area in areas} | set(named)
        key = config_key(dict(fault.config))
        clean_checks.setdefault(key, set()).update(named)
        tasks.append(Task(fault.name, key, tuple(sorted(chosen))))
    clean = [Task(CLEAN, key, tuple(sorted(ids))) for key, ids in clean_checks.items()]
    return clean + tasks


def execute(task: Task) -> Outcome:
    """Run one task in this process (the unit handed to worker processes)."""
    from conformance.checks.stateful import without_shrinking
    from conformance.deployments import in_process_source, reference_config
    from conformance.profile import load
    from conformance.runner import run_check

    # Each check starts a fresh reference, which warns that faults are on, and a fault may make it
    # log a 500 it was built to give: known here, judged by the checks, so quiet unless -v.
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("reference_impl").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    faults = frozenset({task.fault}) if task.fault else frozenset()
    conditions = frozenset({task.condition}) if task.condition else frozenset()
    config = reference_config(faults, conditions, **dict(task.config))
    source = in_process_source(load(), config)
    verdicts, reasons = {}, {}
    try:
        for check_id in task.check_ids:
            check = registry.get(check_id)
            with without_shrinking():  # a kill needs no shortest sequence
                result = run_check(check, source(check))
            verdicts[check_id] = str(result.verdict)
            reasons[check_id] = result.reason
    finally:
        source.close()  # type: ignore[attr-defined]
    return Outcome(task.fault, dict(task.config), verdicts, reasons, time.perf_counter() - started,
                   task.condition)


@dataclass
class Matrix:
    outcomes: list[Outcome]
    seconds: float
    checks: list[str] = field(default_factory=list)

    def build(self) -> dict[str, Any]:
        from conformance.deployments import fault_catalog, faults_by_name

        by_name = faults_by_name()
        known = {c.id for c in registry.all_checks()}
        clean_problems = []
        faults = []
        # Judged over the whole catalog, so a run of a few faults does not list every other check.
        named_somewhere = {c for fault in fault_catalog() for c in fault.caught_by}
        for outcome in self.outcomes:
            if outcome.fault == CLEAN:
                for check_id, verdict in outcome.verdicts.items():
                    if verdict not in (str(Verdict.PASS), str(Verdict.NOT_APPLICABLE)):
                        clean_problems.append({"check": check_id, "config": outcome.config,
                                               "verdict": verdict, "reason": outcome.reasons[check_id]})
                continue
            fault = by_name[outcome.fault]
            expected = {c: outcome.verdicts.get(c, "not run") for c in fault.caught_by}
            missed = [c for c, v in expected.items() if v != killing_verdict(c)]
            collateral = sorted(c for c, v in outcome.verdicts.items()
                                if c not in fault.caught_by and v in (str(Verdict.FAIL), str(Verdict.ERROR)))
            faults.append({
                "fault": fault.name, "section": fault.section, "imitates": fault.imitates,
                "expected": expected, "killed": not missed, "missed": missed,
                "missed_reasons": {c: outcome.reasons.get(c, "") for c in missed},
                "collateral": collateral, "seconds": round(outcome.seconds, 2),
            })
        killed = sum(1 for f in faults if f["killed"])
        unknown = sorted({c for f in faults for c in cast(dict[str, str], f["expected"]) if c not in known})
        return {
            "checks": len(known),
            "faults": len(faults),
            "killed": killed,
            "kill_rate": round(killed / len(faults), 4) if faults else 0.0,
            "clean_failures": clean_problems,
            "checks_without_fault": sorted(known - named_somewhere),
            "faults_naming_unknown_checks": unknown,
            "matrix": faults,
            "seconds": round(self.seconds, 1),
        }


def run(tasks: list[Task], *, workers: int | None = None,
        progress: Callable[[Outcome, int, int], None] | None = None) -> Matrix:
    workers = workers or min(2, os.cpu_count() or 1)
    started = time.perf_counter()
    outcomes = []
    if workers <= 1:
        for index, task in enumerate(tasks, 1):
            outcomes.append(execute(task))
            if progress:
                progress(outcomes[-1], index, len(tasks))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for index, outcome in enumerate(pool.map(execute, tasks), 1):
                outcomes.append(outcome)
                if progress:
                    progress(outcome, index, len(tasks))
    return Matrix(outcomes, time.perf_counter() - started)


def passed(summary: dict[str, Any], *, complete: bool) -> bool:
    """A self-test passes when every fault is killed and the clean runs are clean; a complete one
    (all faults) also needs every check to be named by some fault."""
    ok = summary["kill_rate"] == 1.0 and not summary["clean_failures"] and not summary[
        "faults_naming_unknown_checks"]
    return ok and (not complete or not summary["checks_without_fault"])
