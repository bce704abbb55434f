"""The bundled reference implementation of the authconform contract (a Flask app)."""

from reference_impl.app import create_app
from reference_impl.config import Config, ConfigError

__all__ = ["Config", "ConfigError", "create_app"]
