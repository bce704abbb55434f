"""``authconform diff``: regressions, fixes, new and removed checks between two reports."""

from __future__ import annotations

import argparse
import json

from conformance import exitcodes
from reports import json_report
from reports.diff import compare


def cmd_diff(args: argparse.Namespace) -> int:
    old, new = json_report.load(args.old), json_report.load(args.new)
    diff = compare(old, new, strict=args.strict)
    if args.json:
        print(json.dumps(diff.to_dict(), indent=2))
    else:
        print(f"old: {args.old} ({old['run']['target']}, {old['run']['started']})")
        print(f"new: {args.new} ({new['run']['target']}, {new['run']['started']})")
        print(diff.render())
    return exitcodes.CONFORMANCE_FAILURE if diff.failed(strict=args.strict) else exitcodes.OK
