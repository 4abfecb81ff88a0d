"""The library's layers point down only, have no import cycles, and never import dagster.

Layers in data-flow order (DESIGN.md "Layout"); a module may import its own layer and the ones
before it. Foundation (calendar, schemas, config, logs, pricing) comes first. `execution` (costs,
market impact, the fill simulator) sits below `backtest` because the backtest and paper trading share
its simulator.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from trademl.config import REPO_ROOT

PACKAGE = REPO_ROOT / "trademl"
LAYERS = [
    {"calendar", "schemas", "config", "logs", "pricing"},
    {"data"},
    {"curate"},
    {"features"},
    {"labels"},
    {"validation"},
    {"models"},
    {"portfolio"},
    {"execution"},
    {"backtest"},
    {"live"},
    {"monitoring"},
    {"reports"},
    {"registry"},
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute names of the trademl/dagster modules `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    me = module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {n for n in out if n.split(".")[0] in ("trademl", "dagster")}


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_top_level_name_of_trademl_belongs_to_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert names - {"__init__"} <= set(RANK), f"not in a layer of tests/test_layering.py: {sorted(names - {'__init__'} - set(RANK))}"


def test_no_module_imports_from_a_layer_above_its_own():
    known = modules()
    upward = []
    for name, path in known.items():
        own = layer_of(name)
        if own not in RANK:
            continue
        for target in imports(path):
            if target.split(".")[0] != "trademl" or layer_of(target) not in RANK:
                continue
            if RANK[layer_of(target)] > RANK[own]:
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_no_module_in_trademl_imports_dagster():
    offenders = [name for name, path in modules().items() if any(t.split(".")[0] == "dagster" for t in imports(path))]
    assert offenders == []


def test_importing_every_trademl_module_loads_no_dagster():
    code = (
        "import importlib, json, pkgutil, sys, trademl\n"
        "names = [m.name for m in pkgutil.walk_packages(trademl.__path__, 'trademl.')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "print(json.dumps({'n': len(names), 'dagster': sorted(m for m in sys.modules if m.split('.')[0] == 'dagster')}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["n"] > 50 and result["dagster"] == []


def test_top_level_imports_have_no_cycle():
    known = modules()
    graph = {
        name: {t for t in imports(path, top_level_only=True) if t in known and t != name}
        for name, path in known.items()
    }
    # a package's __init__ importing its own submodules is the facade pattern, not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not (known[name].name == "__init__.py" and t.startswith(name + "."))}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(stack[stack.index(nxt):] + [node, nxt] if nxt in stack else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*stack, node]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, []):
            break
    assert cycle == [], " -> ".join(cycle)


@pytest.mark.parametrize("package", ["trademl_assets", "trademl_resources", "trademl_jobs"])
def test_dagster_packages_do_not_import_each_other_upward(package):
    """Resources know nothing of assets or jobs; assets know nothing of jobs."""
    order = {"trademl_resources": 0, "trademl_assets": 1, "trademl_jobs": 2}
    upward = []
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                top = n.split(".")[0]
                if top in order and order[top] > order[package]:
                    upward.append(f"{path.relative_to(REPO_ROOT)} -> {n}")
    assert upward == []
