"""``authconform baseline write``: a baseline accepting every failure of a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance import exitcodes
from conformance.errors import UsageError
from reports import baseline as baseline_mod
from reports import json_report


def cmd_baseline_write(args: argparse.Namespace) -> int:
    report = json_report.load(args.report)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; a baseline holds reasons people wrote: edit it, "
                         "or pass --force to write over it")
    text = baseline_mod.from_report(report, days=args.days)
    out.write_text(text)
    count = text.count("[[expected]]")
    print(f"wrote {out}: {count} expected failure(s), expiring in {args.days} days; fill in each reason")
    return exitcodes.OK
