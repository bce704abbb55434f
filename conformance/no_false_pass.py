"""The no-false-pass matrix: every fault of the catalog under each condition of the reference.

The kill matrix (``conformance.selftest``) proves each check can fail. This one proves a check
never passes when it could not judge: under a condition (a tight limiter, single-use tokens, a
503 now and then, slow answers) the check that must catch a fault may say fail, error or
partial, never pass; and the clean reference under a condition may say pass, partial, error or
not applicable, never fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance import registry
from conformance.deployments import condition_catalog, fault_catalog, faults_by_name
from conformance.selftest import CLEAN, Matrix, Task, config_key
from conformance.verdict import Verdict

# The part CI runs in-process on every push (the whole matrix runs in the nox session
# `no_false_pass`): the faults the issue named, across the areas that judge refusals.
REPRESENTATIVE_FAULTS = ("accept-alg-none", "skip-signature-check", "logout-client-side-only",
                         "role-from-token", "refresh-reuse-accepted", "ignore-exp")
FAILING = (str(Verdict.FAIL), str(Verdict.NON_STRICT))


def plan(conditions: Iterable[str] | None = None, faults: Iterable[str] | None = None) -> list[Task]:
    """Per condition: the clean reference with every check, and each fault with its own checks."""
    names = list(conditions) if conditions else [c.name for c in condition_catalog()]
    chosen = [faults_by_name()[name] for name in faults] if faults else list(fault_catalog())
    known = {c.id for c in registry.all_checks()}
    tasks: list[Task] = []
    for condition in names:
        tasks.append(Task(CLEAN, (), tuple(sorted(known)), condition))
        for fault in chosen:
            checks = tuple(c for c in fault.caught_by if c in known)
            tasks.append(Task(fault.name, config_key(dict(fault.config)), checks, condition))
    return tasks


def build(matrix: Matrix) -> dict[str, Any]:
    broken = {c.name: set(c.breaks) for c in condition_catalog()}
    false_passes: list[dict[str, str]] = []
    false_failures: list[dict[str, str]] = []
    cells: dict[str, dict[str, int]] = {}
    for outcome in matrix.outcomes:
        row = cells.setdefault(outcome.condition, {"fault_checks": 0, "false_passes": 0, "clean_checks": 0,
                                                   "false_failures": 0})
        for check_id, verdict in outcome.verdicts.items():
            entry = {"condition": outcome.condition, "fault": outcome.fault or "(clean)", "check": check_id,
                     "verdict": verdict, "reason": outcome.reasons.get(check_id, "")}
            if outcome.fault == CLEAN:
                row["clean_checks"] += 1
                if verdict in FAILING and check_id not in broken.get(outcome.condition, set()):
                    row["false_failures"] += 1
                    false_failures.append(entry)
            else:
                row["fault_checks"] += 1
                if verdict == str(Verdict.PASS):
                    row["false_passes"] += 1
                    false_passes.append(entry)
    return {
        "conditions": cells,
        "false_passes": false_passes,
        "false_failures": false_failures,
        "seconds": round(matrix.seconds, 1),
    }


def passed(summary: dict[str, Any]) -> bool:
    return not summary["false_passes"] and not summary["false_failures"]
