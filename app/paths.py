"""Where Meeting Buddy keeps its files, and the one check every id-derived path passes."""
from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from app.errors import StorageError, ValidationError

APP_NAME = "meeting-buddy"
DATA_DIR_ENV = "MEETING_BUDDY_DATA_DIR"
CONFIG_DIR_ENV = "MEETING_BUDDY_CONFIG_DIR"

# Ids become folder names: allow only what the id generators produce (and what a remote
# Meeting Buddy API plausibly sends), never separators or dots.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def data_root() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    root = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    return root.resolve()


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    if os.environ.get(DATA_DIR_ENV):
        # A data root chosen for a test or demo run keeps its settings beside it.
        return data_root() / "config"
    return Path(platformdirs.user_config_dir(APP_NAME)).resolve()


def validate_id(value: str, *, field: str = "session_id") -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ValidationError(f"{field} is not a valid identifier", field=field)
    return value


def inside_root(root: Path, relative: str | Path) -> Path:
    """Resolve `relative` under `root`, refusing anything that would land outside it."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise StorageError(f"Refusing a path outside the data folder: {relative}")
    return candidate


def recording_relpath(organization_id: str, session_id: str) -> str:
    validate_id(organization_id, field="organization_id")
    validate_id(session_id)
    return f"recordings/{organization_id}/{session_id}"


def recording_dir(root: Path, organization_id: str, session_id: str) -> Path:
    return inside_root(root, recording_relpath(organization_id, session_id))
