"""Save a failing stateful-model run as a scenario file that replays as is.

The stateful check (``conformance/checks/stateful.py``) keeps, next to each readable line of the
sequence it ran, a structured record: the operation, its arguments and what the contract model
expected (``ctx.details["stateful_records"]`` for the shortest failing sequence). This module
turns those records into steps of ``scenarios.steps`` and writes them out as a scenario file. The
expectations written are the model's, not the target's answers: the saved story fails on the
target that broke the contract, and passes on one that keeps it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.profile import Profile
from conformance.verdict import Verdict
from scenarios.steps import Step, literal

STATEFUL_CHECK = "PROP-STATEFUL-MODEL"
# What the model's expectations mean as step expectations.
EXPECT = {"yes": "accepted", "no": "refused", "either": "any"}
TENANT = "t1"
ADMIN_DEVICE = "admin-console"


def story_name(username: str) -> str:
    """``u3-1a2b3c`` -> ``u3``, ``admin-9f8e7d6c`` -> ``admin``: the random part is the target's."""
    return re.sub(r"-[0-9a-f]{4,}$", "", username)


def steps_from_records(records: Iterable[dict[str, Any]]) -> list[Step]:
    """The scenario steps that replay a stateful-model sequence."""
    from scenarios import steps as s

    out: list[Step] = []
    documents = 0
    for record in records:
        op = record["op"]
        expect = EXPECT.get(str(record.get("expect", "either")), "any")
        if op == "sign_up":
            admin = story_name(record["user"])
            out += [s.tenant(TENANT, admin=admin), s.login(admin, as_=ADMIN_DEVICE)]
        elif op == "create_user":
            out.append(s.user(story_name(record["user"]), role=record["role"], by=ADMIN_DEVICE, expect=expect))
        elif op == "login":
            out.append(s.login(story_name(record["user"]), as_=record["session"], expect=expect))
        elif op == "use":
            role = record.get("role") if expect == "accepted" else None
            out.append(s.use(record["session"], expect=expect, **({"role": role} if role else {})))
        elif op == "refresh":
            out.append(s.refresh(record["session"], expect=expect))
        elif op == "reuse_old_refresh":
            out.append(s.replay_refresh(record["session"], generation=int(record["generation"]),
                                        as_=f"{record['session']}-thief", expect=expect))
        elif op == "logout":
            out.append(s.logout(record["session"], expect="any"))
        elif op == "logout_all":
            out.append(s.logout_all(record["session"], expect=_unless_limited(expect)))
        elif op == "change_password":
            out.append(s.change_password(record["session"], expect="any"))
        elif op == "change_role":
            out.append(s.change_role(story_name(record["user"]), record["role"], by=ADMIN_DEVICE,
                                     expect=_unless_limited(expect)))
        elif op == "delete_user":
            out.append(s.delete_user(story_name(record["user"]), by=ADMIN_DEVICE, expect="any"))
        elif op == "write_document":
            documents += 1
            out.append(s.document(f"doc{documents}", by=record["session"], expect=expect))
        elif op == "advance_clock":
            out.append(s.advance(seconds=record["seconds"]))
        else:
            raise ValueError(f"the stateful model recorded an operation this module does not know: {op!r}")
    return out


def _unless_limited(expect: str) -> str:
    # The model lets these two answer 429 whatever it expects.
    return "accepted or rate-limited" if expect == "accepted" else "any"


def _needs(steps: Sequence[Step]) -> list[str]:
    needs = {"signup", "user_admin", "roles"}
    by_op = {"refresh": "refresh", "replay_refresh": "refresh", "logout": "logout", "logout_all": "logout_all",
             "change_password": "password_change", "document": "documents"}
    needs |= {by_op[step.op] for step in steps if step.op in by_op}
    return sorted(needs)


def scenario_source(records: Iterable[dict[str, Any]], *, title: str = "", lines: Sequence[str] = (),
                    reason: str = "", faults: Iterable[str] = ()) -> str:
    """The text of a scenario file replaying ``records``."""
    steps = steps_from_records(records)
    fault_list = sorted(faults)
    title = title or "Sequence found by the stateful model" + (f" ({', '.join(fault_list)})" if fault_list else "")
    threat = ("A random sequence of contract operations, shrunk by the stateful model to the shortest one "
              "on which the target's answers broke the contract"
              + (f": {reason}" if reason else "") + ".")
    found = "\n".join(f"#   {n}. {line}" for n, line in enumerate(lines, 1))
    body = ",\n".join(f"    {step.source()}" for step in steps)
    used = sorted({step.op for step in steps})
    return textwrap.dedent('''\
        """Saved from a failing run of the stateful model check (PROP-STATEFUL-MODEL)."""

        # The run's own account of the sequence (statuses as the failing target answered them):
        {found}

        from scenarios.steps import {imports}

        title = {title}
        threat = {threat}
        contract = {{
            "2": "refresh rotates, reuse revokes the family, logout and password change end sessions",
            "3": "a token never grants more than the user's current role",
            "4": "sessions end at the idle and absolute timeouts and at the session limit",
        }}
        checks = ("{check}",)
        needs = {needs}
        caught_by_faults = {faults}

        steps = [
        {body},
        ]
        ''').format(found=found or "#   (none recorded)", imports=", ".join(used), title=literal(title),
                    threat=_wrap_literal(threat), check=STATEFUL_CHECK, needs=literal(tuple(_needs(steps))),
                    faults=literal(tuple(fault_list)), body=body)


def _wrap_literal(text: str) -> str:
    if len(text) < 90:
        return literal(text)
    chunks = textwrap.wrap(text, 90, drop_whitespace=False)
    return "(\n" + "\n".join(f"    {literal(chunk)}" for chunk in chunks) + "\n)"


def save(records: Iterable[dict[str, Any]], path: Path, **kwargs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario_source(records, **kwargs))
    return path


@dataclass
class Recording:
    verdict: Verdict
    message: str
    path: Path | None = None


def record_on_reference(profile: Profile, faults: Iterable[str], path: Path, *, title: str = "") -> Recording:
    """Run the stateful check on the bundled reference (with ``faults``); save a failure as a scenario."""
    from conformance import registry
    from conformance.deployments import in_process_source, reference_config
    from conformance.runner import run_check

    chosen = frozenset(faults)
    check = registry.get(STATEFUL_CHECK)
    deployment = in_process_source(profile, reference_config(chosen))(check)
    try:
        result = run_check(check, deployment)
    finally:
        deployment.target.close()
    records = result.details.get("stateful_records")
    if result.verdict is not Verdict.FAIL or not records:
        return Recording(result.verdict, f"{STATEFUL_CHECK}: {result.verdict}"
                         + (f" ({result.reason})" if result.reason else "") + "; nothing to save")
    reason = str(result.reason).split(" — ")[0]
    save(records, path, title=title, lines=result.details.get("stateful_steps", []), reason=reason, faults=chosen)
    return Recording(result.verdict, f"{STATEFUL_CHECK} failed: {reason}\nsaved {len(records)} steps to {path}",
                     path)
