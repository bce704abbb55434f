"""The bundled scenarios: one short story per file (see scenarios/catalog.py for the format)."""
