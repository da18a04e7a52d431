"""The layout the code keeps, measured from its own imports (docs/architecture.md draws it).

Layers, bottom up: the pure core (``protocol``, ``crypto``, ``envelope``, ``forms``, ``log``,
``watch``, ``errors``) < ``storage`` < ``node`` < ``views`` < the surfaces (``api``,
``console``, ``cli``, ``demo``, ``evidence``) < the composition root (``server``). An import may
only point down. ``hotline.testing`` is for tests and may use anything.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import hotline

ROOT = Path(hotline.__file__).parent
REPO = ROOT.parent.parent
PURE = ["protocol", "crypto", "envelope", "forms", "watch", "log"]
IO_LIBRARIES = {"asyncio", "ssl", "socket", "sqlite3", "fastapi", "starlette", "uvicorn", "httpx", "time"}
SURFACES = ["api", "console", "cli", "demo", "evidence", "views"]
MAX_FUNCTION = 80  # lines: a function longer than a screen hides a second job
MAX_MODULE = 500  # lines: past this a module is several rooms under one name


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def imports(path: Path) -> set[str]:
    """Every module a file imports, as written (``from a import b`` counts ``a`` and ``a.b``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def within(name: str, packages: list[str] | set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


GRAPH = {module_name(path): imports(path) for path in source_files()}
MODULES = set(GRAPH)


def file_edges(path: Path) -> set[str]:
    """The files of this package a file depends on. ``from a import b`` with ``b`` a module
    names the file ``a/b.py`` only (``a/__init__.py`` runs first, whatever imports ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= submodules & MODULES
            if not submodules <= MODULES:
                found.add(node.module)
    return found & MODULES


def layer_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def files_of(package: str) -> Iterator[tuple[str, set[str]]]:
    for module, names in GRAPH.items():
        if within(module, [f"hotline.{package}"]):
            yield module, names


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_no_io(package: str) -> None:
    for module, names in files_of(package):
        bad = {n for n in names if within(n, IO_LIBRARIES) or within(n, ["hotline.node", "hotline.storage"])}
        bad |= {n for n in names if within(n, [f"hotline.{s}" for s in SURFACES])}
        assert not bad, f"{module} imports {bad}"


def test_no_circle_between_files() -> None:
    edges = {module_name(path): file_edges(path) - {module_name(path)} for path in source_files()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circle = [*path[path.index(target) :], target]
                pytest.fail("a circle of imports: " + " -> ".join(circle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_the_node_imports_no_surface() -> None:
    above = [f"hotline.{name}" for name in [*SURFACES, "server", "testing"]]
    for module, names in files_of("node"):
        assert not {n for n in names if within(n, above)}, f"{module} imports a surface"


def test_the_api_and_the_console_do_not_import_each_other() -> None:
    for one, other in (("api", "console"), ("console", "api")):
        for module, names in files_of(one):
            assert not {n for n in names if within(n, [f"hotline.{other}"])}, f"{module} imports {other}"


def test_surfaces_reach_the_node_through_its_face_only() -> None:
    """``from hotline.node import Desk, …``: never a module inside the node."""
    for surface in SURFACES:
        for module, names in files_of(surface):
            inside = {
                n for n in names if n.startswith("hotline.node.") and n.removeprefix("hotline.node.") not in _face()
            }
            assert not inside, f"{module} reaches into the node: {inside}"


def _face() -> set[str]:
    """The names ``hotline.node`` exports (``from hotline.node import X`` reads as hotline.node.X)."""
    tree = ast.parse((ROOT / "node" / "__init__.py").read_text())
    return {alias.asname or alias.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for alias in n.names}


def test_no_surface_opens_the_store_around_the_node() -> None:
    for surface in SURFACES:
        for module, names in files_of(surface):
            bad = {n for n in names if within(n, ["sqlite3", "hotline.storage.sqlite"])}
            assert not bad, f"{module} imports {bad}: go through hotline.storage.open_store and the Store protocol"


def test_storage_imports_nothing_above_it() -> None:
    allowed = ["hotline.errors", "hotline.envelope", "hotline.log", "hotline.crypto", "hotline.storage"]
    for module, names in files_of("storage"):
        bad = {n for n in names if n.startswith("hotline") and not within(n, allowed)}
        assert not bad, f"{module} imports {bad}"


CLOCK_READS = re.compile(r"\btime\.(time|monotonic|perf_counter|time_ns)\b|datetime\.now|utcnow|loop\.time\(")


def test_the_node_reads_its_clock_in_one_place() -> None:
    """Only ``node/clock.py`` reads the time or sleeps on it: every other part of the node asks
    the clock it was given, so a test can give it a clock of its own."""
    for path in sorted((ROOT / "node").glob("*.py")):
        if path.name == "clock.py":
            continue
        text = path.read_text()
        assert "time" not in {n.split(".")[0] for n in imports(path)}, f"{path.name} imports time"
        assert not CLOCK_READS.search(text), f"{path.name} reads the clock: {CLOCK_READS.search(text)}"
        sleeps = re.findall(r"asyncio\.sleep\(([^)]*)\)", text)
        assert all(arg == "0" for arg in sleeps), f"{path.name} sleeps on the event loop's clock: {sleeps}"


def _long_functions(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION:
                yield f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({length} lines)"


def test_no_function_is_longer_than_a_screen() -> None:
    long = [found for path in source_files() for found in _long_functions(path)]
    assert not long, f"functions over {MAX_FUNCTION} lines: {long}"


def test_no_module_is_several_rooms() -> None:
    files = [*source_files(), *sorted((REPO / "bench").glob("*.py"))]
    big = [f"{p.relative_to(REPO)} ({n})" for p in files if (n := len(p.read_text().splitlines())) > MAX_MODULE]
    assert not big, f"modules over {MAX_MODULE} lines: {big}"
