"""The declared accounts are leased to checks: never one account to two running checks, released
when a check ends, and a run that lacks accounts says how many more to declare."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from conformance import profile as profile_mod
from conformance.leases import AccountPool, LeaseBusy
from conformance.profile import Account
from conformance.registry import Check, Level, Severity
from conformance.runner import Deployment, run
from conformance.verdict import Verdict

VIEWERS = [Account(role="viewer", tenant="t", username=f"v{n}", password=f"pw-{n}-secret") for n in (1, 2)]
ADMIN = Account(role="admin", tenant="t", username="boss", password="pw-boss-secret")


def viewer(account: Account) -> bool:
    return account.role == "viewer"


def test_two_leases_of_one_owner_are_two_accounts_then_its_own_in_turn() -> None:
    pool = AccountPool(VIEWERS)
    first, second = pool.lease("a", viewer), pool.lease("a", viewer)
    assert {first.username, second.username} == {"v1", "v2"}
    assert pool.lease("a", viewer).username == first.username  # none free: its own, in turn
    assert pool.holds("a", viewer) == 2


def test_an_account_is_never_leased_to_two_owners_at_once() -> None:
    pool = AccountPool(VIEWERS)
    assert pool.lease("a", viewer).username == "v1"
    assert pool.lease("b", viewer).username == "v2"
    with pytest.raises(LeaseBusy):  # "a" holds a lease: waiting could deadlock, so it is run again later
        pool.lease("a", lambda account: account.username == "v2")
    pool.release("b")
    assert pool.lease("a", lambda account: account.username == "v2").username == "v2"


def test_a_second_account_leased_elsewhere_is_waited_for_alone_not_replaced_by_its_own() -> None:
    # Serially the second lease is v2; beside another check holding v2 it must not become v1 again
    # (a check needing two distinct viewers would turn not applicable): the check runs again alone.
    pool = AccountPool(VIEWERS)
    assert pool.lease("a", viewer).username == "v1"
    assert pool.lease("b", viewer).username == "v2"
    with pytest.raises(LeaseBusy):
        pool.lease("a", viewer)
    pool.release("b")
    assert pool.lease("a", viewer).username == "v2"


def test_an_owner_holding_nothing_waits_until_a_lease_is_released() -> None:
    pool = AccountPool(VIEWERS[:1])
    pool.lease("a", viewer)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(pool.lease("b", viewer).username))
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and not got  # still waiting: v1 is leased to "a"
    pool.release("a")
    waiter.join(timeout=5)
    assert got == ["v1"]


def test_a_waiter_gives_up_after_its_limit() -> None:
    pool = AccountPool(VIEWERS[:1])
    pool.lease("a", viewer)
    with pytest.raises(LeaseBusy):
        pool.lease("b", viewer, wait=0.05)


def test_many_threads_never_share_an_account() -> None:
    pool = AccountPool([Account(role="viewer", username=f"v{n}", password="x" * 12) for n in range(3)])
    in_use: set[str] = set()
    lock = threading.Lock()
    clashes: list[str] = []

    def worker(owner: int) -> None:
        for _ in range(50):
            name = pool.lease(owner, viewer).username
            with lock:
                if name in in_use:
                    clashes.append(name)
                in_use.add(name)
            with lock:
                in_use.discard(name)
            pool.release(owner)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not clashes and pool.leased() == 0


class _NoTarget:
    abilities: frozenset[str] = frozenset()
    clock = None


def _accounts_profile(tmp_path: Path, accounts: list[Account]) -> Any:
    lines = ['extends = "reference"', '[users]', 'source = "accounts"']
    for account in accounts:
        lines += ["[[users.accounts]]", f'role = "{account.role}"', f'tenant = "{account.tenant}"',
                  f'username = "{account.username}"', f'password = "{account.password}"']
    path = tmp_path / "accounts.toml"
    path.write_text("\n".join(lines) + "\n")
    return profile_mod.load(path)


def _check(check_id: str, body: Any) -> Check:
    return Check(id=check_id, area="sessions", title="t", rule="r", level=Level.MUST, severity=Severity.LOW,
                 references=(), needs=frozenset(), body=body, no_controls="a test check")


def test_a_check_needing_more_accounts_than_declared_is_not_applicable_and_the_run_says_how_many(
        tmp_path: Path) -> None:
    loaded = _accounts_profile(tmp_path, [VIEWERS[0], ADMIN])
    seen: list[str] = []

    def two_viewers(ctx: Any) -> None:
        first = ctx.users.create("viewer")
        seen.append(first.username)
        ctx.users.create("viewer", distinct_from=first)

    def one_viewer(ctx: Any) -> None:
        seen.append(ctx.users.create("viewer").username)

    deployment = Deployment(_NoTarget(), loaded)  # type: ignore[arg-type]
    checks = [_check("SES-TWO", two_viewers), _check("SES-ONE", one_viewer)]
    result = run(checks, lambda _check: deployment, profile=loaded)
    verdicts = {r.check_id: r for r in result.results}
    assert verdicts["SES-TWO"].verdict is Verdict.NOT_APPLICABLE
    assert "second viewer" in verdicts["SES-TWO"].reason
    assert verdicts["SES-ONE"].verdict is Verdict.PASS
    assert seen == ["v1", "v1"]  # the first check's lease was released when it ended
    assert deployment.account_pool().leased() == 0
    needed = result.meta["accounts_needed"]
    assert [(n["role"], n["declared"], n["needed"], n["checks"]) for n in needed] == [("viewer", 1, 2, ["SES-TWO"])]
    assert needed[0]["advice"] == "declare 1 more viewer account in [[users.accounts]] to judge 1 more check (SES-TWO)"


def test_a_role_without_any_account_counts_as_one_needed(tmp_path: Path) -> None:
    loaded = _accounts_profile(tmp_path, [ADMIN])
    deployment = Deployment(_NoTarget(), loaded)  # type: ignore[arg-type]
    result = run([_check("SES-EDITOR", lambda ctx: ctx.users.create("editor"))], lambda _c: deployment,
                 profile=loaded)
    assert result.results[0].verdict is Verdict.NOT_APPLICABLE
    assert [(n["role"], n["declared"], n["needed"]) for n in result.meta["accounts_needed"]] == [("editor", 0, 1)]


def test_xdist_workers_get_disjoint_shares_of_each_roles_accounts(tmp_path: Path) -> None:
    from conformance.suite_support import worker_share

    second_admin = Account(role="admin", tenant="t", username="boss2", password="pw-boss2-secret")
    profile = _accounts_profile(tmp_path, [*VIEWERS, ADMIN, second_admin])
    assert worker_share(profile, {}) is profile  # not under xdist: every account
    assert worker_share(profile, {"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "1"}) is profile
    shares = [worker_share(profile, {"PYTEST_XDIST_WORKER": f"gw{n}", "PYTEST_XDIST_WORKER_COUNT": "2"}).users.accounts
              for n in (0, 1)]
    names = [{account.username for account in share} for share in shares]
    assert not names[0] & names[1]  # no account in two workers
    assert names[0] | names[1] == {account.username for account in profile.users.accounts}
    assert all({account.role for account in share} == {"viewer", "admin"} for share in shares)  # a share of each role
