"""Process-wide QtWebEngine set-up; must run before the QApplication is created."""
from __future__ import annotations

import logging
import os
import re

from PySide6.QtCore import QCoreApplication, Qt

_log = logging.getLogger(__name__)

_FLAGS = "QTWEBENGINE_CHROMIUM_FLAGS"
_RULES_FLAG = re.compile(r'--host-resolver-rules=("[^"]*"|\S+)')


def prepare_qtwebengine_environment(host_resolver_rules: str | None = None) -> None:
    """Set the environment QtWebEngine reads at start-up.

    `host_resolver_rules` (e.g. "MAP teams.microsoft.com 127.0.0.1:8443") sends meeting hosts
    to the local simulator in demo and test runs; the page keeps its real address, so the bot
    runs the same code as in production. Chromium reads the flag only from this variable,
    and only the quoted form works.
    """
    if "--log-level" not in os.environ.get(_FLAGS, ""):
        # Chromium's own ERROR lines (no D-Bus, no GPU, rejected test certificates) mean
        # nothing to a user; page console messages still reach the session log.
        os.environ[_FLAGS] = " ".join([*os.environ.get(_FLAGS, "").split(), "--log-level=3"])
    if host_resolver_rules:
        if '"' in host_resolver_rules:
            raise ValueError("host resolver rules must not contain double quotes")
        others = _RULES_FLAG.sub("", os.environ.get(_FLAGS, "")).split()
        os.environ[_FLAGS] = " ".join([*others, f'--host-resolver-rules="{host_resolver_rules}"'])
    # QtWebEngine's widgets share OpenGL contexts; Qt requires saying so before the app exists.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and os.environ.get("QTWEBENGINE_DISABLE_SANDBOX") != "1":
        # Chromium refuses to start its sandbox as root (containers, CI).
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
        _log.warning("running as root: the browser sandbox is disabled (QTWEBENGINE_DISABLE_SANDBOX=1)")
