"""No module of the project imports, at module level, a module that imports it back.

A cycle makes import order matter (a name is missing when the other module is half
initialised) and hides which module depends on which. `from package import submodule`
counts as importing the submodule, not the package's `__init__`: Python runs a
package's `__init__` before any of its submodules anyway, so a facade that re-exports
its submodules is not a cycle. Imports inside functions are reviewed separately
(test_function_imports.py).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mini_crm", "workers")


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module name → the project modules it imports at module level (TYPE_CHECKING
    blocks and function bodies excluded)."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for file in (root / package).rglob("*.py"):
            name = ".".join(file.relative_to(root).with_suffix("").parts)
            files[name.removesuffix(".__init__")] = file

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, file in files.items():
        here = name.split(".") if file.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*here[:len(here) - node.level + 1], *filter(None, [base])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]
            else:
                continue
            deps.update(t for t in map(known, targets) if t and t != name)
        graph[name] = deps
    return graph


def test_no_module_level_import_cycles() -> None:
    try:
        list(graphlib.TopologicalSorter(module_graph()).static_order())
    except graphlib.CycleError as cycle:
        raise AssertionError("module-level import cycle: "
                             + " → ".join(cycle.args[1])) from None


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "mini_crm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from mini_crm.b import x\n")
    (pkg / "b.py").write_text("from mini_crm import a\nx = 1\n")
    (tmp_path / "workers").mkdir()
    graph = module_graph(tmp_path)
    assert graph["mini_crm.a"] == {"mini_crm.b"} and graph["mini_crm.b"] == {"mini_crm.a"}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return
    raise AssertionError("a → b → a was not reported")
