"""Exit codes, one table for every command (documented in the README)."""

OK = 0
CONFORMANCE_FAILURE = 1
USAGE_OR_PROFILE = 2
TARGET_UNREACHABLE = 3
LOAD_THRESHOLD = 4
INTERNAL_ERROR = 70
