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


def project_modules() -> dict[str, Path]:
    """Every tracked module of the project but the tests', by its dotted name."""
    listed = subprocess.run(
        ["git", "ls-files", "--", "*.py"], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
    )
    modules = {}
    for name in listed.stdout.splitlines():
        if not name.startswith("tests/"):
            dotted = name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            modules[dotted] = REPOSITORY_ROOT / name
    return modules


def imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules `path` imports anywhere in it (at the top, under TYPE_CHECKING, in a
    function): `from models import events` is the module models.events, `from models import Row`
    the package models."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found & modules.keys()


def test_no_module_imports_itself_through_others() -> None:
    """An import circle makes each module of it load only if another half-loaded one has what it
    needs by then (models/events and models/session were one, schema/context and schema/types
    another): none, counting the imports a function or TYPE_CHECKING defers."""
    modules = project_modules()
    graph = {name: imported_modules(path, modules) for name, path in modules.items()}
    # A package's __init__ gathering its modules is no circle with them unless one imports it back.
    circles: list[list[str]] = []
    state: dict[str, str] = {}  # "visiting" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "visiting"
        for imported in sorted(graph[name]):
            if state.get(imported) == "visiting":
                circles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "\n".join(" -> ".join(circle) for circle in circles)
