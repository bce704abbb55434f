"""The import graph of authconform's packages, and the layering rules it must keep.

``python -m conformance.devtools.layers`` prints which package imports which (every import
counts: module level, inside a function, or only for type checking) and exits 1 when a rule is
broken:

- no cycle between packages. The packages are the ones authconform ships (``conformance``,
  ``reports``, ``scenarios``, ``reference_impl``, each with its subpackages), and the front ends
  (``FRONT_ENDS``: the command line, its commands, the pytest plugin), which sit above all of them:
  they may import any package, and no package imports them;
- no module imports a private name (``_name``, or a ``_module``) of another package (here a
  package is a directory with ``__init__.py``, so ``conformance.checks._support`` is for
  ``conformance.checks`` alone);
- only ``conformance.targets.inprocess`` and ``conformance.deployments`` import ``reference_impl``:
  the rest of the suite asks those two, so a run against a URL needs nothing of the reference.

Imports are read with ``ast``, never executed, so the graph costs no import of Flask or locust.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("conformance", "reports", "scenarios", "reference_impl")  # the ones pyproject.toml ships
REFERENCE = "reference_impl"
# What a person runs (the commands; the pytest plugin and the suite it collects): the layer above
# every package.
FRONT_ENDS = ("conformance.cli", "conformance.commands", "conformance.load.cli", "scenarios.cli",
              "conformance.plugin", "conformance.suite_tests", "conformance.suite_support")
FRONT = "front ends"
# The two seams to the bundled reference; the rest of the suite must not know it.
REFERENCE_GATEWAYS = frozenset({"conformance.targets.inprocess", "conformance.deployments"})


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # the module imported (for ``from M import N``: M.N when that is a module, else M)
    name: str | None  # N when it is a name inside ``target``
    line: int


@dataclass
class Graph:
    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    imports: list[Import] = field(default_factory=list)

    def package_of(self, module: str) -> str:
        """The directory package ``module`` is in (a package's ``__init__`` is in itself)."""
        return module if module in self.packages else module.rpartition(".")[0]

    def layer_of(self, module: str) -> str:
        """``FRONT`` for a front end, else the shipped package ``module`` is part of."""
        if any(module == front or module.startswith(front + ".") for front in FRONT_ENDS):
            return FRONT
        return module.split(".")[0]

    def owner(self, dotted: str) -> str | None:
        """The project module that ``dotted`` (a module or a module's attribute) lives in."""
        while dotted:
            if dotted in self.modules:
                return dotted
            dotted = dotted.rpartition(".")[0]
        return None

    def layer_edges(self) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = {self.layer_of(module): set() for module in self.modules}
        for item in self.imports:
            owner = self.owner(item.target)
            if owner is None:
                continue
            source, target = self.layer_of(item.importer), self.layer_of(owner)
            if source != target:
                edges[source].add(target)
        return edges


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of a (possibly relative) ``from`` import's module."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def read(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> Graph:
    graph = Graph(root)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            graph.modules[module_name(path, root)] = path
            if path.name == "__init__.py":
                graph.packages.add(module_name(path, root))
    for module, path in graph.modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    graph.imports.append(Import(module, alias.name, None, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    child = f"{source}.{alias.name}"
                    if child in graph.modules:
                        graph.imports.append(Import(module, child, None, node.lineno))
                    else:
                        graph.imports.append(Import(module, source, alias.name, node.lineno))
    return graph


def _private(word: str) -> bool:
    return word.startswith("_") and not (word.startswith("__") and word.endswith("__"))


def private_imports(graph: Graph) -> list[str]:
    """Imports of a ``_name`` or a ``_module`` that another package owns."""
    problems = []
    for item in graph.imports:
        owner = graph.owner(item.target)
        if owner is None:
            continue
        words = item.target[len(owner):].split(".")[1:] + owner.split(".")[-1:] + ([item.name] if item.name else [])
        hidden = [w for w in words if _private(w)]
        if hidden and graph.package_of(owner) != graph.package_of(item.importer):
            shown = item.target + (f".{item.name}" if item.name else "")
            problems.append(f"{graph.modules[item.importer].relative_to(graph.root)}:{item.line}: {item.importer} "
                            f"imports {shown}, private to package {graph.package_of(owner)}")
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def cycle_witnesses(graph: Graph, component: Iterable[str]) -> list[str]:
    """The imports that make up a cycle, one line each, so a reader knows what to cut."""
    members = set(component)
    lines = []
    for item in graph.imports:
        owner = graph.owner(item.target)
        if owner is None:
            continue
        source, target = graph.layer_of(item.importer), graph.layer_of(owner)
        if source != target and source in members and target in members:
            lines.append(f"  {source} -> {target}: {item.importer} imports {owner} (line {item.line})")
    return sorted(set(lines))


def reference_imports(graph: Graph) -> list[str]:
    """Imports of ``reference_impl`` from a suite module that is not one of the two gateways."""
    problems = []
    for item in graph.imports:
        owner = graph.owner(item.target)
        if owner is None or not (owner == REFERENCE or owner.startswith(REFERENCE + ".")):
            continue
        if item.importer.split(".")[0] == REFERENCE or item.importer in REFERENCE_GATEWAYS:
            continue
        problems.append(f"{graph.modules[item.importer].relative_to(graph.root)}:{item.line}: {item.importer} imports "
                        f"{owner}; ask conformance.deployments instead")
    return problems


def problems(graph: Graph) -> list[str]:
    found = []
    for component in cycles(graph.layer_edges()):
        found.append("cycle between packages: " + " <-> ".join(component))
        found += cycle_witnesses(graph, component)
    found += private_imports(graph)
    found += reference_imports(graph)
    return found


def render(graph: Graph) -> str:
    edges = graph.layer_edges()
    lines = [f"{len(graph.modules)} modules; each package and the packages it imports"
             f" ({FRONT}: {', '.join(FRONT_ENDS)}):"]
    for layer in sorted(edges, key=lambda name: (name != FRONT, name)):
        lines.append(f"  {layer} -> {', '.join(sorted(edges[layer])) or '(nothing of the project)'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.devtools.layers", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to read (default: this one)")
    args = parser.parse_args(argv)
    graph = read(args.root.resolve())
    print(render(graph))
    found = problems(graph)
    if found:
        print(f"\n{len(found)} layering problem(s):", file=sys.stderr)
        for line in found:
            print(line, file=sys.stderr)
        return 1
    print("no cycle between packages, no private name imported across packages, "
          "reference_impl imported only by " + " and ".join(sorted(REFERENCE_GATEWAYS)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
