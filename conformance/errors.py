"""The one error a command raises for bad usage: ``authconform`` turns it into exit code 2.

Anything else that escapes a command is a bug of authconform (exit 70), however it is spelled:
a ``KeyError`` deep in a check is not the user's fault. Errors about files the user gave (a
profile, a baseline, a report) subclass this one or are mapped next to it in ``conformance/cli.py``.
"""

from __future__ import annotations


class UsageError(ValueError):
    """What was asked cannot be done as asked; the message says what to write instead."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
