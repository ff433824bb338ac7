"""Renders the app icon (resources/icons/app.svg) into the hicolor icon theme sizes that
desktops look up: packaging/icons/hicolor/<N>x<N>/apps/meeting-buddy.png.

    .venv/bin/python packaging/make_icons.py

Run it again whenever app.svg changes; tests/test_packaging.py checks the PNGs still match.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SOURCE_SVG = ROOT / "resources" / "icons" / "app.svg"
HICOLOR = ROOT / "packaging" / "icons" / "hicolor"
ICON_NAME = "meeting-buddy"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


class IconRenderError(RuntimeError):
    """The SVG cannot be read or a PNG cannot be written."""


def icon_path(size: int, theme_dir: Path = HICOLOR) -> Path:
    return theme_dir / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def render(size: int, svg: Path = SOURCE_SVG) -> QImage:
    """The SVG drawn on a transparent square of `size` pixels (needs a QGuiApplication)."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise IconRenderError(f"cannot read the SVG icon {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def write_icons(theme_dir: Path = HICOLOR, svg: Path = SOURCE_SVG) -> list[Path]:
    written = []
    for size in SIZES:
        target = icon_path(size, theme_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(size, svg).save(str(target), "PNG"):
            raise IconRenderError(f"cannot write {target}")
        written.append(target)
    return written


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (keeps Qt alive)
    try:
        for path in write_icons():
            print(path.relative_to(ROOT))
    except IconRenderError as exc:
        print(f"make_icons: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
