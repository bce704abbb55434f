"""The declared accounts (``[[users.accounts]]``) as a pool that checks lease from.

A target without sign-up gives the suite a fixed set of accounts. Two checks running at once must
never use the same account (one check's logout-all, wrong-password burst or spent API budget
would land on the other), so a check leases every account it uses and the runner releases the
leases when the check ends. Within one check an account it already holds may be handed out again
(a check asking for "a viewer" twice gets its own viewer twice when there is only one, and the
second one when there are two, however many checks are in flight: the accounts a check gets do
not depend on what runs beside it); a check
that needs more distinct accounts of a role than the profile declares is not applicable, and the
pool remembers how many it would have needed, so the run can say how many accounts to declare
for full coverage.

Leasing never deadlocks: a check that holds no lease waits for one to come free; a check that
already holds some and finds every other matching account busy does not wait (two such checks
could wait on each other) but raises ``LeaseBusy``, and the scheduler runs it again alone, after
the others.
"""

from __future__ import annotations

import secrets
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
        distinct accounts where there are two), else, once the owner holds every matching account,
        one of its own in turn. Raises NotApplicable when none matches at all, LeaseBusy when a
        matching account the owner lacks is leased elsewhere and the owner holds leases (or ``wait``
        seconds passed)."""
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
                if own and len(own) == len(candidates):  # every matching account is its own already
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


# ---------------------------------------------------------------------------- budgets of identities

# Seconds added to a declared window before a request counted in it is forgotten: the target counts
# a request when it arrives, a little after the suite sent it.
WINDOW_SLACK = 1.0


class Budgets:
    """One budget keeper per identity (a client address's logins, an account's logins, a user's API
    calls), shared by every thread of a run, so checks in flight together never spend more of one
    identity's declared budget than the target allows: a request that would go over waits until
    the oldest one counted has left the window (a sliding log, stricter than any fixed window)."""

    def __init__(self, waits: WaitBoard | None = None) -> None:
        self._sent: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.waits = waits or WaitBoard()

    def take(self, key: str, limit: int, window: float, *, wait: bool = True, max_wait: float = 0.0,
             what: str = "") -> float:
        """Count one request of ``key``; with ``wait``, first wait (at most ``max_wait`` s) until it fits
        the budget of ``limit`` per ``window``. Returns the seconds waited."""
        waited = 0.0
        span = window + WINDOW_SLACK
        while True:
            with self._lock:
                now = time.monotonic()
                log = [t for t in self._sent.get(key, []) if t > now - span]
                if not wait or len(log) < limit or waited >= max_wait:
                    log.append(now)
                    self._sent[key] = log
                    return waited
                self._sent[key] = log
                pause = min(log[0] + span - now, max_wait - waited)
            with self.waits.waiting(what or f"the budget of {key}", pause):
                time.sleep(pause)
            waited += pause


# ---------------------------------------------------------------------------- client addresses

class ClientAddresses:
    """Fresh loopback source addresses (127.1.0.1, 127.1.0.2, ...) for a target on loopback, one per
    check (and another whenever a check needs an unspent per-address budget): a limit the target
    keeps per client address then never carries over from one check to another, so no check waits
    out a window another check filled. ``enabled`` is False where the system cannot bind them."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and _can_bind("127.1.0.1")
        # A random start: a run right after another (or beside it) does not reuse its addresses.
        self._next = secrets.randbelow(1 << 22)
        self._lock = threading.Lock()

    def fresh(self) -> str | None:
        if not self.enabled:
            return None
        with self._lock:
            self._next += 1
            if self._next % 256 == 0:  # no x.y.z.0
                self._next += 1
            n = self._next
        return f"127.{1 + (n >> 16) % 254}.{(n >> 8) & 255}.{n & 255}"


def _can_bind(address: str) -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------- what is waiting

@dataclass
class Wait:
    owner: str
    what: str
    until: float  # time.time() at which it ends


class WaitBoard:
    """The real waits in progress (what waits, until when), for the live progress line."""

    def __init__(self) -> None:
        self._waits: dict[int, Wait] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._spent: dict[str, float] = {}  # owner -> seconds it waited in all
        self._longest = (0.0, "")

    def summary(self) -> dict[str, object]:
        """The real waits of the run: their sum, the longest one, and the check that waited longest."""
        with self._lock:
            owner, most = max(self._spent.items(), key=lambda item: item[1], default=("", 0.0))
            return {"total_seconds": round(sum(self._spent.values()), 1),
                    "longest_seconds": round(self._longest[0], 1), "longest": self._longest[1],
                    "longest_check": owner, "longest_check_seconds": round(most, 1)}

    def owner(self, name: str) -> None:
        """Name the check this thread runs (shown beside its waits)."""
        self._local.owner = name

    def waiting(self, what: str, seconds: float) -> _Waiting:
        return _Waiting(self, what, seconds)

    def pending(self) -> list[Wait]:
        with self._lock:
            return sorted(self._waits.values(), key=lambda w: w.until)

    def _start(self, what: str, seconds: float) -> int:
        wait = Wait(getattr(self._local, "owner", ""), what, time.time() + seconds)
        with self._lock:
            self._waits[id(wait)] = wait
            self._spent[wait.owner] = self._spent.get(wait.owner, 0.0) + seconds
            if seconds > self._longest[0]:
                self._longest = (seconds, f"{wait.owner}: {what}")
        return id(wait)

    def _end(self, key: int) -> None:
        with self._lock:
            self._waits.pop(key, None)


class _Waiting:
    def __init__(self, board: WaitBoard, what: str, seconds: float) -> None:
        self.board, self.what, self.seconds, self.key = board, what, seconds, 0

    def __enter__(self) -> None:
        self.key = self.board._start(self.what, self.seconds)

    def __exit__(self, *_exc: object) -> None:
        self.board._end(self.key)
