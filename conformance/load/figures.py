"""From a finished run (its samples and locust's CSV statistics) to the figures of the report, and
from the figures and the profile's ``[load]`` thresholds to a verdict.

The threshold figures come from the samples, which hold every request up to the end of the run;
locust's ``*_stats.csv`` gives the per-request-name table and ``*_stats_history.csv`` the latency
percentiles over time (locust writes both every second).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.load.samples import API, CLASSES, LOGIN_ACCOUNT, LOGIN_IP, VIOLATIONS, Sample, status_class
from conformance.load.windows import Window, windows
from conformance.profile import Profile

MAX_TIMELINE_POINTS = 120  # buckets of the requests-per-second chart; longer runs use wider buckets
MAX_WINDOWS_LISTED = 200  # windows kept in the figures (the fullest first); the totals count them all
LOCUST_PREFIX = "locust"  # --csv prefix: locust_stats.csv, locust_stats_history.csv, locust_failures.csv


@dataclass(frozen=True)
class Threshold:
    name: str
    field: str  # the profile field that declares it
    limit: float
    value: float
    unit: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "field": self.field, "limit": self.limit, "value": self.value,
                "unit": self.unit, "passed": self.passed}


def limits_of(profile: Profile) -> dict[str, tuple[int, float]]:
    rate = profile.rate_limits
    return {API: (rate.api_limit, float(rate.api_window)),
            LOGIN_IP: (rate.login_ip_limit, float(rate.login_window)),
            LOGIN_ACCOUNT: (rate.login_account_limit, float(rate.login_window))}


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted or not); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def _timeline(samples: Sequence[Sample], start: float, end: float) -> dict[str, Any]:
    span = max(end - start, 1.0)
    bucket = max(1, math.ceil(span / MAX_TIMELINE_POINTS))
    count = max(1, math.ceil(span / bucket))
    series = {name: [0] * count for name in CLASSES}
    for sample in samples:
        index = min(count - 1, max(0, int((sample.received - start) // bucket)))
        series[status_class(sample.status)][index] += 1
    per_second = {name: [round(n / bucket, 2) for n in values] for name, values in series.items()}
    return {"bucket_s": bucket, "t": [i * bucket for i in range(count)], **per_second}


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def endpoints(stats_csv: Path) -> list[dict[str, Any]]:
    """locust's per-name table (the ``Aggregated`` row left out)."""
    rows = []
    for row in _read_csv(stats_csv):
        if row.get("Name") == "Aggregated":
            continue
        rows.append({"method": row.get("Type", ""), "name": row.get("Name", ""),
                     "requests": int(_number(row.get("Request Count", "")) or 0),
                     "failures": int(_number(row.get("Failure Count", "")) or 0),
                     "p50_ms": _number(row.get("50%", "")), "p95_ms": _number(row.get("95%", "")),
                     "p99_ms": _number(row.get("99%", "")), "max_ms": _number(row.get("Max Response Time", "")),
                     "rps": round(_number(row.get("Requests/s", "")) or 0.0, 2)})
    return rows


def latency_timeline(history_csv: Path, start: float) -> dict[str, list[float]]:
    """locust's running percentiles of all requests, one point per second it wrote."""
    out: dict[str, list[float]] = {"t": [], "users": [], "p50_ms": [], "p95_ms": [], "p99_ms": []}
    for row in _read_csv(history_csv):
        if row.get("Name") != "Aggregated":
            continue
        stamp, p50, p95, p99 = (_number(row.get(k, "")) for k in ("Timestamp", "50%", "95%", "99%"))
        answered = _number(row.get("Total Request Count", ""))
        if stamp is None or p50 is None or p95 is None or p99 is None or not answered or not p99:
            continue  # locust writes rows before its first percentiles: nothing to draw yet
        out["t"].append(round(stamp - start, 1))
        out["users"].append(_number(row.get("User Count", "")) or 0)
        out["p50_ms"].append(p50)
        out["p95_ms"].append(p95)
        out["p99_ms"].append(p99)
    return out


def _window_entry(window: Window) -> dict[str, Any]:
    kind, _, subject = window.key.partition(":")
    return {"key": window.key, "kind": kind, "subject": subject, "number": window.number,
            "admitted": window.admitted, "refused": window.refused, "limit": window.limit, "over": window.over}


def build(samples: Sequence[Sample], profile: Profile, directory: Path, *, started: float,
          finished: float) -> dict[str, Any]:
    """The ``load`` figures of the report (schema in docs/report-schema.md)."""
    load = profile.load
    answered = [s for s in samples if s.status]
    latencies = [s.latency_ms for s in answered]
    start = min((s.sent for s in samples), default=started)
    end = max((s.received for s in samples), default=finished)
    found = windows(samples, limits_of(profile))
    by_kind: dict[str, dict[str, Any]] = {}
    for kind, (limit, length) in limits_of(profile).items():
        mine = [w for w in found if w.key.startswith(kind + ":")]
        if mine:
            by_kind[kind] = {"limit": limit, "window_s": length, "keys": len({w.key for w in mine}),
                             "windows": len(mine), "max_admitted": max(w.admitted for w in mine),
                             "over_admission": sum(w.over for w in mine)}
    violations = Counter(s.violation for s in samples if s.violation)
    rate_over = sum(w.over for w in found)
    requests = len(samples)
    unexpected = sum(s.unexpected for s in samples)
    classes = Counter(status_class(s.status) for s in samples)
    failed_to_answer = sum(1 for s in samples if not s.status)
    over_total = rate_over + sum(violations.values())
    thresholds = [
        Threshold("over-admission", "load.max_over_admission", load.max_over_admission, over_total),
        Threshold("error ratio", "load.max_error_ratio", load.max_error_ratio,
                  round(unexpected / requests, 4) if requests else 0.0),
        Threshold("p95 latency", "load.max_p95_ms", load.max_p95_ms, round(percentile(latencies, 0.95), 1), "ms"),
        Threshold("5xx answers", "load.max_5xx", load.max_5xx, classes["5xx"]),
    ]
    listed = sorted(found, key=lambda w: (-w.over, -w.admitted, w.key, w.number))[:MAX_WINDOWS_LISTED]
    return {
        "requests": requests,
        "unexpected": unexpected,
        "no_answer": failed_to_answer,
        "duration_s": round(finished - started, 2),
        "rps": round(requests / max(end - start, 1e-9), 1) if requests else 0.0,
        "status_classes": {name: classes[name] for name in CLASSES},
        "latency_ms": {"p50": round(percentile(latencies, 0.50), 1), "p95": round(percentile(latencies, 0.95), 1),
                       "p99": round(percentile(latencies, 0.99), 1), "max": round(max(latencies, default=0.0), 1)},
        "over_admission": {"total": over_total, "rate_limits": rate_over,
                           **{name: violations[name] for name in VIOLATIONS}},
        "limits": by_kind,
        "windows_total": len(found),
        "windows": [_window_entry(w) for w in listed],
        "timeline": _timeline(samples, start, end),
        "latency_timeline": latency_timeline(directory / f"{LOCUST_PREFIX}_stats_history.csv", start),
        "endpoints": endpoints(directory / f"{LOCUST_PREFIX}_stats.csv"),
        "thresholds": [t.as_dict() for t in thresholds],
        "passed": all(t.passed for t in thresholds),
    }
