"""Accounts (KALITO_AUTH=jwt, api.md §11) over HTTP: which tokens make a viewer, and which are
answered 401 before anything reads the request.

Every token check is sent twice: the second send of a document is answered by the compiled
fast path (and a valid token's second check by the verifier's memory of it), and both must
agree. The checks do not depend on the database: SQLite only (the `database_url` below).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.types import ASGIApp

import models
from server import create_app
from settings import Settings, SettingsError
from support.live_server import live_server
from tests.conftest import GraphQLClient
from tests.tokens import (
    ED,
    ES,
    HS_SECRET,
    KEYS,
    RS,
    RS_NEXT,
    VIEWER_QUERY,
    JwksServer,
    SigningKey,
    bearer,
    claims,
    closed_url,
    forged,
    hs256_signed_with_public_key,
    jwt_settings,
    mint,
    new_rsa_key,
    signed_by_hand,
    unsigned,
    with_claims,
    write_jwks_file,
)

CREATE = 'mutation { createSession(input: {id: "intruder"}) { id } }'
AUDIENCE = "kalito-api"
ISSUER = "https://id.example.test/realms/kalito"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'kalito.db'}"


@dataclass
class Accounts:
    """An app with accounts on, and the ways a test talks to it."""

    app: ASGIApp

    @contextlib.asynccontextmanager
    async def client(self, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kalito.test", headers=headers) as http:
            yield http

    async def viewer(self, token: str) -> dict[str, Any]:
        """`viewer` for a token that must be accepted, sent twice (the two answers agree)."""
        async with self.client(bearer(token)) as http:
            data = await GraphQLClient(http).twice(VIEWER_QUERY)
        viewer: dict[str, Any] = data["viewer"]
        return viewer

    async def refused(self, token: str | None = None, *, authorization: str | None = None) -> str:
        """The message of the 401 that a request with this token (or this whole Authorization
        header, or none) gets, sent twice: the same refusal both times."""
        if token is not None:
            authorization = f"Bearer {token}"
        headers = {} if authorization is None else {"Authorization": authorization}
        answers = []
        async with self.client(headers) as http:
            for _ in range(2):
                response = await http.post("/graphql", json={"query": VIEWER_QUERY})
                assert_unauthenticated(response)
                answers.append(response.json())
        assert answers[0] == answers[1]
        message: str = answers[0]["errors"][0]["message"]
        return message


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}, error
    assert isinstance(error["message"], str) and error["message"]


Start = Callable[..., Accounts]


@pytest.fixture
def start(db: str, database_url: str) -> Start:
    """`start(jwks_url=...)`: an app with accounts on (HS256 with HS_SECRET unless another key
    source is named) and these settings, on this test's database."""

    def build(**overrides: Any) -> Accounts:
        return Accounts(create_app(Settings(database_url=database_url, **jwt_settings(**overrides))))

    return build


@pytest.fixture
def hs(start: Start) -> Accounts:
    return start()


@pytest.fixture
def jwks_file(tmp_path: Path) -> str:
    return write_jwks_file(tmp_path / "jwks.json", RS, ES, ED)


@pytest.fixture
def from_file(start: Start, jwks_file: str) -> Accounts:
    return start(jwks_file=jwks_file)


@pytest.fixture
def provider() -> Iterator[JwksServer]:
    with JwksServer(RS, ES, ED) as server:
        yield server


# --- HS256 (KALITO_JWT_SECRET) ----------------------------------------------------------------


async def test_a_valid_token_names_the_viewer_by_its_sub(hs: Accounts) -> None:
    assert await hs.viewer(mint("alice")) == {"id": "alice", "isAdmin": False}
    assert await hs.viewer(mint("bob")) == {"id": "bob", "isAdmin": False}


async def test_the_bearer_scheme_is_case_insensitive(hs: Accounts) -> None:
    async with hs.client({"Authorization": f"bearer {mint('alice')}"}) as http:
        data = await GraphQLClient(http).twice(VIEWER_QUERY)
    assert data == {"viewer": {"id": "alice", "isAdmin": False}}


async def test_a_sub_of_255_characters_is_a_viewer(hs: Accounts) -> None:
    assert await hs.viewer(mint("u" * 255)) == {"id": "u" * 255, "isAdmin": False}


@pytest.mark.parametrize(
    ("roles", "is_admin"),
    [
        (["admin"], True),
        (["user", "admin"], True),
        ("admin", True),  # a space-separated string, as OAuth's `scope`
        ("user admin", True),
        (["user"], False),
        ([], False),
        ("administrator", False),
        (["Admin"], False),
        ({"admin": True}, False),
    ],
)
async def test_admin_in_the_roles_claim_makes_an_admin(hs: Accounts, roles: Any, is_admin: bool) -> None:
    token = mint("root", extra={"roles": roles})
    assert await hs.viewer(token) == {"id": "root", "isAdmin": is_admin}


async def test_without_a_roles_claim_the_viewer_is_no_admin(hs: Accounts) -> None:
    assert await hs.viewer(mint("alice", extra={"groups": ["admin"], "scope": "admin"})) == {
        "id": "alice",
        "isAdmin": False,
    }


async def test_a_custom_roles_claim_is_where_admin_is_read(start: Start) -> None:
    accounts = start(jwt_roles_claim="groups")
    assert await accounts.viewer(mint("ann", roles=["admin"], roles_claim="groups")) == {"id": "ann", "isAdmin": True}
    # `roles` is no longer read
    assert await accounts.viewer(mint("bea", roles=["admin"])) == {"id": "bea", "isAdmin": False}


async def test_a_dotted_roles_claim_is_read_inside_nested_claims(start: Start) -> None:
    accounts = start(jwt_roles_claim="realm_access.roles")  # Keycloak's realm roles
    admin = mint("kc-admin", roles=["offline_access", "admin"], roles_claim="realm_access.roles")
    user = mint("kc-user", roles=["offline_access"], roles_claim="realm_access.roles")
    assert await accounts.viewer(admin) == {"id": "kc-admin", "isAdmin": True}
    assert await accounts.viewer(user) == {"id": "kc-user", "isAdmin": False}
    assert await accounts.viewer(mint("flat", roles=["admin"])) == {"id": "flat", "isAdmin": False}
    # `realm_access` that is not an object: no roles, no admin, no error
    assert await accounts.viewer(mint("odd", extra={"realm_access": "admin"})) == {"id": "odd", "isAdmin": False}


async def test_a_custom_roles_claim_may_be_a_space_separated_string(start: Start) -> None:
    accounts = start(jwt_roles_claim="scope")
    assert await accounts.viewer(mint("ann", roles="openid profile admin", roles_claim="scope")) == {
        "id": "ann",
        "isAdmin": True,
    }
    assert await accounts.viewer(mint("bea", roles="openid profile", roles_claim="scope")) == {
        "id": "bea",
        "isAdmin": False,
    }


async def test_without_a_token_a_request_is_unauthenticated(hs: Accounts) -> None:
    await hs.refused()


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6c2VjcmV0",
        "Token {token}",
        "{token}",  # no scheme at all
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer {token}x",
        "Bearer {token}.extra",
        "Bearer ....",
    ],
)
async def test_a_malformed_authorization_header_is_unauthenticated(hs: Accounts, authorization: str) -> None:
    await hs.refused(authorization=authorization.replace("{token}", mint("alice")))


async def test_a_refused_request_changes_nothing(hs: Accounts) -> None:
    for token in [None, forged(mint("alice")), mint("alice", exp_in=-3600), unsigned("alice")]:
        headers = {} if token is None else bearer(token)
        async with hs.client(headers) as http:
            for _ in range(2):
                assert_unauthenticated(await http.post("/graphql", json={"query": CREATE}))
    assert not await models.Session.exists(id="intruder")


async def test_a_token_expired_beyond_the_leeway_is_refused(hs: Accounts) -> None:
    await hs.refused(mint("alice", exp_in=-60))
    await hs.refused(mint("alice", exp_in=-3600))


async def test_a_token_expired_within_the_leeway_is_accepted(hs: Accounts) -> None:
    # the identity provider's clock and this server's disagree a little (30 s)
    assert await hs.viewer(mint("alice", exp_in=-10)) == {"id": "alice", "isAdmin": False}


async def test_a_token_not_yet_valid_beyond_the_leeway_is_refused(hs: Accounts) -> None:
    await hs.refused(mint("alice", nbf_in=60))
    await hs.refused(mint("alice", nbf_in=3600))


async def test_a_token_valid_from_within_the_leeway_is_accepted(hs: Accounts) -> None:
    assert await hs.viewer(mint("alice", nbf_in=10)) == {"id": "alice", "isAdmin": False}
    assert await hs.viewer(mint("bob", nbf_in=-10)) == {"id": "bob", "isAdmin": False}


async def test_a_token_without_exp_is_refused(hs: Accounts) -> None:
    await hs.refused(mint("alice", exp_in=None))


@pytest.mark.parametrize(
    "exp",
    ["tomorrow", None, [1], {"at": 1}],
)
async def test_a_token_whose_exp_is_not_a_time_is_refused(hs: Accounts, exp: Any) -> None:
    await hs.refused(mint("alice", extra={"exp": exp}))


async def test_an_exp_past_any_date_a_float_holds_is_answered_not_a_500(hs: Accounts) -> None:
    # a JSON integer has no bound: 10**400 is later than anything, and too big for a float
    async with hs.client(bearer(mint("alice", extra={"exp": 10**400}))) as http:
        responses = [await http.post("/graphql", json={"query": VIEWER_QUERY}) for _ in range(2)]
    for response in responses:
        assert response.status_code in (200, 401), response.text
        if response.status_code == 401:
            assert_unauthenticated(response)
        else:
            assert response.json() == {"data": {"viewer": {"id": "alice", "isAdmin": False}}}


async def test_a_token_without_sub_is_refused(hs: Accounts) -> None:
    await hs.refused(mint(None))


@pytest.mark.parametrize("sub", ["", None, 42, ["alice"], {"id": "alice"}, "u" * 256])
async def test_a_token_whose_sub_is_no_user_is_refused(hs: Accounts, sub: Any) -> None:
    await hs.refused(mint(extra={"sub": sub}))


async def test_a_token_signed_with_another_secret_is_refused(hs: Accounts) -> None:
    await hs.refused(mint("alice", key=SigningKey("hs-other", "HS256", HS_SECRET[::-1])))


async def test_a_forged_signature_is_refused(hs: Accounts) -> None:
    token = mint("alice")
    assert await hs.viewer(token) == {"id": "alice", "isAdmin": False}
    await hs.refused(forged(token))
    await hs.refused(token.rsplit(".", 1)[0] + ".")  # the signature cut off


async def test_changed_claims_under_a_kept_signature_are_refused(hs: Accounts) -> None:
    token = mint("alice")
    assert await hs.viewer(token) == {"id": "alice", "isAdmin": False}
    # remembered or not, a token with other claims is another token
    await hs.refused(with_claims(token, sub="bob"))
    await hs.refused(with_claims(token, roles=["admin"]))
    await hs.refused(with_claims(token, exp=int(time.time()) + 86_400 * 365))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_an_unsigned_token_is_refused(hs: Accounts, alg: str) -> None:
    await hs.refused(unsigned("alice", alg=alg))
    await hs.refused(unsigned("root", alg=alg, roles=["admin"]))


async def test_an_unsigned_copy_of_a_valid_token_is_refused(hs: Accounts) -> None:
    head, payload, _ = mint("alice").split(".")
    none_head = unsigned("alice").split(".")[0]
    await hs.refused(f"{none_head}.{payload}.")
    assert head != none_head


@pytest.mark.parametrize("key", ["rs", "es", "ed"])
async def test_an_asymmetric_token_is_refused_by_a_secret_server(hs: Accounts, key: str) -> None:
    await hs.refused(mint("alice", key=key))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_only_hs256_is_taken_with_the_secret(hs: Accounts, algorithm: str) -> None:
    # the same secret, another HMAC: the algorithm is pinned to the key, never read from the token
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 300}, HS_SECRET, algorithm=algorithm)
    await hs.refused(token)


# --- audience and issuer --------------------------------------------------------------------


async def test_with_an_audience_set_the_right_one_is_accepted(start: Start) -> None:
    accounts = start(jwt_audience=AUDIENCE)
    assert await accounts.viewer(mint("alice", aud=AUDIENCE)) == {"id": "alice", "isAdmin": False}
    assert await accounts.viewer(mint("bob", aud=["account", AUDIENCE])) == {"id": "bob", "isAdmin": False}


@pytest.mark.parametrize("aud", ["account", ["account", "other"], f"{AUDIENCE}-staging", None])
async def test_with_an_audience_set_a_wrong_or_missing_one_is_refused(start: Start, aud: Any) -> None:
    accounts = start(jwt_audience=AUDIENCE)
    await accounts.refused(mint("alice", aud=aud))


async def test_without_an_audience_set_a_tokens_audience_is_not_checked(hs: Accounts) -> None:
    assert await hs.viewer(mint("alice", aud="anything")) == {"id": "alice", "isAdmin": False}


async def test_with_an_issuer_set_the_right_one_is_accepted(start: Start) -> None:
    accounts = start(jwt_issuer=ISSUER)
    assert await accounts.viewer(mint("alice", iss=ISSUER)) == {"id": "alice", "isAdmin": False}


@pytest.mark.parametrize("iss", ["https://evil.example.test/realms/kalito", ISSUER + "/", None])
async def test_with_an_issuer_set_a_wrong_or_missing_one_is_refused(start: Start, iss: str | None) -> None:
    accounts = start(jwt_issuer=ISSUER)
    await accounts.refused(mint("alice", iss=iss))


async def test_audience_and_issuer_are_both_checked(start: Start) -> None:
    accounts = start(jwt_audience=AUDIENCE, jwt_issuer=ISSUER)
    assert await accounts.viewer(mint("alice", aud=AUDIENCE, iss=ISSUER)) == {"id": "alice", "isAdmin": False}
    await accounts.refused(mint("alice", aud=AUDIENCE, iss="https://evil.example.test/"))
    await accounts.refused(mint("alice", aud="account", iss=ISSUER))


# --- a key set from a file (KALITO_JWKS_FILE) -------------------------------------------------


@pytest.mark.parametrize("key", ["rs", "es", "ed"])
async def test_a_jwks_file_accepts_rs256_es256_and_eddsa(from_file: Accounts, key: str) -> None:
    assert await from_file.viewer(mint(f"user-{key}", key=key)) == {"id": f"user-{key}", "isAdmin": False}
    assert await from_file.viewer(mint(f"admin-{key}", key=key, roles=["admin"])) == {
        "id": f"admin-{key}",
        "isAdmin": True,
    }


async def test_a_token_naming_an_unknown_kid_is_refused(from_file: Accounts) -> None:
    await from_file.refused(mint("alice", key="rs", kid="rs-unknown"))
    await from_file.refused(mint("alice", key=new_rsa_key("rs-1")))  # a known kid, another key


async def test_a_token_naming_no_kid_is_refused_with_a_key_set(from_file: Accounts) -> None:
    await from_file.refused(mint("alice", key="rs", omit_kid=True))
    await from_file.refused(mint("alice", key="es", omit_kid=True))
    # a kid that is not a string (PyJWT will not write one); the same token naming the key passes
    for key in ("rs", "es", "ed"):
        chosen = KEYS[key]
        named = signed_by_hand({"alg": chosen.algorithm, "kid": chosen.kid}, claims("alice"), key=key)
        assert await from_file.viewer(named) == {"id": "alice", "isAdmin": False}
        for kid in (None, 1, [chosen.kid], {"kid": chosen.kid}):
            await from_file.refused(signed_by_hand({"alg": chosen.algorithm, "kid": kid}, claims("alice"), key=key))


async def test_a_token_signed_by_another_keys_kid_is_refused(from_file: Accounts) -> None:
    # signed with the RSA key, naming the EC key: the algorithm is the named key's (ES256)
    await from_file.refused(mint("alice", key="rs", kid=ES.kid))
    await from_file.refused(mint("alice", key="es", kid=ED.kid))


async def test_an_hs256_token_signed_with_the_rsa_public_key_is_refused(from_file: Accounts) -> None:
    # the HS/RS confusion: the public key (which anyone may have) used as an HMAC secret
    await from_file.refused(hs256_signed_with_public_key("alice", key="rs"))
    await from_file.refused(hs256_signed_with_public_key("root", key="rs", roles=["admin"]))


async def test_an_hs256_token_naming_a_public_keys_kid_is_refused(from_file: Accounts) -> None:
    await from_file.refused(mint("alice", key="hs", kid=RS.kid))


@pytest.mark.parametrize("key", ["rs", "es", "ed"])
async def test_a_forged_signature_is_refused_with_a_key_set(from_file: Accounts, key: str) -> None:
    token = mint("alice", key=key)
    assert await from_file.viewer(token) == {"id": "alice", "isAdmin": False}
    await from_file.refused(forged(token))
    await from_file.refused(with_claims(token, sub="bob"))


@pytest.mark.parametrize("alg", ["none", "None"])
async def test_an_unsigned_token_naming_a_known_kid_is_refused(from_file: Accounts, alg: str) -> None:
    await from_file.refused(unsigned("alice", alg=alg, kid=RS.kid))


@pytest.mark.parametrize("key", ["rs", "es", "ed"])
async def test_expiry_is_checked_with_a_key_set_too(from_file: Accounts, key: str) -> None:
    await from_file.refused(mint("alice", key=key, exp_in=-60))
    await from_file.refused(mint("alice", key=key, exp_in=None))
    await from_file.refused(mint("alice", key=key, nbf_in=60))


# --- a key set from a URL (KALITO_JWKS_URL) ---------------------------------------------------


async def test_the_keys_are_fetched_from_the_jwks_url_once(start: Start, provider: JwksServer) -> None:
    accounts = start(jwks_url=provider.url)
    assert provider.hits == 0  # nothing fetched before a token needs a key
    assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
    assert await accounts.viewer(mint("bob", key="es", roles=["admin"])) == {"id": "bob", "isAdmin": True}
    assert await accounts.viewer(mint("carol", key="ed")) == {"id": "carol", "isAdmin": False}
    assert await accounts.viewer(mint("dave", key="rs")) == {"id": "dave", "isAdmin": False}
    assert provider.hits == 1  # one key set, cached


async def test_a_rotated_key_is_fetched_when_a_token_names_it(start: Start) -> None:
    with JwksServer(RS) as provider:
        accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=0)
        assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
        assert provider.hits == 1
        provider.serve(RS, RS_NEXT)  # the identity provider adds the next key and signs with it
        assert await accounts.viewer(mint("bob", key=RS_NEXT)) == {"id": "bob", "isAdmin": False}
        assert provider.hits == 2  # the unknown kid made one fetch
        assert await accounts.viewer(mint("carol", key=RS_NEXT)) == {"id": "carol", "isAdmin": False}
        assert await accounts.viewer(mint("dave", key="rs")) == {"id": "dave", "isAdmin": False}
        assert provider.hits == 2


async def test_a_rotated_key_waits_for_the_least_time_between_fetches(start: Start) -> None:
    with JwksServer(RS) as provider:
        accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=1)
        assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
        provider.serve(RS_NEXT)
        await accounts.refused(mint("bob", key=RS_NEXT))  # within a second of the last fetch
        assert provider.hits == 1
        await asyncio.sleep(1.2)
        assert await accounts.viewer(mint("bob", key=RS_NEXT)) == {"id": "bob", "isAdmin": False}
        assert provider.hits == 2


async def test_made_up_kids_do_not_make_the_server_hammer_the_jwks_url(start: Start, provider: JwksServer) -> None:
    accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=3600)
    assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
    for number in range(20):
        await accounts.refused(mint("mallory", key="rs", kid=f"made-up-{number}"))
    async with accounts.client() as http:
        answers = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": VIEWER_QUERY}, headers=bearer(mint(key="rs", kid=f"more-{n}")))
                for n in range(20)
            )
        )
    for response in answers:
        assert_unauthenticated(response)
    assert provider.hits <= 2  # the first fetch, and at most one for all the unknown kids
    assert await accounts.viewer(mint("bob", key="es")) == {"id": "bob", "isAdmin": False}
    assert provider.hits <= 2


async def test_made_up_kids_first_do_not_make_the_server_hammer_the_jwks_url(
    start: Start, provider: JwksServer
) -> None:
    accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=3600)
    for number in range(20):
        await accounts.refused(mint("mallory", key="rs", kid=f"made-up-{number}"))
    assert provider.hits <= 2
    assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
    assert provider.hits <= 2


async def test_no_kid_and_unsigned_tokens_fetch_nothing(start: Start, provider: JwksServer) -> None:
    accounts = start(jwks_url=provider.url)
    await accounts.refused(mint("alice", key="rs", omit_kid=True))
    await accounts.refused("not-a-jwt")
    assert provider.hits == 0


async def test_an_hs256_token_signed_with_the_fetched_rsa_key_is_refused(start: Start, provider: JwksServer) -> None:
    accounts = start(jwks_url=provider.url)
    await accounts.refused(hs256_signed_with_public_key("alice", key="rs"))
    await accounts.refused(unsigned("alice", kid=RS.kid))
    await accounts.refused(forged(mint("alice", key="rs")))
    await accounts.refused(mint("alice", key="rs", kid=ES.kid))


async def test_a_jwks_url_that_does_not_answer_is_401_not_500(start: Start) -> None:
    accounts = start(jwks_url=closed_url())
    await accounts.refused(mint("alice", key="rs"))


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_a_jwks_url_answering_an_error_is_401_not_500(start: Start, provider: JwksServer, status: int) -> None:
    provider.serve_raw(b'{"error": "down"}', status=status)
    accounts = start(jwks_url=provider.url)
    await accounts.refused(mint("alice", key="rs"))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Bad gateway</body></html>", "text/html"),  # a proxy's page, status 200
        (b'{"keys": []}', "application/json"),  # an empty key set
        (b'{"keys": [{"kty": "RSA"}]}', "application/json"),  # no usable key
        (b"[]", "application/json"),  # not a key set
    ],
)
async def test_a_jwks_url_answering_no_key_set_is_401_not_500(
    start: Start, provider: JwksServer, body: bytes, content_type: str
) -> None:
    provider.serve_raw(body, content_type=content_type)
    accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=0)
    await accounts.refused(mint("alice", key="rs"))


async def test_a_jwks_url_that_is_down_is_not_asked_again_on_every_request(start: Start, provider: JwksServer) -> None:
    # the least time between two fetches holds for fetches that fail too: a stream of tokens
    # must not make the server hammer an identity provider that is down (or coming back up)
    provider.serve_raw(b"unavailable", status=503, content_type="text/plain")
    accounts = start(jwks_url=provider.url, jwks_min_refresh_seconds=3600)
    for number in range(10):
        await accounts.refused(mint("mallory", key="rs", kid=f"made-up-{number}"))
        await accounts.refused(mint(f"user-{number}", key="rs"))
    assert provider.hits <= 2


async def test_keys_fetched_before_an_outage_keep_working(start: Start, provider: JwksServer) -> None:
    accounts = start(jwks_url=provider.url)
    assert await accounts.viewer(mint("alice", key="rs")) == {"id": "alice", "isAdmin": False}
    provider.serve_raw(b"unavailable", status=503, content_type="text/plain")
    # another token (not one already verified and remembered) with the same key
    assert await accounts.viewer(mint("bob", key="rs")) == {"id": "bob", "isAdmin": False}
    assert provider.hits == 1


# --- what stays open ------------------------------------------------------------------------


async def test_health_stays_open(hs: Accounts) -> None:
    async with hs.client() as http:
        response = await http.get("/healthz")
    assert response.status_code == 200


async def test_graphiql_stays_open_outside_production(hs: Accounts) -> None:
    async with hs.client() as http:
        page = await http.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        files = await http.get("/graphiql/page.css")
        assert files.status_code == 200


async def test_a_get_that_is_not_graphiqls_page_needs_a_token(hs: Accounts) -> None:
    async with hs.client() as http:
        # a query in the address bar is an operation, not the page
        assert_unauthenticated(
            await http.get("/graphql", params={"query": VIEWER_QUERY}, headers={"Accept": "text/html"})
        )
        assert_unauthenticated(await http.get("/graphql", headers={"Accept": "application/json"}))
        assert_unauthenticated(await http.post("/graphql", headers={"Accept": "text/html"}, json={"query": "{ x }"}))
        assert_unauthenticated(await http.get("/metrics"))


async def test_a_get_with_a_token_runs(hs: Accounts) -> None:
    async with hs.client({**bearer(mint("alice")), "Content-Type": "application/json"}) as http:
        answers = [(await http.get("/graphql", params={"query": VIEWER_QUERY})).json() for _ in range(2)]
    assert answers == [{"data": {"viewer": {"id": "alice", "isAdmin": False}}}] * 2


async def test_metrics_need_a_token(hs: Accounts) -> None:
    async with hs.client(bearer(mint("prometheus"))) as http:
        assert (await http.get("/metrics")).status_code == 200


async def test_in_production_graphiqls_page_needs_a_token(start: Start) -> None:
    accounts = start(production=True)
    async with accounts.client() as http:
        assert_unauthenticated(await http.get("/graphql", headers={"Accept": "text/html"}))
        assert_unauthenticated(await http.get("/graphiql/page.css"))
        assert (await http.get("/healthz")).status_code == 200
    async with accounts.client(bearer(mint("alice"))) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404  # past the token: production serves no GraphiQL


async def test_in_production_a_valid_token_is_a_viewer(start: Start) -> None:
    accounts = start(production=True)
    assert await accounts.viewer(mint("alice", roles=["admin"])) == {"id": "alice", "isAdmin": True}
    await accounts.refused()


# --- the settings and the real server -------------------------------------------------------


def test_accounts_need_exactly_one_key_source(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="exactly one"):
        Settings(auth="jwt")
    with pytest.raises(SettingsError, match="exactly one"):
        Settings(auth="jwt", jwt_secret=HS_SECRET, jwks_url="http://127.0.0.1:1/jwks.json")
    with pytest.raises(SettingsError, match="KALITO_API_TOKEN"):
        Settings(auth="jwt", jwt_secret=HS_SECRET, api_token="one-user")


def test_the_accounts_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "KALITO_AUTH": "JWT",
            "KALITO_JWKS_URL": "https://id.example.test/jwks.json",
            "KALITO_JWKS_MIN_REFRESH_SECONDS": "120",
            "KALITO_JWT_AUDIENCE": AUDIENCE,
            "KALITO_JWT_ISSUER": ISSUER,
            "KALITO_JWT_ROLES_CLAIM": "realm_access.roles",
            "KALITO_DEFAULT_OWNER": "alice",
        }
    )
    assert settings.accounts
    assert (settings.jwks_url, settings.jwks_min_refresh_seconds) == ("https://id.example.test/jwks.json", 120.0)
    assert (settings.jwt_audience, settings.jwt_issuer) == (AUDIENCE, ISSUER)
    assert (settings.jwt_roles_claim, settings.default_owner) == ("realm_access.roles", "alice")
    assert not Settings.from_env({}).accounts


def test_uvicorn_with_accounts_checks_tokens_against_a_jwks_url(tmp_path: Path) -> None:
    with JwksServer(RS, ES) as provider:
        env = {
            "KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}",
            "KALITO_AUTH": "jwt",
            "KALITO_JWKS_URL": provider.url,
            "KALITO_JWT_AUDIENCE": AUDIENCE,
            "KALITO_JWT_ISSUER": ISSUER,
        }
        with live_server(env, tmp_path) as url:
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
            refused = httpx.post(f"{url}/graphql", json={"query": VIEWER_QUERY}, timeout=10)
            assert_unauthenticated(refused)
            for key, roles in (("rs", None), ("es", ["admin"])):
                token = mint(f"user-{key}", key=key, aud=AUDIENCE, iss=ISSUER, roles=roles)
                answers = [
                    httpx.post(f"{url}/graphql", json={"query": VIEWER_QUERY}, headers=bearer(token), timeout=10)
                    for _ in range(2)
                ]
                assert [answer.status_code for answer in answers] == [200, 200]
                expected = {"data": {"viewer": {"id": f"user-{key}", "isAdmin": roles is not None}}}
                assert [json.loads(answer.text) for answer in answers] == [expected, expected]
            assert_unauthenticated(
                httpx.post(
                    f"{url}/graphql",
                    json={"query": VIEWER_QUERY},
                    headers=bearer(mint("alice", key="rs", aud="other", iss=ISSUER)),
                    timeout=10,
                )
            )
            assert provider.hits == 1
