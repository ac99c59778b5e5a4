"""GraphiQL, from this server's own files: the page at `GET /graphql` and its assets at /graphiql/.

Strawberry's page loads GraphiQL and React from a public CDN: blank on a machine without the
internet, and a request to a third party each time someone opens it. This page loads the copies
in web/static/graphiql/ (vendor/ is rebuilt by scripts/build_graphiql_assets.py from pinned npm
packages), and its Content-Security-Policy lets it load or connect to nothing else. Development
mode only: production serves neither the page nor the assets.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

ASSETS_DIRECTORY = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",  # the page's own code is page.js: no inline script
        # GraphiQL's dialogs and CodeMirror write <style> elements and style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",  # GraphiQL's CSS embeds its fonts
        "connect-src 'self'",  # /graphql over HTTP, and over WebSocket for subscriptions
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

# Inline (strawberry's strawberry), so that the browser asks for no /favicon.ico: a 404 in the log.
ICON = (
    "data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 100 100%22>"
    "<text y=%22.9em%22 font-size=%2280%22>&#x1f353;</text></svg>"
)
PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Kalito Sessions · GraphiQL</title>
    <link rel="icon" href="{ICON}">
    <link rel="stylesheet" href="{ASSETS_PATH}/vendor/graphiql.min.css">
    <link rel="stylesheet" href="{ASSETS_PATH}/vendor/plugin-explorer.css">
    <link rel="stylesheet" href="{ASSETS_PATH}/page.css">
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="{ASSETS_PATH}/vendor/react.production.min.js"></script>
    <script src="{ASSETS_PATH}/vendor/react-dom.production.min.js"></script>
    <script src="{ASSETS_PATH}/vendor/graphiql.min.js"></script>
    <script src="{ASSETS_PATH}/vendor/plugin-explorer.umd.js"></script>
    <script src="{ASSETS_PATH}/page.js"></script>
  </body>
</html>
"""


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(
        PAGE,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


class RevalidatedStaticFiles(StaticFiles):
    """Files under stable names: `no-cache` makes the browser ask again (a 304 while they are
    unchanged) rather than keep an old GraphiQL after an upgrade."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def graphiql_assets() -> Mount:
    return Mount(ASSETS_PATH, app=RevalidatedStaticFiles(directory=ASSETS_DIRECTORY), name="graphiql")
