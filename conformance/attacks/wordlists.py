"""Word lists a person supplies (``--wordlist``, ``[signing] wordlists``), checked before a run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from conformance.profile import Profile, ProfileError


def with_wordlists(profile: Profile, extra: Sequence[str] = ()) -> Profile:
    """``profile`` with its own word lists (relative to the profile file) and ``extra`` (from the
    command line, relative to the working directory) as absolute paths, each checked readable."""
    own = [_resolved(path, Path(profile.source).parent, "signing.wordlists", profile.source)
           for path in profile.signing.wordlists]
    added = [_resolved(path, Path.cwd(), "--wordlist", "command line") for path in extra]
    if not added and own == list(profile.signing.wordlists):
        return profile
    return profile.with_overrides({"signing.wordlists": own + added})


def _resolved(path: str, base: Path, field: str, source: str) -> str:
    full = Path(path).expanduser()
    if not full.is_absolute():
        full = base / full
    if not full.is_file() or not os.access(full, os.R_OK):
        raise ProfileError(source, field, f"{path} is not a readable file",
                           "give the path of a word list: one candidate secret per line, any size")
    return str(full)
