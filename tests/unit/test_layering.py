"""The layers docs/architecture.md draws, checked on the source (every import, module
level or inside a function, read with `ast`): the domain core imports no web framework,
and the send pipeline (core/delivery) imports nothing from core/campaigns (campaigns
uses delivery to enqueue and cancel, never the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "mini_crm" / "core"


def _imports(path: Path, root: Path) -> set[str]:
    """Every module a file imports, as absolute dotted names (relative ones resolved)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _offending(folder: Path, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return sorted(f"{path.relative_to(root).as_posix()}: {name}"
                  for path in folder.rglob("*.py") for name in _imports(path, root)
                  if name.startswith(forbidden))


def test_the_checker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    # The check must be able to fail: a file of this shape under core/delivery is
    # reported for both imports.
    delivery = tmp_path / "mini_crm" / "core" / "delivery"
    delivery.mkdir(parents=True)
    (delivery / "probe.py").write_text("def f():\n    from mini_crm.core.campaigns import "
                                       "ab_test\nfrom ..campaigns import reach\n",
                                       encoding="utf-8")
    found = _offending(delivery, ("mini_crm.core.campaigns",), root=tmp_path)
    assert "mini_crm/core/delivery/probe.py: mini_crm.core.campaigns.ab_test" in found
    assert "mini_crm/core/delivery/probe.py: mini_crm.core.campaigns.reach" in found


def test_the_send_pipeline_imports_nothing_from_campaigns() -> None:
    assert _offending(CORE / "delivery", ("mini_crm.core.campaigns",)) == []


@pytest.mark.parametrize("framework", ["reflex", "fastapi", "starlette"])
def test_the_core_imports_no_web_framework(framework: str) -> None:
    assert _offending(CORE, (framework,)) == []


def test_the_state_layer_builds_no_sql() -> None:
    """Page states call core functions (which own the SQL and its read models); they may
    name the database's exception types to word a failure, nothing else of SQLAlchemy."""
    state = ROOT / "mini_crm" / "state"
    found = [o for o in _offending(state, ("sqlalchemy", "sqlmodel"))
             if not o.split(": ", 1)[1].startswith("sqlalchemy.exc")]
    assert found == []
