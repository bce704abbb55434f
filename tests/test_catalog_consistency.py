"""The registry and the fault catalog agree: every check has a fault, every fault names real checks."""

from __future__ import annotations

from conformance import registry
from reference_impl.faults import CATALOG


def test_every_check_is_exercised_by_a_fault() -> None:
    named = {check_id for fault in CATALOG for check_id in fault.caught_by}
    orphans = sorted(c.id for c in registry.all_checks() if c.id not in named)
    assert not orphans, f"checks without a fault in reference_impl/faults.py: {orphans}"


def test_every_fault_names_registered_checks() -> None:
    known = {c.id for c in registry.all_checks()}
    unknown = {fault.name: sorted(set(fault.caught_by) - known) for fault in CATALOG}
    unknown = {name: ids for name, ids in unknown.items() if ids}
    assert not unknown, f"faults naming checks that do not exist: {unknown}"


def test_fault_names_are_unique_and_described() -> None:
    names = [fault.name for fault in CATALOG]
    assert len(names) == len(set(names))
    assert all(fault.imitates and fault.caught_by for fault in CATALOG)
    assert len(CATALOG) >= 40


def test_check_ids_name_their_area_and_carry_rule_and_references() -> None:
    for check in registry.all_checks():
        prefix = registry.AREAS[check.area][0]
        assert check.id.startswith(prefix + "-"), check.id
        assert check.rule and check.title and check.references, check.id
