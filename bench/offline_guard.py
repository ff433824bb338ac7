"""Keeps a benchmark process off the network. Each tool compared must use the model files it
is given; a tool that reaches for a download instead fails at once, with the host it tried
named in the error, and the benchmark reports that instead of a number. Loopback stays open
for tools driven through a server on this machine."""
from __future__ import annotations

import ipaddress
import socket
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


class DownloadRefused(OSError):
    """A benchmarked tool tried to reach another machine."""


def is_local(host: Any) -> bool:
    if host is None:  # a wildcard bind, not a connection
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def refuse_downloads() -> None:
    """From now on, resolving any host but this machine raises DownloadRefused. Every
    connection by name (urllib, requests, huggingface_hub, asyncio) resolves first."""
    resolve = socket.getaddrinfo
    if getattr(resolve, "refuses_downloads", False):
        return

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_local(host):
            raise DownloadRefused(f"download refused: tried to reach {host} (the benchmark allows no downloads)")
        return resolve(host, *args, **kwargs)

    guarded.refuses_downloads = True  # type: ignore[attr-defined]
    socket.getaddrinfo = guarded
