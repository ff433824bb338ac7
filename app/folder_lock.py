"""One running Meeting Buddy per data folder owns its live sessions.

The owner holds an exclusive lock on `<data root>/.instance.lock` for its lifetime. Only the
owner may recover sessions a crash left behind (otherwise a `sessions list` from a second
shell would declare the running app's sessions interrupted).
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DataFolderLock:
    def __init__(self, root: Path) -> None:
        self.path = Path(root) / ".instance.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
