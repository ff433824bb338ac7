"""POST /sessions latency under concurrent clients: a real ApiServer (uvicorn, FastAPI, the
SessionManager and a SQLite store) on loopback, driven by 20 httpx clients in another
process. Sessions run a scripted runner (it reports joining, then waits to be stopped), so
the figure is the API and the session manager, not the bot's start-up."""
from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
from pathlib import Path

from app.api.server import ApiServer
from app.sessions import SessionManager
from app.store import Store
from bench.figures import BenchResult, Figure, Mode, at_most
from tests.fakes import JOINING, scripted, status

CLIENTS = 20


async def serve_and_measure(folder: Path, requests: int) -> dict:
    token = secrets.token_urlsafe(24)
    store = Store(folder)
    manager = SessionManager(store, runner_factory=scripted(status(JOINING)))
    server = ApiServer(manager, token=token, port=0)
    await server.start()
    try:
        clients = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.api_clients", server.api_url, token, str(CLIENTS),
            str(requests), stdout=asyncio.subprocess.PIPE)
        output, _ = await clients.communicate()
        if clients.returncode != 0:
            raise RuntimeError(f"the API clients failed (exit status {clients.returncode})")
        return json.loads(output)
    finally:
        await manager.stop_all()
        await server.stop()
        store.close()


def measure(mode: Mode) -> BenchResult:
    requests = mode.pick(full=50, quick=10, smoke=2)
    with tempfile.TemporaryDirectory(prefix="mb-bench-api-") as tmp:
        outcome = asyncio.run(serve_and_measure(Path(tmp), requests))
    if outcome["failures"]:
        raise RuntimeError(f"{len(outcome['failures'])} requests failed, e.g. {outcome['failures'][0]}")
    latencies = outcome["latencies_ms"]
    return BenchResult([Figure(
        "api_start_ms", "ms", latencies, at_most(p99=50.0),
        f"POST /sessions, {CLIENTS} concurrent clients x {requests}; trivial runner (API + manager "
        f"+ SQLite, no bot)", {"api_start_p99_ms": "p99", "api_start_p50_ms": "median"})],
        {"clients": CLIENTS, "requests_per_client": requests,
         "requests_per_second": round(len(latencies) / outcome["wall_s"], 1)})
