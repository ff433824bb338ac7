"""A `meeting-buddy` command run as a user runs it in a terminal: stderr on a pseudo-terminal
100 columns wide (where progress bars are drawn), stdout captured."""
from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios


def run_on_terminal(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """`meeting-buddy ARGS`: (exit status, what was drawn on the terminal, stdout)."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=subprocess.PIPE,
                               stderr=secondary, text=True)
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        drawn += chunk
    stdout, _ = process.communicate(timeout=timeout)
    os.close(primary)
    return process.returncode, drawn.decode(errors="replace"), stdout
