"""Compiled operations: the fast path for the documents clients send again and again.

Stock execution walks the document on every request and calls a resolver, through
strawberry's wrapper, for every field of every object: 500 calls for a page of 50 sessions,
most of the time of a request. A *plan* is made once per (document, operationName), after
strawberry has run it once and so parsed, limited and validated it. It knows ahead of time
how each field gets its value:

- a root field calls its strawberry resolver, with arguments converted as strawberry does, by
  converters built once per field (schema/arguments.py), or, when each is a non-null variable
  of a built-in scalar, which strawberry passes unchanged, straight from the variables (most
  root fields, `session(id: $id)`, are called so);
- a field with no resolver reads an attribute, and a leaf is serialized by its GraphQL type;
- a nested field that loads in batches (a session's persona, its messageCount) is loaded once
  for all the objects of its level, with the same load function as the request's DataLoader;
- any other resolver is called directly, when its object is not in a list.

A document the plan cannot follow exactly (directives, introspection, interfaces, a
per-object resolver inside a list, several mutations) gets no plan and strawberry runs it,
as does every request when `KALITO_COMPILED_OPERATIONS=0`. At run time a query that meets any
error is handed back to strawberry whole, which answers it as it always did; a query writes
nothing, so running it twice is harmless. A mutation is never run twice: its error is mapped
here by schema/errors.py, the one place that maps errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    located_error,
    parse,
)
from strawberry import ID
from strawberry.types import ExecutionResult
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from schema import arguments, strawberry_adapter
from schema.batches import Batch, batch_of
from schema.context import REQUEST_ONLY, Context
from schema.deadlines import Deadlines
from schema.errors import resolver_error
from schema.limits import operation_timeout_error
from schema.observability import OperationRecord, OperationReporter, error_codes
from schema.strawberry_adapter import ArgumentConversion, VariableValues

# Leaves whose Python values are already what JSON carries.
_PLAIN_SCALARS = frozenset({"String", "ID", "Boolean"})
# The built-in scalars, by name: graphql-core coerces their variables with parse_value alone,
# and strawberry hands their values to a resolver unchanged.
_BUILT_IN_SCALARS = {
    scalar.name: scalar for scalar in (GraphQLID, GraphQLString, GraphQLInt, GraphQLFloat, GraphQLBoolean)
}
_BUILT_IN_PYTHON_TYPES = (str, int, float, bool, ID)


class Unsupported(Exception):
    """The document asks for something a plan does not follow exactly."""


class NullInNonNull(Exception):
    """A resolver gave null for a non-null field: strawberry knows how to report that."""


@dataclass(frozen=True)
class PlanInfo:
    """What the resolvers a plan calls may read from their `info`: the request's context, but
    for what only strawberry's path has (REQUEST_ONLY). The compiler plans no resolver that
    reads more (`Compiler.check_reads`), so that none answers its first call and fails its second."""

    context: Context


# --- the compiled form --------------------------------------------------------------------------


@dataclass
class Selection:
    """The fields asked of objects of one type, in response order, and those of them that are
    completed a column at a time (objects, lists, resolvers and batches)."""

    fields: list[FieldStep]
    columns: list[FieldStep] = field(init=False)

    def __post_init__(self) -> None:
        for step in self.fields:
            simple = step.constant is None and step.leaf is not None and not step.list_of and not step.resolved
            step.attribute = step.python_name if simple else None
        self.columns = [step for step in self.fields if step.attribute is None and step.constant is None]


@dataclass
class FieldStep:
    key: str  # the response key (the alias, or the field's name)
    name: str
    nodes: list[FieldNode]
    definition: GraphQLField | None  # None for __typename
    strawberry_field: StrawberryField | None
    non_null: bool
    list_of: bool  # a list (of non-null items: the only lists this schema has)
    leaf: Callable[[Any], Any] | None  # serializes a leaf; None for an object
    selection: Selection | None  # for an object or a list of objects
    constant: str | None = None  # __typename
    batched: Batch[Any, Any] | None = None  # from the field's metadata (schema/batches.py)
    # The attribute a scalar is read from, for a leaf that needs no resolver (set by Selection).
    attribute: str | None = None
    # For a resolver whose every argument is a non-null scalar variable: (parameter, variable).
    direct_arguments: tuple[tuple[str, str], ...] | None = None
    info_parameter: str | None = None  # the resolver's, which gets the plan's info
    # For the other resolvers: each argument's converter (schema/arguments.py), built once;
    # None where strawberry's conversion must run (a field extension reshapes the arguments).
    converters: list[tuple[str, str, arguments.Converter]] | None = None

    @property
    def python_name(self) -> str:
        return self.strawberry_field.python_name if self.strawberry_field else self.name

    @property
    def resolved(self) -> bool:
        return self.strawberry_field is not None and self.strawberry_field.base_resolver is not None


@dataclass
class Plan:
    operation: OperationDefinitionNode
    operation_type: OperationType
    name: str | None
    root: Selection
    # Each variable's scalar, when every one is a non-null built-in scalar without a default.
    scalar_variables: tuple[tuple[str, GraphQLScalarType], ...] | None
    # Their signatures, for the VariableValues graphql-core's argument coercion reads.
    signatures: tuple[Any, ...] = ()

    def coerce(self, schema: GraphQLSchema, variables: dict[str, Any]) -> VariableValues | None:
        """The variables as graphql-core coerces them, or None when they are invalid (strawberry
        words the errors). For scalars alone this is what graphql-core does, minus its walk of
        the definitions' types: parse_value each one, refuse null and Undefined."""
        if self.scalar_variables is None:
            return strawberry_adapter.coerce_variables(schema, self.operation.variable_definitions or (), variables)
        scalars: dict[str, Any] = {}
        for name, scalar in self.scalar_variables:
            value = variables.get(name)
            if value is None:
                return None
            try:
                value = scalar.parse_value(value)
            except GraphQLError:
                return None
            if value is Undefined:
                return None
            scalars[name] = value
        return strawberry_adapter.scalar_variable_values(self.signatures, variables, scalars)


def built_in_scalars(
    definitions: Sequence[VariableDefinitionNode],
) -> tuple[tuple[str, GraphQLScalarType], ...] | None:
    scalars = []
    for definition in definitions:
        nullable = definition.type.type if isinstance(definition.type, NonNullTypeNode) else None
        if not isinstance(nullable, NamedTypeNode) or definition.default_value is not None:
            return None
        scalar = _BUILT_IN_SCALARS.get(nullable.name.value)
        if scalar is None:
            return None
        scalars.append((definition.variable.name.value, scalar))
    return tuple(scalars)


# --- compiling ----------------------------------------------------------------------------------


class Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        conversion: ArgumentConversion,
        document: DocumentNode,
        scalar_variables: tuple[tuple[str, GraphQLScalarType], ...] | None,
        *,
        mutation: bool,
    ) -> None:
        self.schema = schema
        self.conversion = conversion
        self.scalar_variables = dict(scalar_variables or ())
        # Below a mutation's root field, only what cannot fail once the write is committed: a
        # resolver there (messages(first: 0) on the session made) errs in a field of its own,
        # which strawberry reports beside the data, and a plan would have nothing to fall back on.
        self.resolvers_below_root = not mutation
        self.fragments = {
            node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)
        }

    def selection(self, parent: GraphQLObjectType, nodes: Sequence[SelectionSetNode], *, in_list: bool) -> Selection:
        grouped: dict[str, list[FieldNode]] = {}
        spread: set[str] = set()
        for selection_set in nodes:
            self.collect(parent, selection_set, grouped, spread)
        return Selection([self.field(parent, key, same, in_list=in_list) for key, same in grouped.items()])

    def collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        into: dict[str, list[FieldNode]],
        spread: set[str],
    ) -> None:
        """graphql-core's CollectFields for an object type, without directives (not planned):
        a fragment spread a second time in one selection adds nothing (nor its nodes twice)."""
        for node in selection_set.selections:
            if node.directives:
                raise Unsupported("directives")
            if isinstance(node, FieldNode):
                into.setdefault(node.alias.value if node.alias else node.name.value, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is not None and node.type_condition.name.value != parent.name:
                    raise Unsupported("an inline fragment on another type")
                self.collect(parent, node.selection_set, into, spread)
            elif isinstance(node, FragmentSpreadNode):
                if node.name.value in spread:
                    continue
                spread.add(node.name.value)
                fragment = self.fragments[node.name.value]
                if fragment.directives or fragment.type_condition.name.value != parent.name:
                    raise Unsupported("a fragment on another type")
                self.collect(parent, fragment.selection_set, into, spread)

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode], *, in_list: bool) -> FieldStep:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldStep(key, name, nodes, None, None, True, False, str, None, constant=parent.name)
        if name.startswith("__"):
            raise Unsupported("introspection")
        definition = parent.fields[name]
        strawberry_field = strawberry_adapter.strawberry_field(definition)
        output: GraphQLOutputType = definition.type
        non_null = isinstance(output, GraphQLNonNull)
        output = output.of_type if isinstance(output, GraphQLNonNull) else output
        list_of = isinstance(output, GraphQLList)
        if isinstance(output, GraphQLList):
            item = output.of_type
            if not isinstance(item, GraphQLNonNull):
                raise Unsupported("a list of nullable items")
            output = item.of_type
        step = FieldStep(key, name, nodes, definition, strawberry_field, non_null, list_of, None, None)
        if isinstance(output, GraphQLObjectType):
            sub_nodes = [node.selection_set for node in nodes if node.selection_set is not None]
            step.selection = self.selection(output, sub_nodes, in_list=in_list or list_of)
        elif isinstance(output, GraphQLScalarType) and output.name in _PLAIN_SCALARS:
            step.leaf = _identity
        elif isinstance(output, (GraphQLScalarType, GraphQLEnumType)):
            step.leaf = output.serialize
        else:
            raise Unsupported(f"a field of type {output}")
        if strawberry_field is None or strawberry_field.base_resolver is None:
            if nodes[0].arguments:
                raise Unsupported("arguments on a field without a resolver")
            return step
        self.check_reads(parent, name, strawberry_field)
        step.info_parameter = strawberry_adapter.info_parameter(strawberry_field)
        step.batched = batch_of(strawberry_field.metadata)
        if step.batched is None and in_list:
            raise Unsupported(f"{parent.name}.{name} resolved per object")
        below_root = parent not in (self.schema.query_type, self.schema.mutation_type)
        if below_root and not self.resolvers_below_root:
            raise Unsupported(f"{parent.name}.{name} resolved below a mutation's root field")
        step.direct_arguments = self.direct_arguments(definition, strawberry_field, nodes[0])
        if step.direct_arguments is None and not strawberry_field.extensions:
            with contextlib.suppress(arguments.Unconvertible):
                step.converters = arguments.field_converters(
                    strawberry_field, self.conversion.registry, self.conversion.config
                )
        if step.batched is not None and step.batched.arguments and step.converters is None:
            raise Unsupported(f"{parent.name}.{name}: a batch keyed by arguments the converters do not follow")
        return step

    @staticmethod
    def check_reads(parent: GraphQLObjectType, name: str, field: StrawberryField) -> None:
        """A resolver that reads of its info more than the plan's gives (the context's fields
        but REQUEST_ONLY) is left to strawberry."""
        reads = strawberry_adapter.context_reads(field)
        if reads is None:
            raise Unsupported(f"{parent.name}.{name} uses its info otherwise than info.context.<field>")
        if reads & REQUEST_ONLY:
            raise Unsupported(f"{parent.name}.{name} reads info.context.{', '.join(sorted(reads & REQUEST_ONLY))}")

    def direct_arguments(
        self, definition: GraphQLField, strawberry_field: StrawberryField, node: FieldNode
    ) -> tuple[tuple[str, str], ...] | None:
        """(parameter, variable) for each argument, when strawberry would hand every one to the
        resolver unchanged: each given, as a non-null variable of a built-in scalar, to a
        parameter of a plain Python type, with no field extension to reshape them, and a
        resolver that asks for `self` and at most `info` besides. None: convert as strawberry does."""
        if not strawberry_adapter.asks_for_self_and_info_only(strawberry_field):
            return None
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        if given.keys() != definition.args.keys():
            return None  # a default applies: strawberry's conversion knows how
        parameters = []
        for name, value in given.items():
            argument = strawberry_adapter.strawberry_argument(definition.args[name])
            python_type = argument.type.of_type if type(argument.type) is StrawberryOptional else argument.type
            if (
                not isinstance(value, VariableNode)
                or value.name.value not in self.scalar_variables
                or python_type not in _BUILT_IN_PYTHON_TYPES
            ):
                return None
            parameters.append((argument.python_name, value.name.value))
        return tuple(parameters)


def _identity(value: Any) -> Any:
    return value


def compile_plan(
    schema: GraphQLSchema, conversion: ArgumentConversion, document: DocumentNode, operation_name: str | None
) -> Plan:
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [node for node in operations if node.name is not None and node.name.value == operation_name]
    if len(operations) != 1:
        raise Unsupported("no single operation")
    operation = operations[0]
    operation_type = OperationType(operation.operation.value)
    if operation.directives or any(definition.directives for definition in operation.variable_definitions or ()):
        raise Unsupported("directives")
    root_type = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
    }.get(operation_type)
    if root_type is None:
        raise Unsupported("a subscription")
    scalar_variables = built_in_scalars(operation.variable_definitions or ())
    compiler = Compiler(
        schema, conversion, document, scalar_variables, mutation=operation_type is OperationType.MUTATION
    )
    root = compiler.selection(root_type, [operation.selection_set], in_list=False)
    if operation_type is OperationType.MUTATION and len(root.fields) != 1:
        raise Unsupported("several mutations, each its own transaction")
    name = operation.name.value if operation.name else None
    signatures = strawberry_adapter.scalar_signatures(schema, operation.variable_definitions or ())
    return Plan(operation, operation_type, operation_name or name, root, scalar_variables, signatures)


# --- running ------------------------------------------------------------------------------------


class Runner:
    """Runs one plan for one request."""

    def __init__(self, plan: Plan, variables: VariableValues, context: Context, conversion: ArgumentConversion) -> None:
        self.plan = plan
        self.variables = variables
        self.info = PlanInfo(context)
        self.conversion = conversion

    async def resolve(self, step: FieldStep, source: Any) -> Any:
        assert step.strawberry_field is not None and step.definition is not None
        if step.direct_arguments is not None:
            args: list[Any] = [source]  # the resolver's `self`, which strawberry passes too
            coerced = self.variables.coerced
            kwargs = {parameter: coerced[variable] for parameter, variable in step.direct_arguments}
            if step.info_parameter is not None:
                kwargs[step.info_parameter] = self.info
        else:
            raw = strawberry_adapter.argument_values(step.definition, step.nodes[0], self.variables)
            if step.converters is not None:
                args, kwargs = strawberry_adapter.resolver_call(
                    step.strawberry_field, source, self.info, arguments.convert(step.converters, raw)
                )
            else:
                args, kwargs = strawberry_adapter.strawberry_arguments(
                    step.strawberry_field, source, self.info, raw, self.conversion
                )
        # the resolvers read info.context only
        result = step.strawberry_field.get_result(source, info=self.info, args=args, kwargs=kwargs)  # type: ignore[arg-type]
        return await result if asyncio.iscoroutine(result) else result

    async def complete(self, selection: Selection, objects: list[Any]) -> list[dict[str, Any]]:
        """The response objects of `objects`, all of one type. A row at a time for the fields
        read straight off an object (most of them), then a column at a time, level by level,
        for the others: a batched field loads once for the whole level."""
        results: list[dict[str, Any]] = []
        for source in objects:
            result: dict[str, Any] = {}
            for step in selection.fields:
                if step.attribute is None:
                    result[step.key] = step.constant  # a placeholder (in response order) but for __typename
                    continue
                value = getattr(source, step.attribute)
                if value is None:
                    if step.non_null:
                        raise NullInNonNull(step.key)
                    result[step.key] = None
                else:
                    result[step.key] = step.leaf(value)  # type: ignore[misc]  # attribute implies leaf
            results.append(result)
        for step in selection.columns:
            if step.batched is not None:
                values = await self.load_batch(step, objects)
            elif step.resolved:
                values = [await self.resolve(step, source) for source in objects]
            else:
                values = [getattr(source, step.python_name) for source in objects]
            for result, value in zip(results, await self.completed(step, values), strict=True):
                result[step.key] = value
        return results

    async def load_batch(self, step: FieldStep, objects: list[Any]) -> list[Any]:
        """The field's values for a level's objects, keyed as the DataLoader keys them (the
        arguments are the same for every object of the level); a value that is an exception
        (arguments the batch refused) hands the query back to strawberry, which reports it."""
        batch = step.batched
        assert batch is not None
        given: dict[str, Any] = {}
        if batch.arguments:
            assert step.definition is not None and step.converters is not None
            raw = strawberry_adapter.argument_values(step.definition, step.nodes[0], self.variables)
            given = arguments.convert(step.converters, raw)
        keys = [batch.key_of(source, given) for source in objects]
        wanted = list(dict.fromkeys(key for key in keys if key is not None))
        loaded = dict(zip(wanted, await batch.load(wanted), strict=True)) if wanted else {}
        for value in loaded.values():
            if isinstance(value, BaseException):
                raise value
        return [None if key is None else loaded[key] for key in keys]

    async def completed(self, step: FieldStep, values: list[Any]) -> list[Any]:
        if step.non_null and any(value is None for value in values):
            raise NullInNonNull(step.key)
        if step.leaf is not None:
            leaf = step.leaf
            if step.list_of:
                return [None if value is None else [leaf(item) for item in value] for value in values]
            return [None if value is None else leaf(value) for value in values]
        assert step.selection is not None
        if step.list_of:
            items = [item for value in values if value is not None for item in value]
            done = iter(await self.complete(step.selection, items))
            return [None if value is None else [next(done) for _ in value] for value in values]
        present = [value for value in values if value is not None]
        done = iter(await self.complete(step.selection, present))
        return [None if value is None else next(done) for value in values]


class CompiledOperations:
    """The plans of this schema's documents, bounded, and their execution with the same error
    codes, time limit and operation reports as strawberry's."""

    def __init__(
        self,
        schema: GraphQLSchema,
        conversion: ArgumentConversion,
        *,
        report: OperationReporter | None,
        deadlines: Deadlines | None,
        maxsize: int,
    ) -> None:
        self.schema = schema
        self.conversion = conversion
        self.report = report
        self.deadlines = deadlines
        self.maxsize = maxsize
        self.plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()

    def plan_for(self, query: object, operation_name: object) -> Plan | None:
        if not isinstance(query, str) or not isinstance(operation_name, (str, type(None))):
            return None  # a malformed request: strawberry refuses it
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is not None:
            self.plans.move_to_end(key)
        return plan

    def learn(self, query: str, operation_name: str | None) -> None:
        """After strawberry ran `query` past validation: plan it, or remember that it has none."""
        key = (query, operation_name)
        if key in self.plans:
            return
        try:
            plan: Plan | None = compile_plan(self.schema, self.conversion, parse(query), operation_name)
        except Unsupported:
            plan = None
        self.plans[key] = plan
        if len(self.plans) > self.maxsize:
            self.plans.popitem(last=False)

    async def execute(self, plan: Plan, variables: dict[str, Any] | None, context: Context) -> ExecutionResult | None:
        """The result of `plan` (a query or a mutation, as a POST may carry), or None when
        strawberry must answer this request instead."""
        started = time.perf_counter()
        coerced = plan.coerce(self.schema, variables or {})
        if coerced is None:
            return None  # strawberry words the variable errors
        runner = Runner(plan, coerced, context, self.conversion)
        if plan.operation_type is OperationType.QUERY:
            result = await self.run_query(runner)
        else:
            result = await self.run_mutation(runner)
        if result is not None and self.report is not None:
            self.report(
                OperationRecord(
                    name=plan.name,
                    type=plan.operation_type.value,
                    validated=True,
                    duration_seconds=time.perf_counter() - started,
                    error_codes=error_codes(result.errors),
                    user=context.user_id,
                )
            )
        return result

    async def run_query(self, runner: Runner) -> ExecutionResult | None:
        try:
            async with self.deadlines.limit() if self.deadlines is not None else contextlib.nullcontext():
                (data,) = await runner.complete(runner.plan.root, [None])
        except TimeoutError:
            assert self.deadlines is not None
            return ExecutionResult(data=None, errors=[operation_timeout_error(self.deadlines.seconds)])
        except Exception:  # strawberry reruns it and reports the error its way
            return None
        return ExecutionResult(data=data, errors=None)

    async def run_mutation(self, runner: Runner) -> ExecutionResult:
        (step,) = runner.plan.root.fields
        try:
            value = await runner.resolve(step, None)
            # Completing the answer can fail only by a defect (a null for a non-null field, a value
            # its type cannot serialize); the write is committed by then: reported as the
            # resolver's own failure would be, an INTERNAL_SERVER_ERROR in the GraphQL answer.
            (completed,) = await runner.completed(step, [value])
        except Exception as failure:
            # located as graphql-core locates a field's error: an argument's own error keeps its node
            error = located_error(failure, step.nodes, [step.key])
            return ExecutionResult(data=None if step.non_null else {step.key: None}, errors=[resolver_error(error)])
        return ExecutionResult(data={step.key: completed}, errors=None)
