"""The local REST + SSE server of the Meeting Buddy contract (API.md)."""
from app.api.app import BASE_PATH, create_app, openapi_document
from app.api.server import ApiServer, run_server

__all__ = ["ApiServer", "BASE_PATH", "create_app", "openapi_document", "run_server"]
