"""The FastAPI application of the local Meeting Buddy API (API.md), under /v1/meeting-buddy."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import __version__
from app.api import (
    routes_analytics,
    routes_notes,
    routes_refine,
    routes_search,
    routes_sessions,
    routes_streams,
)
from app.api.errors import AsciiJSONResponse, install_error_handlers
from app.api.middleware import BodyLimit, TokenAuth
from app.sessions import SessionManager

BASE_PATH = "/v1/meeting-buddy"
OPENAPI_PATH = f"{BASE_PATH}/openapi.json"
KEEPALIVE_S = 15.0
MAX_BODY_BYTES = 64 * 1024
# An import carries a whole transcript: a three-hour meeting is about a megabyte of JSON.
MAX_IMPORT_BODY_BYTES = 32 * 1024 * 1024

DESCRIPTION = """\
The Meeting Buddy contract, served by this computer. Every endpoint needs
`Authorization: Bearer <token>` or `X-API-Key: <token>`; only this OpenAPI document is
served without it. Errors are always the error envelope. Extensions of the documented
contract are listed in docs/API.md.
"""


def _absent_not_null(schema: dict[str, Any]) -> None:
    """A query parameter or header is left out by not sending it; it is never null. The
    document says so, though the handlers take None for "not sent"."""
    for operation in (op for path in schema["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", ()):
            choices = parameter["schema"].get("anyOf", ())
            sent = [c for c in choices if c != {"type": "null"}]
            if len(choices) == 2 and len(sent) == 1:
                rest = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
                parameter["schema"] = {**sent[0], **rest}


def _build(max_body_bytes: int, max_import_body_bytes: int) -> FastAPI:
    app = FastAPI(title="Meeting Buddy API", version=__version__, description=DESCRIPTION,
                  openapi_url=OPENAPI_PATH, docs_url=None, redoc_url=None,
                  default_response_class=AsciiJSONResponse)
    for module in (routes_sessions, routes_refine, routes_notes, routes_streams, routes_analytics, routes_search):
        app.include_router(module.router, prefix=BASE_PATH)
    install_error_handlers(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            schema["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
            schema["info"]["x-body-limits"] = {"default_bytes": max_body_bytes,
                                               "import_bytes": max_import_body_bytes}
            _absent_not_null(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def create_app(manager: SessionManager, token: str, *, keepalive_s: float = KEEPALIVE_S,
               max_body_bytes: int = MAX_BODY_BYTES,
               max_import_body_bytes: int = MAX_IMPORT_BODY_BYTES) -> FastAPI:
    """The API over `manager`, guarded by `token`. Run it on the loop the manager runs on."""
    app = _build(max_body_bytes, max_import_body_bytes)
    app.state.manager = manager
    app.state.keepalive_s = keepalive_s
    app.state.streams = set()  # the open SSE subscriptions, ended when the server stops

    def body_limit(method: str, path: str) -> int | None:
        if method == "PUT" and path.startswith(f"{BASE_PATH}/sessions/"):
            return max_import_body_bytes
        return None

    # Added last runs first: authentication, then the body limit, then the routes.
    app.add_middleware(BodyLimit, default_bytes=max_body_bytes, limit_for=body_limit)
    app.add_middleware(TokenAuth, token=token, public=frozenset({OPENAPI_PATH}))
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the server publishes (no manager needed to build it)."""
    return _build(MAX_BODY_BYTES, MAX_IMPORT_BODY_BYTES).openapi()
