"""The GraphQL endpoint, over HTTP as the GraphQL-over-HTTP specification says.

Strawberry's ASGI view does the protocol work; this subclass adds what the contract asks
beyond it: content negotiation with `application/graphql-response+json` and its status codes,
`405` with `Allow: POST` for mutations over GET, `415` for bodies that are not JSON (what a
browser can send cross-site without a preflight is never executed), and JSON error bodies
with `extensions.code` for requests refused before GraphQL runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from broadcast import Broker
from schema import Context, KalitoSchema
from schema.deadlines import Deadlines
from settings import Settings
from web.accounts import VIEWER, InvalidToken, TokenVerifier, bearer_token
from web.asgi import header, read_body, replaying, send_response
from web.auth import bearer_token_matches
from web.graphiql import graphiql_page
from web.operation_log import write_disconnect
from web.subscription_protocol import SubscriptionProtocol

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
ALLOW = {"Allow": "GET, POST"}


class RequestRefused(HTTPException):
    """A request refused before GraphQL runs, answered with a JSON `errors` body."""

    def __init__(
        self, status_code: int, reason: str, code: str = "BAD_REQUEST", headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.headers = dict(headers or {})


def negotiate_media_type(accept: str) -> str:
    """The spec's media type when the client accepts it (Apollo Client 4 asks for it)."""
    return GRAPHQL_RESPONSE_JSON if GRAPHQL_RESPONSE_JSON in accept else JSON


def encode_json(data: object) -> bytes:
    """orjson: several times faster than json.dumps on a page of sessions. It refuses a lone
    surrogate, which an error message quoting the client's input can hold: json escapes it."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, separators=(",", ":")).encode()


# orjson reads an integer beyond 64 bits as the nearest float: -9223372036854775809 would become
# -9223372036854775808.0, and an ID variable "-9223372036854775808". Python's json keeps it exact.
LOSSY_FLOAT = float(2**63)
# Deeper than any variable of this schema (an input object's list of IDs is 2 levels), and far
# from the interpreter's recursion limit: graphql-core recurses along a value when it coerces it
# and when it words its error (printing the value compares it with itself, level by level).
MAX_PLANNED_NESTING = 32


def reads_as_strawberry_would(variables: object) -> bool:
    """Whether the planned path reads these parsed variables as strawberry's path does: no number
    that orjson may have rounded (any float this large: one the client really wrote that large
    reads the same through Python's json), and no nesting deeper than MAX_PLANNED_NESTING, which
    strawberry answers itself (its JSON parser refuses what is nested too deeply: `400`)."""
    pending = [(variables, 0)]
    while pending:  # a loop, not recursion: orjson accepts 1,024 levels, Python recurses 1,000
        item, depth = pending.pop()
        if isinstance(item, float):
            if not -LOSSY_FLOAT < item < LOSSY_FLOAT:
                return False
        elif isinstance(item, (dict, list)):
            if depth == MAX_PLANNED_NESTING:
                return False
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def is_exactly_json(scope: Scope) -> bool:
    """Whether the body is declared `application/json` (parameters aside), parsed cheaply: the
    planned path takes only that type (strawberry's parser builds an email message)."""
    content_type = header(scope, b"content-type") or b""
    return content_type.partition(b";")[0].strip().lower() == JSON.encode()


def is_request_error(response: Mapping[str, Any]) -> bool:
    """No data at all: the request failed before execution (parse, validation, variables)."""
    return "data" not in response and bool(response.get("errors"))


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SubscriptionProtocol
    schema: KalitoSchema  # what __init__ is given: it holds the compiled operations

    def __init__(
        self, schema: KalitoSchema, settings: Settings, broker: Broker, verifier: TokenVerifier | None = None
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            # WebSocket handshakes from browser pages on other origins are refused (403) unless
            # listed; clients that send no Origin (scripts) carry no ambient credentials.
            allowed_origins=settings.cors_origins,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            # graphql-transport-ws only: what Apollo's GraphQLWsLink and the graphql-ws client
            # speak; the legacy subscriptions-transport-ws protocol is unmaintained.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.broker = broker
        self.verifier = verifier  # with accounts: checks a WebSocket's connection_init token
        self.max_subscriptions_per_connection = settings.ws_max_subscriptions
        # One timer for every body being read, as for the operation time limit (schema/deadlines.py).
        seconds = settings.body_read_timeout_seconds
        self.body_deadlines = Deadlines(seconds) if seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "POST":
            body = await self.read_body(scope, receive, send)
            if body is None:
                return  # the client went away, or was answered that its body came too slowly
            if await self.answer_planned(scope, body, send):
                return
            receive = replaying(body, receive)  # strawberry reads the same body
        request = Request(scope, receive=receive)
        try:
            if request.method not in ("GET", "POST"):  # the route takes every method, to answer in JSON
                raise RequestRefused(405, f"{request.method} is not allowed: use POST or GET", headers=ALLOW)
            response = await self.run(request)
        except HTTPException as refusal:
            response = self.refusal_response(request, refusal)
        await response(scope, receive, send)

    async def read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """A POST's whole body, read once for either path, within KALITO_BODY_READ_TIMEOUT_SECONDS
        of asking. None when there is nothing to answer: the client disconnected before sending it
        all (an ordinary event: one line in the log), or it came too slowly (answered `408`)."""
        try:
            if self.body_deadlines is None:
                return await read_body(receive)
            async with self.body_deadlines.limit():
                return await read_body(receive)
        except ClientDisconnect:
            write_disconnect(scope)
            return None
        except TimeoutError:
            assert self.body_deadlines is not None
            refusal = RequestRefused(
                408,
                f"The request body did not arrive within {self.body_deadlines.seconds:g} seconds",
                "REQUEST_TIMEOUT",
                # the rest of the body is unread: the connection cannot carry another request
                headers={"Connection": "close"},
            )
            await self.refusal_response(Request(scope), refusal)(scope, receive, send)
            return None

    async def answer_planned(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answers a JSON POST of a document planned before (schema/plans.py) without strawberry's
        request handling; False, having sent nothing, for anything else: strawberry then does
        all its checks."""
        compiled = self.schema.compiled
        if compiled is None or not is_exactly_json(scope):
            return False
        try:
            request = orjson.loads(body)  # strict UTF-8, no lone surrogates
        except orjson.JSONDecodeError:
            return False
        if not isinstance(request, dict):
            return False
        query, name, variables = request.get("query"), request.get("operationName"), request.get("variables")
        if not (
            isinstance(query, str)
            and isinstance(name, (str, type(None)))
            and isinstance(variables, (dict, type(None)))
            and isinstance(request.get("extensions"), (dict, type(None)))
        ) or not reads_as_strawberry_would(variables):
            return False
        plan = compiled.plan_for(query, name)
        if plan is None:
            return False
        # No request object nor sub-response: the plans refuse a resolver that reads either
        # (schema/context.py's REQUEST_ONLY); who is asking, they get as strawberry's path does.
        context = Context(settings=self.settings, broker=self.broker, viewer=scope.get(VIEWER))
        result = await compiled.execute(plan, variables, context)
        if result is None:
            return False
        # A plan always executes, so its answer has `data` (a request error never gets this far): 200.
        media_type = negotiate_media_type((header(scope, b"accept") or b"").decode("latin-1"))
        await send_response(send, encode_json(process_result(result)), f"{media_type}; charset=utf-8".encode())
        return True

    def encode_json(self, data: object) -> str:
        # str, not bytes: strawberry sends bytes over a WebSocket as binary frames, and
        # graphql-transport-ws clients (graphql-ws, Apollo's link) read text frames only.
        return encode_json(data).decode()

    def refusal_response(self, request: Request, refusal: HTTPException) -> Response:
        code = getattr(refusal, "code", "BAD_REQUEST")
        body = {"errors": [{"message": refusal.reason, "extensions": {"code": code}}]}
        return Response(
            self.encode_json(body),
            status_code=refusal.status_code,
            media_type=negotiate_media_type(request.headers.get("accept", "")),
            headers=getattr(refusal, "headers", None),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page()  # strawberry's loads GraphiQL from a CDN; this one from /graphiql/

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            settings=self.settings,
            broker=self.broker,
            viewer=request.scope.get(VIEWER),  # HTTP: verified by web/accounts.JwtAuth; WebSocket: below
            request=request,
            response=response,
            cache_loads=not isinstance(request, WebSocket),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """With KALITO_API_TOKEN set, or accounts on, connection_init must carry the bearer
        token (browsers cannot set headers on a WebSocket); the handshake's own header is
        accepted too. Refused, the socket is closed with 4403."""
        if self.settings.api_token is None and self.verifier is None:
            return UNSET  # type: ignore[no-any-return]  # strawberry declares UNSET as Any, not UnsetType
        params = {str(key).lower(): value for key, value in (context.connection_params or {}).items()}
        supplied = params.get("authorization")
        if not isinstance(supplied, str):
            supplied = context.request.headers.get("authorization", "")
        if self.settings.api_token is not None and not bearer_token_matches(supplied, self.settings.api_token):
            raise ConnectionRejectionError()
        if self.verifier is not None:
            token = bearer_token(supplied)
            try:
                # The connection's one context runs all its operations: they are this user's.
                context.viewer = await self.verifier.verify(token) if token else None
            except InvalidToken:
                context.viewer = None
            if context.viewer is None:
                raise ConnectionRejectionError()
        return UNSET  # type: ignore[no-any-return]

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate_media_type(request.headers.get("accept", ""))
        return sub_response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            # text/plain, forms and multipart need no CORS preflight: never execute them.
            if content_type != JSON and not content_type.endswith("+json"):
                raise RequestRefused(415, "POST a JSON body (Content-Type: application/json)")
            # Strawberry reads any JSON value as a request and fails on those that are not an
            # object (or a batch): an internal error. An object or array starts with { or [.
            body = await request.get_body()
            start = body.lstrip(b" \t\r\n")[:1]
            if start not in (b"{", b"["):
                raise RequestRefused(400, 'POST a JSON object: {"query": ..., "variables": ...}')
            if start == b"[":
                self.check_batch(body)
        elif self.settings.production and not self.proves_same_origin(request):
            raise RequestRefused(
                400,
                "A GET must carry an Apollo-Require-Preflight or X-Apollo-Operation-Name header (CSRF prevention)",
            )
        return await super().parse_http_body(request)

    @staticmethod
    def proves_same_origin(request: AsyncHTTPRequestAdapter) -> bool:
        """Apollo's CSRF prevention: a header or content type that a cross-site page cannot send
        without a CORS preflight, which only the configured origins pass."""
        headers = {name.lower() for name in request.headers}
        content_type, _ = parse_content_type(request.content_type or "")
        return bool(headers & {"apollo-require-preflight", "x-apollo-operation-name"}) or content_type == JSON

    def parse_json(self, data: str | bytes) -> Any:
        """Strawberry answers 400 only to a JSONDecodeError; Python's json also raises
        UnicodeDecodeError (bytes that are not UTF-8), ValueError (an integer of more than 4,300
        digits) and RecursionError (arrays or objects nested about a thousand deep), which
        would be 500s. GET's `variables` and `extensions` come through here too."""
        try:
            # Strictly UTF-8, as RFC 8259 asks: json.loads(bytes) would also read UTF-16 and
            # UTF-32, and let UTF-8-encoded surrogates through.
            return self.decode_json(data.decode("utf-8") if isinstance(data, bytes) else data)
        except RecursionError:
            problem = "The JSON is nested too deeply"
        except UnicodeDecodeError:
            problem = "The body is not UTF-8"
        except ValueError:  # JSONDecodeError included
            problem = "Unable to parse request body as JSON"
        # raised out here, so that the error does not keep a thousand frames of recursion alive
        raise RequestRefused(400, problem)

    def check_batch(self, body: bytes) -> None:
        """A JSON array is a batch: refused unless KALITO_BATCH_MAX_OPERATIONS allows one this
        size, and each operation must be an object as a single request is (strawberry checks a
        single request's fields, not a batch's: it would fail on them with a 500)."""
        limit = self.settings.batch_max_operations
        if not limit:
            raise RequestRefused(400, "Batched requests (a JSON array) are not enabled on this server")
        batch = self.parse_json(body)
        if not batch or len(batch) > limit:
            raise RequestRefused(400, f"A batch must hold 1 to {limit} operations, not {len(batch)}")
        for index, item in enumerate(batch):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("query"), str)
                and isinstance(item.get("operationName"), (str, type(None)))
                and isinstance(item.get("variables"), (dict, type(None)))
                and isinstance(item.get("extensions"), (dict, type(None)))
            ):
                raise RequestRefused(400, f'Operation {index} of the batch is not a JSON object {{"query": ...}}')

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        # Strawberry runs a batch's operations concurrently with one context; here they run one
        # after the other, as if sent one by one: each with its own DataLoaders (no row cached
        # by an earlier operation), in order, one database connection at a time, and a refusal
        # answers for its own operation instead of failing the batch while the others run on.
        results = []
        for data in request_data:
            own_context = await self.get_context(request, response=sub_response)
            try:
                results.append(
                    await self.execute_single(request, request_adapter, sub_response, own_context, root_value, data)
                )
            except RequestRefused as refusal:
                error = GraphQLError(refusal.reason, extensions={"code": refusal.code})
                results.append(ExecutionResult(data=None, errors=[error]))
        return results

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # A subscription streams: over the WebSocket (or multipart HTTP, which strawberry routes
        # to schema.stream before this); executed as one result it is an internal error.
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise RequestRefused(400, "Subscribe over the WebSocket at /graphql (graphql-transport-ws)") from error
            if request_adapter.method == "GET":
                raise RequestRefused(405, error.as_http_error_reason("GET"), headers={"Allow": "POST"}) from error
            raise RequestRefused(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise RequestRefused(400, error.as_http_error_reason(), "GRAPHQL_VALIDATION_FAILED") from error
        except MissingQueryError as error:
            raise RequestRefused(400, "No GraphQL query found in the request") from error
        # It parsed and validated: later JSON POSTs of it can follow a plan (run_planned). Here, it
        # is a GET, a batch, or a request run_planned handed back: running a plan again would
        # only repeat work strawberry then does.
        compiled = self.schema.compiled
        if compiled is not None and result.data is not None and request_data.query is not None:
            compiled.learn(request_data.query, request_data.operation_name)
        return result

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = process_result(result)
        if result.data is None and result.errors and all(error.path is None for error in result.errors):
            del response["data"]  # a request error: the spec says there is no data entry
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        if (
            media_type == GRAPHQL_RESPONSE_JSON
            and isinstance(response_data, dict)
            and is_request_error(response_data)
            and not sub_response.status_code
        ):
            response.status_code = 400
        return response
