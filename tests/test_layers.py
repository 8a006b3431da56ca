"""The apps are layered sectors < citizens < careplans < messaging (``smartcare`` is the project
layer): no app imports a higher one, and no modules import each other in a circle, imports inside
functions included. A lower app reaches a higher one only through a registry the higher app fills
from its ``AppConfig.ready()`` (dashboard cards, overview sections, access relationships)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"sectors": 0, "citizens": 1, "careplans": 2, "messaging": 3}
SKIPPED = {"tests", "migrations"}


def _modules() -> dict[str, Path]:
    found = {}
    for app in [*LAYERS, "smartcare"]:
        for path in (ROOT / app).rglob("*.py"):
            if SKIPPED.isdisjoint(path.relative_to(ROOT).parts):
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                found[name.removesuffix(".__init__")] = path
    return found


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in its body."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*package[: len(package) - node.level + 1], node.module or ""]) if node.level else ""
            base = base.strip(".") or (node.module or "")
            targets.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


GRAPH = {name: _imported(name, path, _modules()) for name, path in _modules().items()}


def test_no_app_imports_a_higher_layer():
    upward = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if name.split(".")[0] in LAYERS
        and target.split(".")[0] in LAYERS
        and LAYERS[target.split(".")[0]] > LAYERS[name.split(".")[0]]
    )
    assert upward == []


def test_no_import_cycles_not_even_through_imports_inside_functions():
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            for target in GRAPH.get(current, ()):
                if target == goal:
                    return True
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return False

    circular = sorted(name for name in GRAPH if reaches(name, name))
    assert circular == []
