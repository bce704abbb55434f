"""Runs checks side by side against one HTTP target, as fast as the target's own clocks allow.

A run over HTTP spends most of its time waiting for the target's clock (an idle timeout, a token's
expiry, a limiter window). Those waits need not follow one another: the checks that wait on the
clock (``waits`` on the registry's Check) start first and sleep in parallel with the rest, on a
bounded pool of threads (``--jobs``, ``[target] max_concurrency``). A check that needs the target
quiet (``exclusive``: a timing comparison) runs alone once the others are done, and so does a check
that found every declared account it needs leased to another running check (``LeaseBusy``, see
conformance/leases.py): run alone, it cannot wait on anyone.

Each check has identities of its own (a fresh sign-up or leased accounts, its own client address
where the target is on loopback), and the budget keepers of shared identities are shared by the
threads, so a check's verdict does not depend on what ran beside it. Results come back in catalog
order, whatever order the checks finished in; with one job the run is the serial one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from conformance.leases import LeaseBusy
from conformance.registry import Check
from conformance.verdict import Result, Verdict

# One check run: its position in the catalog order and its result.
RunOne = Callable[[Check], Result]
Finished = Callable[[int, Result], None]


def start_order(checks: Sequence[Check]) -> tuple[list[int], list[int]]:
    """(the checks run side by side, clock waiters first; the checks run alone afterwards), as
    positions in ``checks``, each list in catalog order within its kind."""
    shared = [i for i, c in enumerate(checks) if not c.exclusive]
    shared.sort(key=lambda i: not checks[i].waits)  # stable: catalog order within each kind
    alone = [i for i, c in enumerate(checks) if c.exclusive]
    return shared, alone


def run_concurrently(checks: Sequence[Check], run_one: RunOne, jobs: int, finished: Finished) -> list[Result]:
    """Run every check with ``run_one`` on ``jobs`` threads; ``finished(position, result)`` is called on
    the calling thread as each ends (in the order they end). Returns the results in catalog order."""
    results: dict[int, Result] = {}
    shared, alone = start_order(checks)
    busy: list[int] = []
    lock = threading.Lock()

    def task(position: int) -> Result | None:
        try:
            return run_one(checks[position])
        except LeaseBusy:
            with lock:
                busy.append(position)
            return None

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="authconform-check") as pool:
        pending: dict[Future[Result | None], int] = {pool.submit(task, i): i for i in shared}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                position = pending.pop(future)
                result = future.result()
                if result is not None:
                    results[position] = result
                    finished(position, result)
    for position in [*alone, *sorted(busy)]:
        result = _alone(run_one, checks[position])
        results[position] = result
        finished(position, result)
    return [results[i] for i in range(len(checks))]


def _alone(run_one: RunOne, check: Check) -> Result:
    """A check run with nothing beside it: no account can be busy, so LeaseBusy is a harness bug."""
    try:
        return run_one(check)
    except LeaseBusy as exc:
        return Result(check.id, Verdict.ERROR, f"harness error: an account stayed leased with no check running ({exc})")
