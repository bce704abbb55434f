"""The declared accounts (``[[users.accounts]]``) as a pool that checks lease from.

A target without sign-up gives the suite a fixed set of accounts. Two checks running at once must
never use the same account (one check's logout-all, wrong-password burst or spent API budget
would land on the other), so a check leases every account it uses and the runner releases the
leases when the check ends. Within one check an account it already holds may be handed out again
(a check asking for "a viewer" twice gets its own viewer twice when there is only one); a check
that needs more distinct accounts of a role than the profile declares is not applicable, and the
pool remembers how many it would have needed, so the run can say how many accounts to declare
for full coverage.

Leasing never deadlocks: a check that holds no lease waits for one to come free; a check that
already holds some and finds every other matching account busy does not wait (two such checks
could wait on each other) but raises ``LeaseBusy``, and the scheduler runs it again alone, after
the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from conformance.profile import Account
from conformance.verdict import NotApplicable

# A check holding no lease waits at most this long for a busy account (seconds); then it is run
# again after the others (LeaseBusy), which cannot wait on anything.
WAIT_LIMIT = 600.0


class LeaseBusy(Exception):
    """Every matching account is leased to another running check, and this check holds leases
    itself (so waiting could deadlock): run the check again when the others are done."""


class MissingAccounts(NotApplicable):
    """The check needs more distinct accounts of ``role`` than the profile declares."""

    def __init__(self, reason: str, *, role: str, needed: int, declared: int) -> None:
        super().__init__(reason)
        self.role, self.needed, self.declared = role, needed, declared


@dataclass
class Shortfall:
    """The accounts of one role some checks lacked: the most any check needed, and which checks."""

    role: str
    declared: int
    needed: int
    checks: list[str] = field(default_factory=list)

    def advice(self) -> str:
        more = self.needed - self.declared
        plural = "s" if more != 1 else ""
        checks = len(self.checks)
        return (f"declare {more} more {self.role} account{plural} in [[users.accounts]] to judge {checks} more "
                f"check{'s' if checks != 1 else ''} ({', '.join(self.checks)})")

    def to_dict(self) -> dict[str, object]:
        return {"role": self.role, "declared": self.declared, "needed": self.needed, "checks": list(self.checks),
                "advice": self.advice()}


Matcher = Callable[[Account], bool]


class AccountPool:
    """Thread-safe leases of the declared accounts; ``owner`` is any hashable naming one running check."""

    def __init__(self, accounts: Sequence[Account]) -> None:
        self.accounts = list(accounts)
        self._holder: dict[int, object] = {}  # account index -> owner
        self._held: dict[object, list[int]] = {}  # owner -> account indexes, in lease order
        self._turns: dict[tuple[object, str], int] = {}
        self._changed = threading.Condition()
        self._shortfalls: dict[str, Shortfall] = {}

    def lease(self, owner: object, matches: Matcher, *, key: str = "", wait: float = WAIT_LIMIT) -> Account:
        """An account ``matches`` accepts, for ``owner``: a free one not yet held (so two calls give two
        distinct accounts where there are two), else one the owner already holds, in turn. Raises
        NotApplicable when none matches at all, LeaseBusy when every one is leased elsewhere and the
        owner holds leases (or ``wait`` seconds passed)."""
        candidates = [i for i, account in enumerate(self.accounts) if matches(account)]
        if not candidates:
            raise NotApplicable("no declared account matches")
        with self._changed:
            deadline: float | None = None
            while True:
                free = [i for i in candidates if i not in self._holder]
                if free:
                    index = free[0]
                    self._holder[index] = owner
                    self._held.setdefault(owner, []).append(index)
                    return self.accounts[index]
                own = [i for i in self._held.get(owner, []) if i in candidates]
                if own:
                    turn = self._turns.get((owner, key), 0)
                    self._turns[(owner, key)] = turn + 1
                    return self.accounts[own[turn % len(own)]]
                if self._held.get(owner):
                    raise LeaseBusy("every matching account is leased to another running check")
                now = time.monotonic()
                deadline = now + wait if deadline is None else deadline
                if now >= deadline:
                    raise LeaseBusy(f"no matching account came free within {wait:g} s")
                self._changed.wait(timeout=deadline - now)

    def holds(self, owner: object, matches: Matcher) -> int:
        """How many accounts ``matches`` accepts the owner holds now."""
        with self._changed:
            return sum(1 for i in self._held.get(owner, []) if matches(self.accounts[i]))

    def release(self, owner: object) -> None:
        with self._changed:
            for index in self._held.pop(owner, []):
                self._holder.pop(index, None)
            for turn_key in [k for k in self._turns if k[0] == owner]:
                del self._turns[turn_key]
            self._changed.notify_all()

    def leased(self) -> int:
        with self._changed:
            return len(self._holder)

    # -------------------------------------------------------------- coverage the accounts allow
    def short(self, check_id: str, missing: MissingAccounts) -> None:
        """Note that ``check_id`` was not applicable for want of accounts."""
        with self._changed:
            entry = self._shortfalls.setdefault(missing.role, Shortfall(missing.role, missing.declared, 0))
            entry.needed = max(entry.needed, missing.needed)
            if check_id not in entry.checks:
                entry.checks.append(check_id)

    def shortfalls(self) -> list[Shortfall]:
        with self._changed:
            return [self._shortfalls[role] for role in sorted(self._shortfalls)]
