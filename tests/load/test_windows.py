"""The client-side window count never blames a correct limiter, and catches one that over-admits."""

from __future__ import annotations

import random
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.load.samples import Sample
from conformance.load.windows import windows, windows_of_key

KEY = "api:acct-00000001"


def _requests(rng: random.Random, count: int, span: float, max_latency: float) -> list[tuple[float, float, float]]:
    """(sent, decided, received) triples: the server decides somewhere between sending and answering."""
    out = []
    for _ in range(count):
        sent = rng.uniform(0.0, span)
        latency = rng.uniform(0.0, max_latency)
        decided = sent + rng.uniform(0.0, latency)
        out.append((sent, decided, sent + latency))
    return out


def _fixed_window(requests: list[tuple[float, float, float]], limit: int, window: float) -> list[Sample]:
    """The reference's limiter: a window opens at the first admitted request and lasts `window` s."""
    opened, count, samples = None, 0, []
    for sent, decided, received in sorted(requests, key=lambda r: r[1]):
        if opened is None or decided >= opened + window:
            opened, count = decided, 0
        allowed = count < limit
        count += allowed
        samples.append(Sample(sent, received, 200 if allowed else 429, "me", (KEY,)))
    return samples


def _sliding_log(requests: list[tuple[float, float, float]], limit: int, window: float) -> list[Sample]:
    admitted: deque[float] = deque()
    samples = []
    for sent, decided, received in sorted(requests, key=lambda r: r[1]):
        while admitted and admitted[0] <= decided - window:
            admitted.popleft()
        allowed = len(admitted) < limit
        if allowed:
            admitted.append(decided)
        samples.append(Sample(sent, received, 200 if allowed else 429, "me", (KEY,)))
    return samples


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 400), limit=st.integers(1, 30),
       window=st.floats(0.5, 20.0), span=st.floats(0.1, 80.0), max_latency=st.floats(0.0, 3.0))
def test_a_correct_fixed_window_limiter_is_never_over_admitting(seed: int, count: int, limit: int, window: float,
                                                                span: float, max_latency: float) -> None:
    rng = random.Random(seed)
    samples = _fixed_window(_requests(rng, count, span, max_latency), limit, window)
    found = windows_of_key(KEY, samples, limit, window)
    assert all(w.over == 0 for w in found), found


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 400), limit=st.integers(1, 30),
       window=st.floats(0.5, 20.0), span=st.floats(0.1, 80.0), max_latency=st.floats(0.0, 3.0))
def test_a_correct_sliding_window_limiter_is_never_over_admitting(seed: int, count: int, limit: int, window: float,
                                                                  span: float, max_latency: float) -> None:
    rng = random.Random(seed)
    samples = _sliding_log(_requests(rng, count, span, max_latency), limit, window)
    assert all(w.over == 0 for w in windows_of_key(KEY, samples, limit, window))


def test_counters_per_process_are_caught() -> None:
    """Four processes, each with its own counter, behind one port: each admits the limit."""
    rng = random.Random(7)
    requests = _requests(rng, 800, span=10.0, max_latency=0.05)
    per_process: list[list[tuple[float, float, float]]] = [[], [], [], []]
    for request in requests:
        per_process[rng.randrange(4)].append(request)
    samples = [s for part in per_process for s in _fixed_window(part, 60, 60.0)]
    found = windows_of_key(KEY, samples, 60, 60.0)
    assert len(found) == 1
    assert found[0].admitted == 240 and found[0].over == 180


def test_one_extra_admission_is_caught_in_a_short_run() -> None:
    rng = random.Random(3)
    samples = _fixed_window(_requests(rng, 200, span=5.0, max_latency=0.05), 11, 60.0)  # limit 10, admits 11
    (window,) = windows_of_key(KEY, samples, 10, 60.0)
    assert window.admitted == 11 and window.over == 1


def test_windows_follow_one_another_and_unanswered_requests_never_count() -> None:
    samples = [Sample(t, t + 0.01, 200, "me", (KEY,)) for t in (0.0, 1.0, 2.0, 10.5, 11.0, 21.0)]
    samples.append(Sample(3.0, 3.5, 0, "me", (KEY,)))
    found = windows_of_key(KEY, samples, 5, 10.0)
    assert [(w.number, w.admitted) for w in found] == [(1, 3), (2, 2), (3, 1)]
    assert all(w.over == 0 for w in found)


def test_login_keys_count_wrong_passwords_and_the_api_does_not_count_401() -> None:
    login = [Sample(t, t + 0.01, 401, "login", ("login-account:10.0.0.1|acct-1",)) for t in range(7)]
    api = [Sample(t, t + 0.01, 401, "me", (KEY,)) for t in range(7)]
    found = windows(login + api, {"login-account": (5, 60.0), "api": (5, 60.0)})
    assert [(w.key, w.admitted, w.over) for w in found] == [("login-account:10.0.0.1|acct-1", 7, 2)]
