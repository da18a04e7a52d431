"""The pure core stays pure: no I/O library may creep into it (STYLE.md, rule 1)."""

import ast
from pathlib import Path

import pytest

import hotline

PURE = ["protocol", "crypto", "envelope", "forms", "watch", "log"]
FORBIDDEN = {
    "asyncio",
    "ssl",
    "socket",
    "sqlite3",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "hotline.node",
    "hotline.storage",
    "hotline.api",
    "time",
}
ROOT = Path(hotline.__file__).parent


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_no_io(package: str) -> None:
    for path in (ROOT / package).glob("*.py"):
        bad = {name for name in imports(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
        assert not bad, f"{path.name} imports {bad}"
