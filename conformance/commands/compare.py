"""``authconform compare``: one HTML matrix, targets x checks, from several reports."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance import exitcodes
from conformance.errors import UsageError
from reports import json_report
from reports.html import compare_page


def _label(path: Path, taken: set[str]) -> str:
    name = path.parent.name if path.stem == "report" and path.parent.name else path.stem
    label, n = name or str(path), 2
    while label in taken:
        label, n = f"{name} ({n})", n + 1
    taken.add(label)
    return label


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.reports) < 2:
        raise UsageError("compare needs at least two reports (authconform compare A.json B.json ...)")
    taken: set[str] = set()
    loaded = [(_label(Path(p), taken), json_report.load(p)) for p in args.reports]
    if getattr(args, "only_differences", False):
        from reports.diff import only_differences

        kept = only_differences([report for _name, report in loaded])
        loaded = [(name, report) for (name, _old), report in zip(loaded, kept, strict=True)]
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(compare_page(loaded), encoding="utf-8")
    for name, report in loaded:
        counts = ", ".join(f"{n} {v}" for v, n in report["summary"].items() if n)
        print(f"{name:24} {report['run']['target']}: {counts}")
    ids = {c["id"] for _n, r in loaded for c in r["checks"]}
    shown = " that differ" if getattr(args, "only_differences", False) else ""
    print(f"{len(loaded)} targets x {len(ids)} checks{shown}: {out}")
    return exitcodes.OK
