"""The one classifier of a target's answers, which every check and scenario step judges by.

A check asks what kind of answer it got, never "was it a 4xx": a 429 is the target's limiter
speaking, not a refusal of the token the check forged; a 5xx is a crash, which says nothing about
the rule; a 404 on a route the profile maps says the operation is missing. What counts as a
refusal (401/403, plus what the profile declares, e.g. Flask-JWT-Extended's 422) and as the
limiter's signal (429) come from ``[target]`` of the profile.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.targets.base import Response

DEFAULT_REFUSALS = (401, 403)
DEFAULT_RATE_LIMITED = (429,)


class Answer(StrEnum):
    ACCEPTED = "accepted"  # 2xx
    REFUSED = "refused"  # the target refused the credentials or the right (401/403 or declared)
    RATE_LIMITED = "rate-limited"  # the limiter answered: no evidence about the rule
    CRASHED = "crashed"  # 5xx
    MISSING = "missing"  # 404 on an operation the profile maps
    OTHER = "other"  # any other answer (a 400 for a body, a 3xx, a 1xx)


class Classifier:
    def __init__(self, refusals: tuple[int, ...] | list[int] = DEFAULT_REFUSALS,
                 rate_limited: tuple[int, ...] | list[int] = DEFAULT_RATE_LIMITED) -> None:
        self.refusals = frozenset(refusals)
        self.rate_limited = frozenset(rate_limited)

    def classify(self, status: int | None) -> Answer:
        if status is None:
            return Answer.OTHER
        if status in self.rate_limited:
            return Answer.RATE_LIMITED
        if status in self.refusals:
            return Answer.REFUSED
        if 200 <= status < 300:
            return Answer.ACCEPTED
        if status >= 500:
            return Answer.CRASHED
        if status == 404:
            return Answer.MISSING
        return Answer.OTHER

    def describe(self) -> str:
        return "refusal " + "/".join(str(s) for s in sorted(self.refusals))


def retry_after(response: Response) -> float | None:
    """The Retry-After of an answer in seconds (delta-seconds form only), or None."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
