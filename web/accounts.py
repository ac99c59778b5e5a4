"""Accounts (KALITO_AUTH=jwt, api.md §11): who a request's token says the caller is.

PyJWT does the checking (signature, `exp`, `nbf`, `aud`, `iss`) and, for a JWKS URL, the
fetching and parsing (PyJWKClient). What is decided here:

- the algorithm is pinned to the key, never read from the token: HS256 for KALITO_JWT_SECRET;
  for a JWKS key, the one of its type (RSA: RS256, EC P-256: ES256, OKP Ed25519: EdDSA). A
  token saying `none`, or HS256 signed with a public key, fails like a forged one;
- `sub` (required, with `exp`) is the user; `admin` in the roles claim makes an admin;
- a JWKS URL's keys are cached for five minutes (a key dropped from the set stops working
  within them), fetched again when a token names an unknown `kid`, and never fetched twice
  within KALITO_JWKS_MIN_REFRESH_SECONDS, whether the last fetch worked or not; while the
  provider is unreachable, the keys it gave keep working;
- a token verified once is remembered for up to a minute (never past its `exp`): a client
  sends the same one with every request, and an RS256 check costs more than a `session(id)`.

HTTP requests are checked by `JwtAuth` (middleware) before anything else reads them; a
WebSocket's `connection_init` by web/graphql_view.py with the same verifier.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from models.owners import OWNER_MAX, Viewer
from settings import Settings, SettingsError
from web.asgi import header
from web.graphiql import ASSETS_PATH

# The JWKS key types this server takes, and the one algorithm each is used with.
KEY_ALGORITHMS = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}
LEEWAY_SECONDS = 30  # clocks of the identity provider and of this server disagree a little
REMEMBER_SECONDS = 60.0
REMEMBERED_TOKENS = 10_000
KEY_SET_LIFESPAN_SECONDS = 300.0  # a key removed from the JWKS stops working within this
VIEWER = "kalito.viewer"  # the verified Viewer, in the ASGI scope of an HTTP request


class InvalidToken(Exception):
    """A token that fails any check; the message says which, for the server's log only."""


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.roles_claim = settings.jwt_roles_claim.split(".")
        self.secret = settings.jwt_secret
        self.client = (
            # it fetches and parses; the keys are cached here, each fetch refreshing them all
            jwt.PyJWKClient(settings.jwks_url, cache_jwk_set=False, timeout=10) if settings.jwks_url else None
        )
        # kid -> (key, algorithm, until when it is trusted without asking the key set again)
        self.keys: dict[str, tuple[jwt.PyJWK, str, float]] = {}
        if settings.jwks_file:
            self.keys = _key_file(settings.jwks_file)
        # PyJWKClient's own cooldown starts at a fetch that succeeded: a provider that is down
        # would be asked again for every request. This one starts at every attempt.
        self.min_refresh_seconds = settings.jwks_min_refresh_seconds
        self.last_fetch = -float("inf")
        self.remembered: OrderedDict[str, tuple[Viewer, float]] = OrderedDict()

    async def verify(self, token: str) -> Viewer:
        remembered = self.remembered.get(token)
        now = time.time()
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        key, algorithm = await self.key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.InvalidTokenError as error:
            raise InvalidToken(str(error)) from None
        viewer = self.viewer(claims)
        # (an int `exp` compared as it is: one past any float, 10**400, is no overflow here)
        self.remember(token, viewer, min(now + REMEMBER_SECONDS, claims["exp"] + LEEWAY_SECONDS))
        return viewer

    async def key_for(self, token: str) -> tuple[Any, str]:
        if self.secret is not None:
            return self.secret, "HS256"
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            raise InvalidToken(str(error)) from None
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key (kid)")
        known = self.keys.get(kid)
        moment = time.monotonic()
        if known is not None and known[2] > moment:
            return known[0], known[1]
        if self.client is None:
            raise InvalidToken(f"no key {kid!r} in the key set")
        if moment - self.last_fetch < self.min_refresh_seconds:
            if known is not None:  # due for a check, but the set was asked moments ago
                return known[0], known[1]
            raise InvalidToken(f"no key {kid!r} in the key set, fetched {moment - self.last_fetch:.1f}s ago")
        self.last_fetch = moment
        try:
            # PyJWKClient fetches with urllib, which blocks: in a thread, off the event loop.
            fetched = await asyncio.to_thread(self.client.get_signing_keys, True)
        except (jwt.PyJWTError, ValueError) as error:  # unreachable, not JSON, no usable key
            if known is not None and isinstance(error, jwt.PyJWKClientConnectionError | ValueError):
                return known[0], known[1]  # the provider is away: the keys it gave stay good
            raise InvalidToken(str(error)) from None
        until = moment + KEY_SET_LIFESPAN_SECONDS
        # Every key of the set at once: a second kid of it is then no reason to fetch again.
        self.keys = {str(key.key_id): (key, _algorithm(key), until) for key in fetched if _usable(key)}
        found = self.keys.get(kid)
        if found is None:  # unknown, or dropped from the set by a rotation
            raise InvalidToken(f"no key {kid!r} in the key set")
        return found[0], found[1]

    def viewer(self, claims: Mapping[str, Any]) -> Viewer:
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= OWNER_MAX:
            raise InvalidToken(f"sub must be 1 to {OWNER_MAX} characters")
        roles: Any = claims
        for part in self.roles_claim:  # a dotted claim, as Keycloak's realm_access.roles
            roles = roles.get(part) if isinstance(roles, Mapping) else None
        if isinstance(roles, str):  # a space-separated list, as OAuth's `scope`
            roles = roles.split()
        return Viewer(subject, is_admin=isinstance(roles, list) and "admin" in roles)

    def remember(self, token: str, viewer: Viewer, until: float) -> None:
        self.remembered[token] = (viewer, until)
        if len(self.remembered) > REMEMBERED_TOKENS:
            self.remembered.popitem(last=False)


def _key_file(path: str) -> dict[str, tuple[jwt.PyJWK, str, float]]:
    """KALITO_JWKS_FILE's signing keys by kid; a file the server cannot use stops its start."""
    try:
        key_set = jwt.PyJWKSet.from_json(Path(path).read_text())
        usable = [key for key in key_set.keys if key.key_id and key.public_key_use in ("sig", None)]
        return {str(key.key_id): (key, _algorithm(key), float("inf")) for key in usable}
    except (OSError, ValueError, jwt.PyJWTError, InvalidToken) as error:
        raise SettingsError(f"KALITO_JWKS_FILE {path}: {error}") from None


def _usable(key: jwt.PyJWK) -> bool:
    """A key of a fetched set this server verifies with: of a type it takes (a set may also
    hold keys for other relying parties, which are skipped, not a reason to refuse them all)."""
    try:
        _algorithm(key)
    except InvalidToken:
        return False
    return True


def _algorithm(key: jwt.PyJWK) -> str:
    algorithm = KEY_ALGORITHMS.get(key.key_type or "")
    if algorithm is None or key.algorithm_name != algorithm:
        raise InvalidToken(f"key {key.key_id!r} is {key.key_type} {key.algorithm_name}: not RS256, ES256 or EdDSA")
    return algorithm


def unauthenticated(reason: str) -> Response:
    body = {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return Response(
        json.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="kalito"'},
    )


class JwtAuth:
    """Every HTTP request but /healthz (and GraphiQL's page and files, outside production)
    carries a valid token, or is answered 401 before anything reads it."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, *, production: bool) -> None:
        self.app = app
        self.verifier = verifier
        self.production = production

    def is_open(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == "/healthz":
            return True
        if self.production:
            return False
        if path.startswith(ASSETS_PATH + "/"):
            return True
        # GraphiQL's page: what a browser's address bar sends (its queries carry the token).
        accept = (header(scope, b"accept") or b"").decode("latin-1")
        return path == "/graphql" and scope["method"] == "GET" and "text/html" in accept and not scope["query_string"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_open(scope):
            await self.app(scope, receive, send)
            return
        token = bearer_token((header(scope, b"authorization") or b"").decode("latin-1"))
        if token is None:
            await unauthenticated("A bearer token is required")(scope, receive, send)
            return
        try:
            scope[VIEWER] = await self.verifier.verify(token)
        except InvalidToken:
            await unauthenticated("The bearer token is not valid")(scope, receive, send)
            return
        await self.app(scope, receive, send)
