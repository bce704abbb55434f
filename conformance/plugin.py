"""The pytest plugin (entry point ``pytest11``): ``pytest --authconform-target URL`` runs the suite.

Each check of the registry becomes one test, marked with its contract area (``-m tokens``) and
named by its id (``-k TOK-ALG``). Verdicts map onto pytest outcomes: pass passes, not applicable
skips with its reason, fail and error fail, non-strict warns (fails under --authconform-strict).
Results travel in ``user_properties`` so a run under pytest-xdist still writes one merged report.

What runs follows pytest's own rule, the paths and node ids given: none, the whole suite;
``authconform::TOK-ALG-NONE`` (or ``authconform``, the whole suite) names checks by id, and a path
of your own (``tests/mine.py``) runs only that. A check's test says how to run it alone.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from conformance.registry import AREAS

SUITE_MODULE = Path(__file__).with_name("suite_tests.py")
RESULT_PROPERTY = "authconform_result"
SUITE_ALIAS = "authconform"  # `pytest --authconform authconform::TOK-ALG-NONE`
# Set-up exchanges shown after the deciding ones in a failure (report.json keeps them all).
SETUP_SHOWN = 2
BODY_SHOWN = 300  # characters of a body in a failure; report.json keeps it whole


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("authconform", "authconform conformance suite")
    group.addoption("--authconform", action="store_true",
                    help="run the conformance suite (against the bundled reference unless a target is given)")
    group.addoption("--authconform-target", metavar="URL", help="base URL of the target to check")
    group.addoption("--authconform-profile", metavar="FILE", help="profile TOML describing the target")
    group.addoption("--authconform-set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override a profile field")
    group.addoption("--authconform-fault", action="append", default=[], metavar="NAME",
                    help="bundled reference only: switch on a fault from the catalog")
    group.addoption("--authconform-strict", action="store_true", help="SHOULD rules fail too")
    group.addoption("--authconform-wordlist", action="append", default=[], metavar="PATH",
                    help="your own list of candidate HS secrets for TOK-SECRET-WEAK (repeatable, any size)")
    group.addoption("--authconform-report-dir", metavar="DIR",
                    help="write report.json, junit.xml, report.html and summary.md here")


def _wanted(namespace: Any) -> bool:
    return bool(getattr(namespace, "authconform", False) or getattr(namespace, "authconform_target", None)
                or getattr(namespace, "authconform_profile", None))


def suite_node_id(check_id: str) -> str:
    """The pytest node id of one check's test, usable on any command line."""
    return f"{SUITE_MODULE}::test_check[{check_id}]"


def _resolve(arg: str) -> str:
    """``authconform`` or ``authconform::CHECK-ID`` as the path or node id pytest collects."""
    if arg == SUITE_ALIAS:
        return str(SUITE_MODULE)
    return suite_node_id(arg.split("::", 1)[1])


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    # The suite lives in this package: collect it when asked for and no path or node id says
    # otherwise, and turn the authconform::ID aliases into node ids pytest can find.
    namespace = early_config.known_args_namespace
    if not _wanted(namespace):
        return
    given = list(getattr(namespace, "file_or_dir", None) or [])
    aliases = [a for a in given if a == SUITE_ALIAS or a.startswith(SUITE_ALIAS + "::")]
    for alias in aliases:
        args[args.index(alias)] = _resolve(alias)
    if not given and str(SUITE_MODULE) not in args:
        args.append(str(SUITE_MODULE))


def pytest_configure(config: pytest.Config) -> None:
    for area in AREAS:
        config.addinivalue_line("markers", f"{area}: authconform checks of the {area} area")
    config.pluginmanager.register(_ResultCollector(config), "authconform-results")


_RESULTS = pytest.StashKey[list[dict[str, Any]]]()
_STARTED = pytest.StashKey[float]()


class _ResultCollector:
    """Gathers check results from test reports: on the xdist controller they arrive from workers."""

    def __init__(self, config: pytest.Config) -> None:
        config.stash[_RESULTS] = []
        config.stash[_STARTED] = time.time()
        self.results = config.stash[_RESULTS]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.when == "setup" and report.skipped):
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                self.results.append(json.loads(str(value)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    directory = config.getoption("authconform_report_dir", None)
    if not directory or hasattr(config, "workerinput"):  # xdist workers leave it to the controller
        return
    results = config.stash[_RESULTS]
    if not results:
        return
    from conformance import registry
    from conformance.runner import RunResult, real_time
    from conformance.suite_support import suite_profile
    from conformance.verdict import Result, Verdict
    from reports import json_report, write_all

    by_id = {c.id: c for c in registry.all_checks()}
    ordered = [r for r in results if r["check_id"] in by_id]
    run = RunResult(
        profile=suite_profile(config),
        target_name=config.getoption("authconform_target") or "reference (in-process)",
        checks=[by_id[r["check_id"]] for r in ordered],
        results=[Result(r["check_id"], Verdict(r["verdict"]), r["reason"], r["evidence"], r["duration"],
                        r["details"], r.get("coverage"), r.get("controls") or []) for r in ordered],
        started=config.stash[_STARTED],
        finished=real_time(),  # the in-process target may still have time frozen
        meta={"faults": sorted(config.getoption("authconform_fault") or []),
              "strict": bool(config.getoption("authconform_strict"))},
    )
    write_all(json_report.build(run), Path(directory))  # report.json, junit.xml, report.html, summary.md


def report_verdict(item: pytest.Item, result: Any, strict: bool) -> None:
    """Turn a check's Result into the pytest outcome of ``item``."""
    from conformance.verdict import Verdict

    item.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict())))
    if result.verdict is Verdict.PASS:
        return
    if result.verdict is Verdict.NOT_APPLICABLE:
        pytest.skip(f"not applicable: {result.reason}")
    if result.verdict is Verdict.NON_STRICT and not strict:
        warnings.warn(f"{result.check_id} (SHOULD rule): {result.reason}", stacklevel=1)
        return
    if result.verdict is Verdict.PARTIAL and not strict:
        warnings.warn(f"{result.check_id} judged in part: {result.reason}", stacklevel=1)
        return
    pytest.fail(failure_text(result), pytrace=False)


def deciding_exchanges(evidence: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the exchanges that decided the verdict, the set-up ones): a check marks the deciding ones
    ``"decisive": true``; when it marked none, the last exchange decided (as in the reports)."""
    marked = {i for i, record in enumerate(evidence) if record.get("decisive")}
    chosen = marked or ({len(evidence) - 1} if evidence else set())
    return ([r for i, r in enumerate(evidence) if i in chosen], [r for i, r in enumerate(evidence) if i not in chosen])


def _exchange_lines(record: dict[str, Any]) -> str:
    request, response = record.get("request") or {}, record.get("response")
    lines = [f"  #{record.get('n', '?')} {record.get('note') or ''}".rstrip(),
             f"    > {request.get('method', '')} {request.get('url', '')}"]
    lines += [f"    > {name}: {value}" for name, value in (request.get("headers") or {}).items()]
    if request.get("body"):
        lines.append(f"    > {str(request['body'])[:BODY_SHOWN]}")
    if response is None:
        lines.append(f"    < no answer: {record.get('error') or '?'}")
    else:
        lines.append(f"    < HTTP {response.get('status')}")
        if response.get("body"):
            lines.append(f"    < {str(response['body']).strip()[:BODY_SHOWN]}")
    return "\n".join(lines)


def failure_text(result: Any) -> str:
    """What pytest prints for a failing check: verdict and reason, a stateful failure's numbered
    steps, how to fix it, the deciding exchanges, and the command that runs this check alone."""
    from conformance import registry

    lines = [f"{str(result.verdict).upper()}: {result.check_id}: {result.reason}"]
    steps = result.details.get("stateful_steps") or []
    if steps:
        seed = result.details.get("hypothesis_seed")
        lines.append(f"failing sequence ({len(steps)} steps" + (f", seed {seed}" if seed is not None else "") + "):")
        lines += [f"  {n}. {step}" for n, step in enumerate(steps, 1)]
    fix = registry.get(result.check_id).remediation
    if fix:
        lines.append(f"how to fix: {fix}")
    deciding, setup = deciding_exchanges(result.evidence)
    if deciding:
        lines.append("the exchange(s) that decided it (secrets redacted):")
        lines += [_exchange_lines(record) for record in deciding]
    if setup:
        lines.append(f"set-up before it, the last {min(SETUP_SHOWN, len(setup))} of {len(setup)} "
                     "(all in report.json):")
        lines += [_exchange_lines(record) for record in setup[-SETUP_SHOWN:]]
    lines.append(f'run it alone: pytest --authconform "{SUITE_ALIAS}::{result.check_id}"')
    return "\n".join(lines)
