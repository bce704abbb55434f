"""The Jinja2 environment every HTML page of the reports is rendered with.

Templates live in ``reports/templates/`` (one per page, shared pieces under ``partials/``) and are
shipped as package data. Autoescape is on for every template: whatever a target sent (a header,
a body, a reason quoting it) reaches the page as text, never as markup. Undefined names are an
error, so a misspelt field fails a test instead of leaving a blank.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.json_report import coverage_text


def _general(value: Any) -> str:
    """A number as ``:g`` writes it (60, 0.5, 1e+06)."""
    return f"{float(value):g}"


def _milliseconds(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0f}"


def _seconds(value: Any) -> str:
    return f"{float(value or 0):.2f}"


def _percent(value: Any) -> str:
    return f"{float(value or 0):.0%}"


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update({"general": _general, "ms": _milliseconds, "seconds": _seconds, "percent": _percent,
                        "coverage": coverage_text})
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
