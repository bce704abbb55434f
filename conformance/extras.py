"""The optional parts of authconform and the extra that installs each.

``pip install authconform`` is the suite alone: enough to point it at a service by URL. The
bundled reference (run in-process, served, or by the self-test) and the load runner need the
``reference`` and ``load`` extras; a command that needs one says so in one line instead of
failing on an import deep inside.
"""

from __future__ import annotations

import importlib.util

# The top-level modules each extra brings (the ones whose absence would break the feature).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "reference": ("flask", "sqlalchemy", "argon2"),
    "load": ("locust",),
    "openapi": ("schemathesis",),
}


class MissingExtra(Exception):
    """A feature was asked for whose extra is not installed; the message says what to install."""


def missing_modules(extra: str) -> list[str]:
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def require(extra: str, feature: str) -> None:
    """Return when ``extra`` is installed; otherwise raise MissingExtra naming it."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(f"{feature} needs the [{extra}] extra ({', '.join(missing)} not installed): "
                           f"pip install 'authconform[{extra}]'")
