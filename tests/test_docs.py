"""The docs stay true to the server: every part of the schema, every error code and every
setting is documented, every link resolves, and docs/api.md's examples answer as written.

The conventions this checks, in docs/api.md:

- every type of the schema has a heading that is its name in code (### `Session`), and each
  operation one of its own (### `Query.sessions`);
- in a type's section (down to the next heading of its level), each of its fields and enum
  values appears as inline code (`messageCount`); each argument appears in its operation's
  section, or in its type's section for a field without one;
- every error code the server can answer with appears as inline code under "Errors";
- examples are written as tests/doc_examples.py reads them.

In docs/operations.md, every variable Settings reads has a row in a table whose first cell is
the variable in code and whose "default" cell holds its default (a row for it in README.md must
hold the same default).
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from schema import build_schema
from schema.errors import DOMAIN_CODES
from settings import Settings
from tests.doc_examples import Bindings, examples, send
from tests.markdown import Document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api.md"
OPERATIONS = DOCS / "operations.md"
ROOT_TYPES = ("Query", "Mutation", "Subscription")
# The codes the contract names: the source scan below must find at least these.
CONTRACT_CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "UNAUTHENTICATED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR",
}


def served_schema() -> graphql.GraphQLSchema:
    """The schema as the code serves it (test_schema_sdl.py keeps schema.graphql equal to it)."""
    return graphql.build_schema(build_schema().as_str())


def documented_types(schema: graphql.GraphQLSchema) -> dict[str, graphql.GraphQLNamedType]:
    return {
        name: named
        for name, named in schema.type_map.items()
        if not name.startswith("__") and name not in graphql.specified_scalar_types
    }


def test_every_type_field_argument_and_enum_value_is_documented() -> None:
    api = Document.read(API)
    headings = api.code_headings()
    missing: list[str] = []
    for name, named in documented_types(served_schema()).items():
        if name not in headings:
            missing.append(f"a heading `{name}`")
            continue
        spans = api.code_spans(api.section(headings[name]))
        if isinstance(named, graphql.GraphQLEnumType):
            missing += [f"{name}.{value}" for value in named.values if value not in spans]
        if not isinstance(named, (graphql.GraphQLObjectType, graphql.GraphQLInputObjectType)):
            continue
        for field_name, field in named.fields.items():
            if field_name not in spans:
                missing.append(f"{name}.{field_name}")
            operation = headings.get(f"{name}.{field_name}")
            if operation is None and name in ROOT_TYPES:
                missing.append(f"a heading `{name}.{field_name}`")
            arguments = getattr(field, "args", {})
            own_spans = spans if operation is None else api.code_spans(api.section(operation))
            missing += [f"{name}.{field_name}({argument}:)" for argument in arguments if argument not in own_spans]
    assert not missing, f"{API.relative_to(ROOT)} does not document: {', '.join(missing)}"


# --- error codes ----------------------------------------------------------------------------


def production_modules() -> Iterator[Path]:
    """The Python files the package ships, as pyproject.toml lists them."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    for module in setuptools["py-modules"]:
        yield ROOT / f"{module}.py"
    for package in setuptools["packages"]:
        yield from (ROOT / package.replace(".", "/")).glob("*.py")


Function = ast.FunctionDef | ast.AsyncFunctionDef


def positional_parameters(function: Function) -> list[str]:
    names = [argument.arg for argument in function.args.posonlyargs + function.args.args]
    return names[1:] if names[:1] == ["self"] else names


def defaults(function: Function) -> Iterator[tuple[str, ast.expr]]:
    """(parameter, default) of each parameter that has a default."""
    positional = function.args.posonlyargs + function.args.args
    with_default = positional[len(positional) - len(function.args.defaults) :]
    yield from ((argument.arg, default) for argument, default in zip(with_default, function.args.defaults, strict=True))
    for argument, default in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True):
        if default is not None:
            yield argument.arg, default


def emitted_codes() -> set[str]:
    """The `extensions.code`s the source writes: the domain errors' codes, and every string (or
    module constant holding one) given as a `"code"` key, a `code=` keyword, the default of a
    `code` parameter, or the positional argument of the `code` parameter of a function or class
    of the package."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in production_modules()]
    constants: dict[str, set[str]] = {}
    code_positions: dict[str, int] = {}  # function or class name -> position of its `code` parameter
    for tree in trees:
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        constants.setdefault(target.id, set()).add(statement.value.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                init = next(
                    (item for item in node.body if isinstance(item, Function) and item.name == "__init__"), None
                )
                parameters = positional_parameters(init) if init is not None else []
            elif isinstance(node, Function):
                parameters = positional_parameters(node)
            else:
                continue
            if "code" in parameters:
                code_positions[node.name] = parameters.index("code")

    def values(node: ast.expr) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        return constants.get(node.id, set()) if isinstance(node, ast.Name) else set()

    codes = set(DOMAIN_CODES.values())
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code":
                        codes |= values(value)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        codes |= values(keyword.value)
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                position = code_positions.get(called)
                if position is not None and position < len(node.args):
                    codes |= values(node.args[position])
            elif isinstance(node, Function):
                codes |= {code for name, default in defaults(node) if name == "code" for code in values(default)}
    return codes


def test_every_error_code_is_documented() -> None:
    codes = emitted_codes()
    assert codes >= CONTRACT_CODES, f"the scan of the source lost codes: {CONTRACT_CODES - codes}"
    api = Document.read(API)
    errors = next(heading for heading in api.headings if heading.text == "Errors")
    missing = codes - api.code_spans(api.section(errors))
    assert not missing, f"{API.relative_to(ROOT)} does not document the error codes {sorted(missing)} under Errors"


# --- settings -------------------------------------------------------------------------------


class RecordingEnvironment(Mapping[str, str]):
    """An empty environment that notes every variable asked of it."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __getitem__(self, name: str) -> str:
        self.asked.append(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def setting_defaults() -> dict[str, Any]:
    """Each variable Settings reads, with its default."""
    environment = RecordingEnvironment()
    defaults = Settings.from_env(environment)
    by_field = {f"KALITO_{field.name.upper()}": field.name for field in fields(Settings)}
    assert set(environment.asked) == set(by_field), "each setting is read from KALITO_<FIELD NAME>"
    return {name: getattr(defaults, by_field[name]) for name in environment.asked}


def written(default: Any) -> str | None:
    """A default as the docs write it in code, or None for "unset"."""
    if default is None or default == ():
        return None
    if isinstance(default, bool):
        return "1" if default else "0"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def setting_rows(document: Document) -> dict[str, dict[str, str]]:
    return {row[next(iter(row))]: row for row in document.table_rows()}


def test_every_setting_is_documented_with_its_default() -> None:
    rows = setting_rows(Document.read(OPERATIONS))
    readme_rows = setting_rows(Document.read(ROOT / "README.md"))
    missing: list[str] = []
    for name, default in setting_defaults().items():
        row = rows.get(f"`{name}`")
        if row is None:
            missing.append(f"{name} has no row in {OPERATIONS.relative_to(ROOT)}")
            continue
        expected = written(default)
        for where, found in (("docs/operations.md", row), ("README.md", readme_rows.get(f"`{name}`"))):
            if found is not None and expected is not None and f"`{expected}`" not in found.get("default", ""):
                missing.append(f"{where} gives {name} a default other than `{expected}`")
    assert not missing, "; ".join(missing)


# --- links ----------------------------------------------------------------------------------


def test_every_relative_link_resolves() -> None:
    broken: list[str] = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        document = Document.read(page)
        for line, link in document.links():
            where = f"{page.relative_to(ROOT)}:{line + 1}: {link}"
            if re.match(r"https?://", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.is_relative_to(ROOT) or not target.exists():
                broken.append(f"{where} (no such file in the repository)")
            elif anchor and target.suffix == ".md" and anchor not in Document.read(target).anchors:
                broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)


# --- the examples ---------------------------------------------------------------------------


async def test_api_examples_answer_as_documented(http: httpx.AsyncClient) -> None:
    """In order, on one fresh database: each example's answer is the one shown. A query is sent
    twice (the second send is answered by its compiled plan) and must answer the same both times."""
    bindings = Bindings()
    found = examples(Document.read(API))
    assert len(found) > 20, "docs/api.md's examples are not found"
    for example in found:
        actual = await send(http, example, bindings)
        assert bindings.matches(example.expected, actual), (
            f"docs/api.md:{example.answer.line + 1}: the server answers\n{json.dumps(actual, ensure_ascii=False)}"
        )
        if example.query.text.lstrip().startswith("query"):
            assert await send(http, example, bindings) == actual, f"docs/api.md:{example.query.line + 1}"


@pytest.mark.parametrize(
    ("shown", "actual", "matches"),
    [
        ({"updatedAt": "2026-01-05T10:31:02.114Z"}, {"updatedAt": "2027-03-01T08:00:00.001Z"}, True),
        ({"name": "Poe"}, {"name": "Poe!"}, False),
        (
            {"a": "2026-01-05T10:31:02.114Z", "b": "2026-01-05T10:31:02.114Z"},
            {"a": "2027-01-01T00:00:00.000Z", "b": "2027-01-01T00:00:00.001Z"},
            False,
        ),
        (
            {"message": "changed since 2026-01-05T10:31:02.114000+00:00"},
            {"message": "changed since 2027-01-05T10:31:02+00:00"},
            True,
        ),
        (
            {"message": "changed since 2026-01-05T10:31:02.114000+00:00"},
            {"message": "changed after 2027-01-05T10:31:02+00:00"},
            False,
        ),
        ({"cursor": "WyJhIl0"}, {"cursor": "WyJiIl0"}, True),
        ({"count": 1}, {"count": True}, False),
        ({"data": {"a": 1}}, {"data": {"a": 1}, "errors": []}, False),
    ],
)
def test_examples_may_differ_only_in_moments_ids_and_cursors(shown: Any, actual: Any, matches: bool) -> None:
    assert Bindings().matches(shown, actual) is matches
