"""ASGI middleware that runs before any route: authentication, then the body size limit.

Both answer with the error envelope themselves, so an unauthenticated or oversized request
never reaches routing or body parsing.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import PayloadTooLarge, error_response
from app.errors import AuthenticationRequired, InvalidApiKey, MeetingBuddyError


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _credentials(scope: Scope) -> list[str]:
    """Tokens the request offers: a Bearer token and/or an X-API-Key."""
    offered = []
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        # A non-Bearer scheme still counts as offered credentials (and as wrong ones).
        offered.append(token.strip() if scheme.lower() == "bearer" else "")
    api_key = _header(scope, b"x-api-key")
    if api_key is not None:
        offered.append(api_key.strip())
    return offered


class TokenAuth:
    """Every request needs the token, except the paths in `public` (the OpenAPI document)."""

    def __init__(self, app: ASGIApp, *, token: str, public: frozenset[str]) -> None:
        if not token:
            raise ValueError("the API token must not be empty")
        self.app = app
        self._token = token.encode()
        self._public = public

    def _check(self, scope: Scope) -> MeetingBuddyError | None:
        offered = _credentials(scope)
        if not offered:
            return AuthenticationRequired(
                "Authentication required: send Authorization: Bearer <token> or X-API-Key")
        # Every offered token is compared in constant time, whatever the outcome.
        matches = [hmac.compare_digest(t.encode(), self._token) for t in offered]
        return None if any(matches) else InvalidApiKey("Invalid API token")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self._public:
            error = self._check(scope)
            if error is not None:
                response = error_response(error, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses a request body over its route's limit with 413 PAYLOAD_TOO_LARGE.

    The body is read (up to the limit) before the route runs and handed on whole, so a
    chunked upload is bounded as well as one with a Content-Length.
    """

    def __init__(self, app: ASGIApp, *, default_bytes: int,
                 limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.limit_for = limit_for

    async def _refuse(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"The request body is larger than {limit} bytes",
                                details={"max_bytes": limit})
        await error_response(error, headers={"Connection": "close"})(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"]) or self.default_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit, scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending its body
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # afterwards: disconnect notices (SSE streams need them)

        await self.app(scope, replay, send)
