"""Architecture contracts: no import cycle anywhere in restate_lab, and the lower layers never import a front end.

The same contracts are in ``pyproject.toml`` for ``lint-imports`` (run by ``scripts/test.sh``); here they fail
pytest too, with the cycle or the offending import in the message. Imports under ``TYPE_CHECKING`` count: a
cycle that only the type checker sees is still two modules that cannot be understood one without the other.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

import pytest

grimp = pytest.importorskip("grimp", reason="grimp (installed with import-linter) builds the import graph")

PACKAGE = "restate_lab"
ROOT = pathlib.Path(__file__).resolve().parent.parent / PACKAGE
#: Front ends: they may import the runtime, never the other way round (``notebook`` is still to be built).
FRONT_ENDS = ("ingress", "kafka", "notebook", "cli", "server", "sim")
#: What each lower layer may import inside the package (besides itself).
LAYERS = {
    "rules": set(),
    "protocol": {"rules"},
    "runtime": {"rules", "protocol", "api", "catalogue"},
}
#: Names two modules declare for two different things on purpose, and why.
DIFFERENT_THINGS = {
    "Send": "ASGI's send callable (protocol.asgi) and the simulator's send step (sim.model, public API)",
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE)


def _strongly_connected(graph: grimp.ImportGraph, nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every group of two or more nodes that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def _module_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_module_imports_itself_through_a_ring_of_modules(graph: grimp.ImportGraph) -> None:
    """No import cycle between modules of restate_lab (engine and its parts, admin and Kafka routes, h2c ...)."""
    cycles = _strongly_connected(graph, set(graph.modules), _module_edges(graph))
    assert cycles == [], f"import cycles: {cycles}"


def test_no_two_sibling_packages_or_modules_import_each_other(graph: grimp.ImportGraph) -> None:
    """Within every package, its subpackages and modules (each with what is inside it) form no import cycle."""
    edges = _module_edges(graph)
    cycles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = graph.find_children(package)

        def child_of(module: str, package: str = package, children: set[str] = children) -> str | None:
            prefix = package + "."
            if not module.startswith(prefix):
                return None
            child = prefix + module[len(prefix) :].split(".")[0]
            return child if child in children else None

        sibling_edges: dict[str, set[str]] = defaultdict(set)
        for importer, imported in edges.items():
            a = child_of(importer)
            for target in imported:
                b = child_of(target)
                if a is not None and b is not None and a != b:
                    sibling_edges[a].add(b)
        cycles += _strongly_connected(graph, set(children), sibling_edges)
    assert cycles == [], f"sibling import cycles: {cycles}"


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_lower_layers_import_only_what_is_below_them(graph: grimp.ImportGraph, layer: str) -> None:
    """rules import nothing of ours, protocol only rules, runtime only rules, protocol and the API types."""
    allowed = LAYERS[layer] | {layer}
    offending = sorted(
        (importer, imported)
        for importer, imported_set in _module_edges(graph).items()
        if _layer(importer) == layer
        for imported in imported_set
        if imported.startswith(PACKAGE + ".") and _layer(imported) not in allowed
    )
    assert offending == [], f"{layer} imports outside {sorted(allowed)}: {offending}"


def test_runtime_rules_and_protocol_never_import_a_front_end(graph: grimp.ImportGraph) -> None:
    """Not even indirectly: no chain of imports leads from the lower layers to ingress, kafka, notebook, cli, ..."""
    lower = [m for m in graph.modules if _layer(m) in LAYERS]
    front = [m for m in graph.modules if _layer(m) in FRONT_ENDS]
    chains = [graph.find_shortest_chain(importer=a, imported=b) for a in lower for b in front]
    found = [c for c in chains if c is not None]
    assert found == [], f"import chains into a front end: {found[:5]}"


def test_every_class_and_type_alias_is_declared_once() -> None:
    """A type has one home (the ASGI types were declared twice); other modules import it from there."""
    homes: dict[str, list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                homes[node.name].append(module)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                is_alias = isinstance(node.value, ast.Subscript | ast.BinOp) and name[:1].isupper()
                if is_alias and not name.isupper():
                    homes[name].append(module)
    twice = {name: where for name, where in homes.items() if len(where) > 1 and name not in DIFFERENT_THINGS}
    assert twice == {}
