"""The package's modules import each other without a cycle (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import lgrin_edge

ROOT = Path(lgrin_edge.__file__).parent


def _graph() -> dict[str, set[str]]:
    """Module -> the lgrin_edge modules it imports anywhere in its source (a package counts as itself)."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        if "c_sources" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lgrin_edge"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("lgrin_edge")}
        graph[name] = {_owner(m, modules) for m in found} - {name, ""}
    return graph


def _owner(module: str, modules: dict) -> str:
    while module and module not in modules:
        module = module.rpartition(".")[0]
    return module


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_no_module_imports_back_into_one_that_imports_it():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
