"""The statistics package stays pure: numpy, scipy and the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import experiments.stats

ALLOWED_ROOTS = {"numpy", "scipy", "experiments", "__future__"}
STDLIB = set(sys.stdlib_module_names)


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("experiments.") and not node.module.startswith("experiments.stats"):
                roots.add(node.module)
    return roots


def test_the_package_imports_nothing_but_numpy_scipy_and_itself() -> None:
    package = Path(experiments.stats.__file__).parent
    for path in sorted(package.glob("*.py")):
        roots = imported_roots(path)
        assert roots <= ALLOWED_ROOTS | STDLIB, f"{path.name} imports {roots - ALLOWED_ROOTS - STDLIB}"
