"""The packages keep their layers: no cycle between packages, no private name imported across
packages, and only the two seams to the reference import reference_impl (read from the import
graph by conformance/devtools/layers.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conformance.devtools import layers

ROOT = Path(__file__).resolve().parents[1]


def test_the_layers_command_prints_the_graph_and_finds_no_problem() -> None:
    done = subprocess.run([sys.executable, "-m", "conformance.devtools.layers"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "reports -> conformance" in done.stdout
    assert "conformance -> reference_impl" in done.stdout
    assert "no cycle between packages" in done.stdout


def test_only_the_two_seams_import_the_reference() -> None:
    graph = layers.read(ROOT)
    importers = {item.importer for item in graph.imports
                 if (graph.owner(item.target) or "").split(".")[0] == "reference_impl"
                 and not item.importer.startswith("reference_impl")}
    assert importers == {"conformance.deployments", "conformance.targets.inprocess"}


def test_reports_render_only_they_import_no_front_end_and_run_nothing() -> None:
    graph = layers.read(ROOT)
    edges = graph.layer_edges()
    assert edges["reports"] == {"conformance"}
    by_reports = [i for i in graph.imports if i.importer.split(".")[0] == "reports"]
    assert not {graph.owner(i.target) for i in by_reports} & {"conformance.deployments", "conformance.cli"}
    assert not [i for i in by_reports if i.target == "conformance.runner" and i.name != "RunResult"]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cycle_a_private_import_and_a_reference_import_are_each_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "conformance/__init__.py": "", "conformance/core.py": "from reports.page import render\n",
        "conformance/selftest.py": "from reference_impl.faults import CATALOG\n",
        "reports/__init__.py": "", "reports/page.py": "from conformance.core import _helper\n",
        "scenarios/__init__.py": "", "reference_impl/__init__.py": "", "reference_impl/faults.py": "CATALOG = ()\n",
    })
    found = layers.problems(layers.read(root))
    assert "cycle between packages: conformance <-> reports" in found
    assert any("reports.page imports conformance.core._helper, private to package conformance" in p for p in found)
    assert any(p.startswith("conformance/selftest.py:1: conformance.selftest imports reference_impl.faults")
               for p in found)
    done = subprocess.run([sys.executable, "-m", "conformance.devtools.layers", "--root", str(root)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 1 and "layering problem(s)" in done.stderr


def test_a_front_end_may_import_everything_and_a_private_module_stays_in_its_package(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "conformance/__init__.py": "", "conformance/cli.py": "from reports import page\nfrom scenarios import x\n",
        "conformance/checks/__init__.py": "", "conformance/checks/_support.py": "",
        "conformance/checks/tokens.py": "from conformance.checks._support import thing\n",
        "conformance/other.py": "from conformance.checks import _support\n",
        "reports/__init__.py": "", "reports/page.py": "from conformance import other\n",
        "scenarios/__init__.py": "", "scenarios/x.py": "from . import y\n", "scenarios/y.py": "",
        "reference_impl/__init__.py": "",
    })
    found = layers.problems(layers.read(root))
    assert found == ["conformance/other.py:1: conformance.other imports conformance.checks._support, "
                     "private to package conformance.checks"]
