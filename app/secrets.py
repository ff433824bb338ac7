"""Secrets (API tokens) kept out of the settings file.

They live in the system keyring when a usable backend exists, otherwise in a file readable
by the owner only (0600) in the config folder. Values are never logged.
"""
from __future__ import annotations

import json
import logging
import os
import secrets as _random
import stat
from pathlib import Path

from app.errors import StorageError
from app.paths import config_dir

log = logging.getLogger(__name__)

KEYRING_SERVICE = "meeting-buddy"
SECRETS_FILE = "secrets.json"
API_TOKEN = "api_token"          # the token of this computer's REST server
REMOTE_TOKEN = "remote_token"    # the token for the remote Meeting Buddy API
OPENAI_KEY = "openai_key"        # the key of the OpenAI-compatible endpoint that makes meeting notes


def _keyring():
    """The keyring backend when it can really store secrets, else None."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:  # a broken keyring install must not stop the app
        return None
    if isinstance(backend, (fail.Keyring, null.Keyring)) or backend.priority <= 0:
        return None
    return backend


def secrets_file() -> Path:
    return config_dir() / SECRETS_FILE


def _read_file() -> dict[str, str]:
    path = secrets_file()
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Someone widened the permissions: narrow them again before trusting the file.
        log.warning("Secrets file %s was readable by others; restricted it to its owner", path)
        os.chmod(path, 0o600)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StorageError(f"The secrets file {path} cannot be read; fix or remove it") from exc
    if not isinstance(data, dict):
        raise StorageError(f"The secrets file {path} is not a JSON object; fix or remove it")
    return {str(k): str(v) for k, v in data.items()}


def _write_file(values: dict[str, str]) -> None:
    path = secrets_file()
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 from the start, so the value is never readable by others, even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(values, fh)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"Cannot write the secrets file {path}: {exc.strerror}") from exc


def get_secret(name: str) -> str | None:
    keyring = _keyring()
    if keyring is not None:
        try:
            value = keyring.get_password(KEYRING_SERVICE, name)
        except Exception as exc:
            log.warning("The keyring could not be read (%s); using the secrets file",
                        type(exc).__name__)
        else:
            if value is not None:
                return value
    return _read_file().get(name)


def set_secret(name: str, value: str) -> None:
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.set_password(KEYRING_SERVICE, name, value)
            return
        except Exception as exc:
            log.warning("The keyring could not store a secret (%s); using the secrets file",
                        type(exc).__name__)
    values = _read_file()
    values[name] = value
    _write_file(values)


def new_token() -> str:
    return _random.token_urlsafe(32)


def api_token(create: bool = True) -> str | None:
    """This computer's API token; generated and stored on first use when `create`."""
    token = get_secret(API_TOKEN)
    if token is None and create:
        token = new_token()
        set_secret(API_TOKEN, token)
    return token


def openai_key() -> str | None:
    """The key of the OpenAI-compatible notes endpoint, None when none is set."""
    return get_secret(OPENAI_KEY) or None


def set_openai_key(value: str) -> None:
    """Keep the OpenAI-compatible endpoint's key (an empty value clears it)."""
    set_secret(OPENAI_KEY, value.strip())
