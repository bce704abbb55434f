"""The commands of ``authconform`` that write or read reports: the end of ``run`` (the four reports,
the baseline gate, the exit code), ``baseline write``, ``diff``, ``replay`` and ``compare``.

They sit above ``reports`` (which only renders a report into files) and the runner;
``conformance/cli.py`` parses their options and turns the ``ValueError``s they raise, each naming
the file and the fix, into exit code 2.
"""

from __future__ import annotations

from conformance.commands.baseline import cmd_baseline_write
from conformance.commands.compare import cmd_compare
from conformance.commands.diff import cmd_diff
from conformance.commands.replay import cmd_replay

__all__ = ["cmd_baseline_write", "cmd_compare", "cmd_diff", "cmd_replay"]
