"""Fixtures of the API tests: this project's server on a loopback port, and an HTTP client
that speaks to it with its token."""
from __future__ import annotations

import httpx
import pytest

from tests.api_helpers import LiveServer


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "server", keepalive_s=0.3) as srv:
        yield srv


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.api, headers=server.headers, timeout=15) as client:
        yield client
