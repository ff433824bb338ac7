"""The client side of the API benchmark: `python -m bench.api_clients URL TOKEN CLIENTS
REQUESTS` has CLIENTS concurrent httpx clients each POST /sessions REQUESTS times (after
one unmeasured request to open its connection) and prints the latencies as JSON.

A process of its own, so the clients do not share the server's event loop and GIL."""
from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

MEETING_LINK = "https://meet.google.com/abc-defg-hij"


async def one_client(url: str, token: str, requests: int, start: asyncio.Event,
                     latencies: list[float], failures: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": token}, timeout=30) as client:
        await client.post("/sessions", json={"meeting_link": MEETING_LINK})  # opens the connection
        await start.wait()
        for _ in range(requests):
            began = time.perf_counter()
            response = await client.post("/sessions", json={"meeting_link": MEETING_LINK})
            latencies.append((time.perf_counter() - began) * 1000.0)
            if response.status_code != 201:
                failures.append(f"{response.status_code}: {response.text[:200]}")


async def run(url: str, token: str, clients: int, requests: int) -> dict:
    start = asyncio.Event()
    latencies: list[float] = []
    failures: list[str] = []
    tasks = [asyncio.create_task(one_client(url, token, requests, start, latencies, failures))
             for _ in range(clients)]
    await asyncio.sleep(0.5)  # every client has connected
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return {"latencies_ms": latencies, "failures": failures, "wall_s": time.perf_counter() - began}


def main(argv: list[str]) -> int:
    url, token, clients, requests = argv[0], argv[1], int(argv[2]), int(argv[3])
    print(json.dumps(asyncio.run(run(url, token, clients, requests))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
