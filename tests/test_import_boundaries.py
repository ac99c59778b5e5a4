"""`tests/` and `bench/` share their fixtures through `support/` and never import each other's
modules, so neither needs the other to run and no import circle forms between the three."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

from support import REPOSITORY_ROOT

# What may not be imported from each folder; the tests of the benchmark itself are the exception.
FORBIDDEN = {"support": {"tests", "bench"}, "bench": {"tests"}, "tests": {"bench"}}
TESTS_OF_THE_BENCHMARK = {"tests/test_bench_smoke.py", "tests/test_compiled_plans.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_support_bench_and_tests_import_only_what_their_layout_allows() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--", *(f"{folder}/*.py" for folder in FORBIDDEN)],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    crossings = []
    for name in listed.stdout.splitlines():
        if name not in TESTS_OF_THE_BENCHMARK:
            forbidden = FORBIDDEN[name.split("/")[0]]
            crossings += [
                f"{name} imports {package}" for package in imported_packages(REPOSITORY_ROOT / name) & forbidden
            ]
    assert not crossings, "\n".join(crossings)
