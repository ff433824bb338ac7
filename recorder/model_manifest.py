"""What an installed model's folder must hold: manifest.json, written once the install is
complete, records each file's size and SHA-256; loading checks the files against it.

A folder without a manifest was never completely installed (the install stopped, or an older
version of the product assembled it) and is installed again; a folder whose files differ from
their manifest was damaged after its install and is refused. Sizes alone cannot tell a file
whose bytes changed in place, so every file is hashed, once per file version and process.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
_FORMAT = 1
_BLOCK = 8 * 1024 * 1024

ProgressFn = Callable[[int, int], None]
"""Progress in bytes: (done, expected; 0 while unknown)."""


@dataclass(frozen=True)
class FileRecord:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    name: str  # the model, e.g. "base"
    origin: str  # where it was installed from, in words: packages or a Hugging Face repository
    installed_at: float  # Unix time
    files: dict[str, FileRecord]

    @property
    def size(self) -> int:
        return sum(record.size for record in self.files.values())


class ManifestError(Exception):
    """A manifest cannot be read or the files differ from it; the message names the files."""


_hashed: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (hex), computed once per file version (path, size, mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _hashed:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(_BLOCK):
                digest.update(block)
        _hashed[key] = digest.hexdigest()
    return _hashed[key]


def has_sha256(path: Path, expected: str) -> bool:
    return sha256_of(path) == expected.lower()


def write_atomically(destination: Path, sources: list[Path], size: int, progress: ProgressFn | None = None,
                     done_before: int = 0, total: int = 0) -> None:
    """Joins `sources` into `destination` through a temporary name, so a crash never leaves a
    file that looks complete; `progress` hears the bytes copied (after `done_before`)."""
    fd, temporary = tempfile.mkstemp(prefix=destination.name + ".", suffix=".partial", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            done = done_before
            for source in sources:
                with source.open("rb") as f:
                    while block := f.read(_BLOCK):
                        out.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        written = os.path.getsize(temporary)
        if written != size:
            raise OSError(f"{destination.name} came out {written} bytes instead of {size}")
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_manifest(folder: Path, name: str, origin: str) -> Manifest:
    """Records every file of the finished folder; the manifest itself is renamed into place last."""
    files = {f.name: FileRecord(f.stat().st_size, sha256_of(f))
             for f in sorted(folder.iterdir()) if f.is_file() and f.name != MANIFEST}
    manifest = Manifest(name, origin, time.time(), files)
    data = {"format": _FORMAT, "name": name, "origin": origin, "installed_at": manifest.installed_at,
            "files": {f: {"size": r.size, "sha256": r.sha256} for f, r in files.items()}}
    fd, temporary = tempfile.mkstemp(prefix=MANIFEST + ".", suffix=".partial", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, folder / MANIFEST)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest; None when it has none (an install that never finished)."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {str(f): FileRecord(int(r["size"]), str(r["sha256"]).lower()) for f, r in data["files"].items()}
        return Manifest(str(data["name"]), str(data["origin"]), float(data["installed_at"]), files)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ManifestError(f"its install record {path} cannot be read ({e})") from e


def damaged_files(folder: Path, manifest: Manifest) -> list[str]:
    """The files that are missing or differ from the manifest, by name; empty when all match."""
    damaged = []
    for name, record in manifest.files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != record.size or sha256_of(path) != record.sha256:
            damaged.append(name)
    return damaged


def remove_folder(folder: Path) -> None:
    """Removes an installed model's folder, its manifest first, so a removal that stops half-way
    leaves a folder that is installed again rather than trusted."""
    (folder / MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(folder)
