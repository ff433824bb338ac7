"""The voice encoder's weights: the checkpoint the `resemblyzer` package ships, read without
torch.

The file is torch's legacy serialisation: four pickles in a row (a magic number, the format
version, the machine's sizes, the checkpoint itself whose tensors name storages by key, then
the list of those keys), followed by each storage as a little-endian int64 element count and
its raw float32 data. Only the few classes such a checkpoint names are mapped (to numpy);
anything else in the pickle is refused, so a tampered file cannot run code, and the file's
SHA-256 must match the one pinned here before anything is read.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from recorder.errors import MediaError

PACKAGE = "resemblyzer"
CHECKPOINT_NAME = "pretrained.pt"
CHECKPOINT_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_VERSION = 1001
_FLOAT32 = np.dtype("<f4")


class VoiceModelError(MediaError):
    """The voice encoder's weights are missing, altered or unreadable."""


def checkpoint_path() -> Path:
    """Where the installed package keeps the checkpoint, found without importing the package
    (it imports torch)."""
    spec = importlib.util.find_spec(PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / CHECKPOINT_NAME
        if path.is_file():
            return path
    raise VoiceModelError(f"The voice encoder is not installed (the {PACKAGE} package's {CHECKPOINT_NAME}); "
                          f"run scripts/setup.sh")


def load_checkpoint(path: Path, sha256: str = CHECKPOINT_SHA256) -> dict[str, np.ndarray]:
    """The checkpoint's `model_state` as float32 arrays by parameter name."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VoiceModelError(f"The voice encoder's weights cannot be read from {path}: {exc.strerror}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise VoiceModelError(f"The voice encoder's weights at {path} are not the expected file")
    try:
        checkpoint = _read_legacy(io.BytesIO(data))
        state = checkpoint["model_state"]
        return {name: tensor.materialise() for name, tensor in state.items() if isinstance(tensor, _Tensor)}
    except (pickle.UnpicklingError, struct.error, KeyError, TypeError, ValueError, EOFError) as exc:
        raise VoiceModelError(f"The voice encoder's weights at {path} cannot be read: {exc}") from exc


@dataclass
class _Storage:
    key: str
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        flat = self.storage.data
        if flat is None:
            raise ValueError(f"storage {self.storage.key} is missing")
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) + 1
        if self.offset < 0 or needed > len(flat):
            raise ValueError(f"a tensor reaches past its storage {self.storage.key}")
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], shape=self.shape, strides=tuple(s * _FLOAT32.itemsize for s in self.stride))
        return np.array(view, dtype=np.float32)


class _FloatStorage:
    """Stands for torch.FloatStorage in the pickle; only its identity is used."""


def _rebuild_tensor(storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...],
                    *_rest: Any) -> _Tensor:
    return _Tensor(storage, int(offset), tuple(int(n) for n in shape), tuple(int(s) for s in stride))


class _RestrictedUnpickler(pickle.Unpickler):
    _ALLOWED: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch", "FloatStorage"): _FloatStorage,
    }

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file") from None

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and pid[1] is _FloatStorage):
            raise pickle.UnpicklingError(f"unexpected storage reference {pid!r}")
        key = str(pid[2])
        return self._storages.setdefault(key, _Storage(key))


def _read_legacy(file: BinaryIO) -> Any:
    storages: dict[str, _Storage] = {}

    def load() -> Any:
        return _RestrictedUnpickler(file, storages).load()

    if load() != _LEGACY_MAGIC or load() != _LEGACY_VERSION:
        raise ValueError("not a torch checkpoint of the expected format")
    sizes = load()
    if not (isinstance(sizes, dict) and sizes.get("little_endian") is True):
        raise ValueError("not a little-endian checkpoint")
    checkpoint = load()
    keys = load()
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ValueError("the storage list is malformed")
    for key in keys:
        (count,) = struct.unpack("<q", file.read(8))
        raw = file.read(count * _FLOAT32.itemsize)
        if count < 0 or len(raw) != count * _FLOAT32.itemsize:
            raise ValueError(f"storage {key} is cut short")
        storages.setdefault(key, _Storage(key)).data = np.frombuffer(raw, dtype=_FLOAT32)
    if not isinstance(checkpoint, dict):
        raise ValueError("the checkpoint is not a dictionary")
    return checkpoint
