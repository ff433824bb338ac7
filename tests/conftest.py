"""Shared fixtures: every test gets its own data folder, config folder and model cache."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("MEETING_BUDDY_DATA_DIR", str(data))
    monkeypatch.setenv("MEETING_BUDDY_CONFIG_DIR", str(tmp_path / "config"))
    # Assembled models are reused across tests (assembling costs time, not correctness).
    monkeypatch.setenv("MEETING_BUDDY_MODEL_CACHE",
                       os.environ.get("MEETING_BUDDY_MODEL_CACHE", str(REPO / ".cache" / "models")))
    return data


@pytest.fixture
def empty_model_cache(tmp_path, monkeypatch) -> Path:
    """A model cache and an empty, offline Hugging Face cache of this test's own."""
    import huggingface_hub.constants

    folder = tmp_path / "models"
    monkeypatch.setenv("MEETING_BUDDY_MODEL_CACHE", str(folder))
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return folder


@pytest.fixture
def store(isolated_dirs):
    from app.store import Store

    s = Store(isolated_dirs)
    yield s
    s.close()


def pytest_configure(config):
    from app.qt_workarounds import keep_singletons_alive

    keep_singletons_alive()
