"""Tokens for the accounts tests (KALITO_AUTH=jwt): keys, minted JWTs, the tokens an attacker
sends, and a real JWKS endpoint.

The keys are made once per process: an HS256 secret, and RSA 2048 (RS256), EC P-256 (ES256)
and Ed25519 (EdDSA) keys, each with its kid. `mint` signs with PyJWT, as an identity provider
would; the bad tokens (`unsigned`, `forged`, `hs256_signed_with_public_key`) are built by hand,
since PyJWT refuses to make some of them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

VIEWER_QUERY = "query { viewer { id isAdmin } }"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    """One key an identity provider signs with: its kid, its algorithm and its private half
    (the secret itself for HS256)."""

    kid: str
    algorithm: str
    private: str | PrivateKey

    @property
    def is_symmetric(self) -> bool:
        return isinstance(self.private, str)

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWKS lists it (what `to_jwk` gives, with the kid and `use`)."""
        private = self.private
        jwk: dict[str, Any]
        if isinstance(private, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        elif isinstance(private, ec.EllipticCurvePrivateKey):
            jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        elif isinstance(private, ed25519.Ed25519PrivateKey):
            jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
        else:
            raise ValueError(f"{self.kid} is a shared secret: a JWKS lists only public keys")
        return {**jwk, "kid": self.kid, "use": "sig"}

    def public_pem(self) -> bytes:
        """The public key in PEM (SubjectPublicKeyInfo), as a server configured with it holds it."""
        if isinstance(self.private, str):
            raise ValueError(f"{self.kid} is a shared secret, with no public half")
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def new_ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


def new_ed25519_key(kid: str) -> SigningKey:
    return SigningKey(kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())


HS_SECRET = secrets.token_urlsafe(48)  # 64 characters: over HS256's 32-byte floor
HS = SigningKey("hs-1", "HS256", HS_SECRET)
RS = new_rsa_key("rs-1")
ES = new_ec_key("es-1")
ED = new_ed25519_key("ed-1")
# The key a rotation moves to: not in any key set until a test serves it.
RS_NEXT = new_rsa_key("rs-2")
KEYS: dict[str, SigningKey] = {"hs": HS, "rs": RS, "es": ES, "ed": ED}


def signing_key(key: str | SigningKey) -> SigningKey:
    return key if isinstance(key, SigningKey) else KEYS[key]


def jwks(*keys: str | SigningKey) -> dict[str, Any]:
    """A JWKS document of these public keys (by default RS, ES and ED)."""
    chosen = [signing_key(key) for key in keys] if keys else [RS, ES, ED]
    return {"keys": [key.public_jwk() for key in chosen]}


def write_jwks_file(path: Path, *keys: str | SigningKey) -> str:
    """Writes `jwks(*keys)` to `path`; returns the path as KALITO_JWKS_FILE takes it."""
    path.write_text(json.dumps(jwks(*keys)))
    return str(path)


# --- tokens ---------------------------------------------------------------------------------


def claims(
    sub: str | None = "alice",
    *,
    roles: list[str] | str | None = None,
    roles_claim: str = "roles",
    exp_in: float | None = 300,
    nbf_in: float | None = None,
    aud: str | list[str] | None = None,
    iss: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A token's claims: `sub` (None leaves it out), `exp` in `exp_in` seconds (None leaves it
    out), `nbf`, `aud` and `iss` when given, `iat` now, the roles at `roles_claim` (dotted for
    a nested claim, as Keycloak's `realm_access.roles`), and `extra` over all of them."""
    now = int(time.time())
    payload: dict[str, Any] = {"iat": now}
    if sub is not None:
        payload["sub"] = sub
    if exp_in is not None:
        payload["exp"] = now + int(exp_in)
    if nbf_in is not None:
        payload["nbf"] = now + int(nbf_in)
    if aud is not None:
        payload["aud"] = aud
    if iss is not None:
        payload["iss"] = iss
    if roles is not None:
        *parents, last = roles_claim.split(".")
        place = payload
        for part in parents:
            place = place.setdefault(part, {})
        place[last] = roles
    payload.update(extra or {})
    return payload


def mint(
    sub: str | None = "alice",
    *,
    key: str | SigningKey = "hs",
    roles: list[str] | str | None = None,
    roles_claim: str = "roles",
    exp_in: float | None = 300,
    nbf_in: float | None = None,
    aud: str | list[str] | None = None,
    iss: str | None = None,
    kid: str | None = None,
    omit_kid: bool = False,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A token signed by PyJWT with `key` ("hs", "rs", "es", "ed" or a SigningKey). An
    asymmetric key's token names its kid (or `kid`); an HS256 token names none unless given
    one; `omit_kid` leaves it out whatever the key."""
    chosen = signing_key(key)
    header: dict[str, Any] = {}
    if kid is not None:
        header["kid"] = kid
    elif not chosen.is_symmetric:
        header["kid"] = chosen.kid
    header.update(headers or {})
    if omit_kid:
        header.pop("kid", None)
    payload = claims(
        sub, roles=roles, roles_claim=roles_claim, exp_in=exp_in, nbf_in=nbf_in, aud=aud, iss=iss, extra=extra
    )
    return jwt.encode(payload, chosen.private, algorithm=chosen.algorithm, headers=header or None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unsigned(sub: str = "alice", *, alg: str = "none", kid: str | None = None, **claim_options: Any) -> str:
    """A token with `{"alg": "none"}` (or `alg`: "None", "NONE"…) and no signature: the header,
    the claims and an empty third part."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return f"{b64url_json(header)}.{b64url_json(claims(sub, **claim_options))}."


def forged(token: str) -> str:
    """`token` with one character of its signature changed. The first: the last one may carry
    only padding bits, which base64 decoders ignore, and the signature would still match."""
    head, payload, signature = token.split(".")
    replacement = "A" if signature[0] != "A" else "B"
    return f"{head}.{payload}.{replacement}{signature[1:]}"


def with_claims(token: str, **changes: Any) -> str:
    """`token` with its claims changed and its signature kept: what a user who wants to be
    someone else (or an admin) sends."""
    head, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{head}.{b64url_json({**decoded, **changes})}.{signature}"


def signed_by_hand(header: Mapping[str, Any], payload: Mapping[str, Any], *, key: str | SigningKey = "rs") -> str:
    """A token with exactly this header and these claims, validly signed with `key` (whatever
    the header says): for headers PyJWT refuses to write, as a `kid` that is not a string."""
    chosen = signing_key(key)
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}".encode("ascii")
    private = chosen.private
    if isinstance(private, str):
        signature = hmac.new(private.encode(), signing_input, hashlib.sha256).digest()
    elif isinstance(private, rsa.RSAPrivateKey):
        signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS: r and s, not DER
    else:
        signature = private.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def hs256_signed_with_public_key(sub: str = "alice", *, key: str | SigningKey = "rs", **claim_options: Any) -> str:
    """The HS/RS confusion: an HS256 token whose HMAC secret is the public key's PEM, naming the
    public key's kid. A server that took the algorithm from the token would check it with the
    public key as the secret, and accept it. PyJWT refuses to sign with a PEM as an HMAC
    secret, hence hmac by hand."""
    chosen = signing_key(key)
    header = {"alg": "HS256", "typ": "JWT", "kid": chosen.kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims(sub, **claim_options))}"
    signature = hmac.new(chosen.public_pem(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the settings ---------------------------------------------------------------------------


def jwt_settings(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a Settings with accounts: `auth="jwt"` and, unless `overrides`
    names another key source (jwks_url, jwks_file), `jwt_secret=HS_SECRET`."""
    sources = {"jwt_secret", "jwks_url", "jwks_file"}
    base: dict[str, Any] = {"auth": "jwt"}
    if not sources & overrides.keys():
        base["jwt_secret"] = HS_SECRET
    return {**base, **overrides}


# --- a JWKS endpoint ------------------------------------------------------------------------


def closed_url(path: str = "/jwks.json") -> str:
    """The URL of a port of 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return f"http://127.0.0.1:{port}{path}"


class JwksServer:
    """An identity provider's JWKS endpoint: a real HTTP server on 127.0.0.1 (a free port), in
    a background thread, serving the current key set at /jwks.json and counting the fetches.

        with JwksServer("rs") as provider:
            Settings(..., jwks_url=provider.url)
            provider.serve("rs", RS_NEXT)  # a rotation
            assert provider.hits == 2
    """

    PATH = "/jwks.json"

    def __init__(self, *keys: str | SigningKey) -> None:
        self.lock = threading.Lock()
        self._hits = 0
        self.body = b""
        self.status = 200
        self.content_type = "application/json"
        self.serve(*keys)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="jwks-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{self.PATH}"

    @property
    def hits(self) -> int:
        """How many times the key set was asked for."""
        with self.lock:
            return self._hits

    def serve(self, *keys: str | SigningKey) -> None:
        """Serve the JWKS of these keys from now on (RS, ES and ED when none are named)."""
        self.serve_raw(json.dumps(jwks(*keys)).encode())

    def serve_raw(self, body: bytes, *, status: int = 200, content_type: str = "application/json") -> None:
        """Serve anything at all: an outage (503), a proxy's HTML page, an empty key set."""
        with self.lock:
            self.body, self.status, self.content_type = body, status, content_type

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != provider.PATH:
                    self.send_error(404)
                    return
                with provider.lock:
                    provider._hits += 1
                    body, status, content_type = provider.body, provider.status, provider.content_type
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test's output is the test's

        return Handler

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def jwks_server(*keys: str | SigningKey) -> Iterator[JwksServer]:
    with JwksServer(*keys) as server:
        yield server
