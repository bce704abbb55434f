"""docs/load.md documents every [load] field with its default, and every load profile."""

from __future__ import annotations

from pathlib import Path

from conformance.load.settings import SCENARIOS
from conformance.profile import LoadSection

DOC = Path(__file__).resolve().parents[2] / "docs" / "load.md"


def test_every_load_field_is_documented_with_its_default() -> None:
    text = DOC.read_text()
    for name, item in LoadSection.model_fields.items():
        default = item.default
        shown = f'`"{default}"`' if isinstance(default, str) else str(default)
        assert f"| `{name}` | {shown} |" in text, name


def test_every_load_profile_is_documented_and_has_its_locustfile() -> None:
    text = DOC.read_text()
    for name in SCENARIOS:
        assert f"| `{name}` |" in text, name
        assert (DOC.parents[1] / "scenarios" / "load" / f"{name}.py").is_file(), name
