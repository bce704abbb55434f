"""Tools for the project's own upkeep (generated docs), run as ``python -m conformance.devtools.NAME``."""
