"""The local REST + SSE server of the Meeting Buddy contract (API.md): the app in
`app.api.app`, the server in `app.api.server`.

Importing the package loads nothing else, so that the wire models of `app.api.schemas`
serve the remote client without the web framework.
"""
from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the server publishes."""
    from app.api.app import openapi_document as document

    return document()
