"""WSGI entry point: ``gunicorn reference_impl.wsgi:app`` (configuration from AUTHCONF_* variables)."""

from __future__ import annotations

import os

from reference_impl.app import create_app
from reference_impl.config import Config

app = create_app(Config.from_env(os.environ))
