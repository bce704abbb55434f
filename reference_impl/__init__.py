"""The bundled reference implementation of the authconform contract (a Flask app).

``create_app`` is imported on first use, so the fault catalog and the configuration (plain data)
import without Flask: ``pip install authconform`` without the ``[reference]`` extra still lists
the faults, and only what runs the reference needs Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reference_impl.config import Config, ConfigError

if TYPE_CHECKING:
    from reference_impl.app import create_app

__all__ = ["Config", "ConfigError", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from reference_impl.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
