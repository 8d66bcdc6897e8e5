"""The package's import layers (docs/architecture.md): data flows one way, and no module cycle.

Every module of ``clawgym_env`` is parsed (ast, nothing imported); every import of a
``clawgym_env`` module counts: top-level, function-local (lazy), under ``if TYPE_CHECKING:``,
``import clawgym_env.x``, ``from clawgym_env.x import y`` and relative imports. A lazy import is
still a dependency: it only moves the failure from import time to the first call.

Not counted: the parent packages Python runs before a submodule (``import clawgym_env.tasks.model``
runs ``clawgym_env/__init__.py`` first; that is the package root's special case, kept light by
``test_import_clawgym_env_is_light``), and names in strings (gymnasium entry points).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "clawgym_env"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("paths", "progress", "workers"),  # base utilities: import nothing of ours
    ("sandbox",),  # the sandbox protocol and its backends
    ("tasks",),  # the Task model, task sources, the official reward.sh
    ("tools", "transcript"),  # OpenClaw tools, schemas, tool-call parsing; the message list format
    ("verify",),  # code verifier, rubric judge, hybrid scoring
    ("episode",),  # the episode contract's types: EnvConfig, StepResult, EpisodeResult, InfraError
    ("env", "registration", ""),  # the gymnasium env and its ids; "" is the package root's __init__
    ("agents",),  # Agent protocol and agents
    ("rollout",),  # run_episode, the rollout engine, trajectory records, Ray pool
    ("synth",),  # task synthesis and the quality gate (runs episodes through run_episode)
    ("sft", "bench", "viewer", "convert"),  # exporters; benchmark runner and reports; the trajectory viewer; suites in other formats
    ("integrations",),  # veRL, TRL adapters
    ("cli",),  # the `clawgym` command
)
"""Lowest first. A module may import its own layer or a lower one, never a higher one."""

KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()
"""(importer, imported) pairs being removed; an entry that no longer occurs fails the test too,
so this list only shrinks."""


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    path: Path
    line: int

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


# --------------------------------------------------------------------------- the checker
def module_name(path: Path, root: Path) -> str:
    """``root/pkg/a/b.py`` -> ``pkg.a.b``; a package's ``__init__.py`` is the package itself."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_imports(root: Path, package: str) -> tuple[set[str], list[Import]]:
    """All modules of ``package`` under ``root`` and every import of one of them, wherever it stands."""
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    imports: list[Import] = []
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against the importing module's package
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    parent = ".".join(base + ([node.module] if node.module else []))
                else:
                    parent = node.module or ""
                # `from pkg import sub` imports the submodule when there is one, else a name of pkg
                targets = [f"{parent}.{a.name}" if f"{parent}.{a.name}" in files else parent for a in node.names]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    while target not in files and "." in target:  # `import pkg.a.b` of a name, not a module
                        target = target.rpartition(".")[0]
                    if target != mod:
                        imports.append(Import(mod, target, path, node.lineno))
    return set(files), imports


def layer_map(layers: Iterable[Iterable[str]]) -> dict[str, int]:
    return {name: i for i, names in enumerate(layers) for name in names}


def layer_of(module: str, package: str, layers: Mapping[str, int]) -> int:
    """The layer of ``package.<name>...`` is the layer of ``name``; the package root's is ``""``'s."""
    top = module.split(".")[1] if "." in module else ""
    if top not in layers:
        raise KeyError(f"{module} has no layer: add {top or 'the package root'!r} to LAYERS")
    return layers[top]


def layer_violations(imports: Iterable[Import], package: str, layers: Mapping[str, int]) -> list[Import]:
    """Imports from a lower layer of a higher one."""
    return [imp for imp in imports
            if layer_of(imp.importer, package, layers) < layer_of(imp.target, package, layers)]


def import_cycles(modules: Iterable[str], imports: Iterable[Import]) -> list[list[Import]]:
    """One cycle (as its import edges) per strongly connected component of more than one module."""
    graph: dict[str, dict[str, Import]] = {m: {} for m in modules}
    for imp in imports:
        graph[imp.importer].setdefault(imp.target, imp)
    cycles = []
    for scc in _strongly_connected(graph):
        if len(scc) > 1:
            cycles.append(_a_cycle(min(scc), scc, graph))
    return cycles


def _strongly_connected(graph: Mapping[str, Mapping[str, Import]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on a deep chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    scc.add(member)
                    if member == node:
                        break
                out.append(scc)
    return out


def _a_cycle(start: str, scc: set[str], graph: Mapping[str, Mapping[str, Import]]) -> list[Import]:
    """The shortest way from ``start`` back to itself inside ``scc`` (breadth first)."""
    came: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child, imp in sorted(graph[node].items()):
                if child not in scc or child in came:
                    continue
                came[child] = imp
                if child == start:
                    path = [imp]
                    while path[0].importer != start:
                        path.insert(0, came[path[0].importer])
                    return path
                nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no cycle through {start} in {sorted(scc)}")  # an SCC of 2+ always has one


def _describe(imp: Import, root: Path, package: str, layers: Mapping[str, int]) -> str:
    names = {i: "/".join(n or "<package root>" for n in group) for i, group in enumerate(LAYERS)}
    src, dst = layer_of(imp.importer, package, layers), layer_of(imp.target, package, layers)
    return f"{imp.where(root)}: {imp.importer} -> {imp.target}  (layer {src} {names.get(src)} -> {dst} {names.get(dst)})"


# --------------------------------------------------------------------------- the package
def test_every_module_has_a_layer() -> None:
    modules, _ = collect_imports(REPO, PACKAGE)
    layers = layer_map(LAYERS)
    missing = sorted({m for m in modules if (m.split(".")[1] if "." in m else "") not in layers})
    assert not missing, f"modules with no layer (add them to LAYERS in {Path(__file__).name}): {missing}"


def test_no_import_from_a_higher_layer() -> None:
    _, imports = collect_imports(REPO, PACKAGE)
    layers = layer_map(LAYERS)
    found = layer_violations(imports, PACKAGE, layers)
    new = [imp for imp in found if (imp.importer, imp.target) not in KNOWN_VIOLATIONS]
    if new:
        pytest.fail("imports from a lower layer of a higher one:\n" + "\n".join(
            _describe(imp, REPO, PACKAGE, layers) for imp in new), pytrace=False)
    stale = KNOWN_VIOLATIONS - {(imp.importer, imp.target) for imp in found}
    assert not stale, f"KNOWN_VIOLATIONS lists imports that are gone (remove them): {sorted(stale)}"


def test_no_import_cycle() -> None:
    modules, imports = collect_imports(REPO, PACKAGE)
    cycles = import_cycles(modules, imports)
    if cycles:
        pytest.fail("import cycles (lazy imports count), one per strongly connected component:\n" + "\n\n".join(
            "\n".join(f"  {imp.where(REPO)}: {imp.importer} -> {imp.target}" for imp in cycle) for cycle in cycles),
            pytrace=False)


def test_import_clawgym_env_is_light() -> None:
    """``import clawgym_env`` and ``gym.make`` load no trainer, cluster or docker SDK (DESIGN.md)."""
    heavy = ("torch", "transformers", "trl", "verl", "ray", "docker", "datasets", "vllm")
    code = ("import sys, gymnasium as gym, clawgym_env\n"
            "env = gym.make(clawgym_env.BUILTIN_IDS[0]); env.close()\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout


# --------------------------------------------------------------------------- the checker can fail
def _write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_names_an_upward_import_even_a_lazy_one(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "import os\n\n\ndef f():\n    from pkg.high import g\n    return g\n",
        "pkg/high/__init__.py": "from . import impl\n",
        "pkg/high/impl.py": "from ..low import f\nimport pkg.low\n",
    })
    modules, imports = collect_imports(tmp_path, "pkg")
    assert modules == {"pkg", "pkg.low", "pkg.high", "pkg.high.impl"}
    edges = {(i.importer, i.target, i.line) for i in imports}
    assert edges == {("pkg.low", "pkg.high", 5), ("pkg.high", "pkg.high.impl", 1),
                     ("pkg.high.impl", "pkg.low", 1), ("pkg.high.impl", "pkg.low", 2)}
    layers = layer_map([("low",), ("high",)])
    bad = layer_violations(imports, "pkg", layers)
    assert [(b.importer, b.target, b.where(tmp_path)) for b in bad] == [("pkg.low", "pkg.high", "pkg/low.py:5")]
    with pytest.raises(KeyError, match="pkg.low has no layer"):
        layer_violations(imports, "pkg", layer_map([("high",)]))


def test_checker_finds_a_cycle_through_lazy_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import x\n",
        "pkg/b.py": "x = 1\n\n\ndef later():\n    from pkg import c\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import y\n",
        "pkg/d.py": "from pkg import a\n",  # into the cycle, not part of it
    })
    modules, imports = collect_imports(tmp_path, "pkg")
    cycles = import_cycles(modules, imports)
    assert len(cycles) == 1
    assert [(i.importer, i.target, i.line) for i in cycles[0]] == [
        ("pkg.a", "pkg.b", 1), ("pkg.b", "pkg.c", 5), ("pkg.c", "pkg.a", 3)]
    _write(tmp_path, {"pkg/c.py": "y = 2\n"})
    assert import_cycles(*collect_imports(tmp_path, "pkg")) == []
