"""Admitted requests per limiter key and window, seen from the client, judged against the limit.

The contract (section 6) says a limiter never admits more than its limit in a window, exactly,
under concurrency and across workers. A client does not see the server's windows; it sees, for
every request, when it left (``sent``) and when its answer came back (``received``): the server
decided somewhere in between. So the count here only takes a request into window *k* when every
possible placement of the windows puts it there. A correct limiter is then never blamed, and a
limiter that admits too much shows it, minus at most the few requests in flight across a window
boundary.

The windows are those of the reference: a window opens at the first admitted request and lasts
``window`` seconds; the next opens at the first admitted request after it. For window *k*, with
``lo``/``hi`` the earliest/latest moment it can have opened:

- window 1 opened at or after the first request of the key was sent (``lo``), and at or before
  the first admitted answer came back (``hi``); an admitted request answered before ``lo +
  window`` was decided inside it;
- window *k* + 1 opened after ``lo_k + window``, no earlier than the first request still in flight
  then, and no later than the first admitted answer among requests sent after ``hi_k + window``;
  an admitted request sent after ``hi_k + window`` and answered before
  ``min(lo_k+1, hi_k + window) + window`` was decided inside it.

Each counted span is at most one window long, so the count is also sound for a sliding-window
limiter. A limiter whose windows are aligned to its clock may admit up to twice its limit across
a boundary; against such a target, set ``load.max_over_admission`` accordingly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conformance.load.samples import Sample, admitted_by, kind_of


@dataclass(frozen=True)
class Window:
    key: str
    number: int  # 1 for the key's first window
    opened: float  # earliest moment the window can have opened (wall clock)
    admitted: int  # admitted requests certainly decided inside the window
    refused: int  # 429 answers certainly decided inside the window
    limit: int

    @property
    def over(self) -> int:
        return max(0, self.admitted - self.limit)


def windows_of_key(key: str, samples: Iterable[Sample], limit: int, window: float) -> list[Window]:
    """The windows of one limiter key, each with what was certainly decided inside it."""
    kind = kind_of(key)
    every = sorted(samples, key=lambda s: s.sent)
    answered = [s for s in every if s.status != 0]
    admitted = [s for s in answered if admitted_by(kind, s.status)]
    refused = [s for s in answered if s.status == 429]
    if not admitted:
        return []
    lo = every[0].sent
    hi = min(s.received for s in admitted)
    cutoff = lo + window
    windows = [Window(key, 1, lo, sum(s.received < cutoff for s in admitted),
                      sum(s.received < cutoff for s in refused), limit)]
    number = 1
    while True:
        after = hi + window  # anything sent after this was decided after window `number` closed
        candidates = [s for s in admitted if s.sent >= after]
        if not candidates:
            return windows
        closed = lo + window
        # Unanswered requests may have been decided at any later moment: they count as still out.
        still_out = [s.sent for s in every if s.status == 0 or s.received >= closed]
        next_lo = max(closed, min(still_out))
        next_hi = min(s.received for s in candidates)
        cutoff = min(next_lo, after) + window
        number += 1
        windows.append(Window(key, number, next_lo, sum(s.received < cutoff for s in candidates),
                              sum(after <= s.sent and s.received < cutoff for s in refused), limit))
        lo, hi = next_lo, next_hi


def windows(samples: Iterable[Sample], limits: Mapping[str, tuple[int, float]]) -> list[Window]:
    """Every window of every limiter key in ``samples``; ``limits`` maps a kind to (limit, window s)."""
    by_key: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        for key in sample.keys:
            by_key[key].append(sample)
    found: list[Window] = []
    for key in sorted(by_key):
        kind = kind_of(key)
        if kind not in limits:
            continue
        limit, length = limits[kind]
        found.extend(windows_of_key(key, by_key[key], limit, length))
    return found
