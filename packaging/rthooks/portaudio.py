"""Runtime hook of the bundle: PortAudio from the system when it has one, else the copy
inside the bundle.

sounddevice finds PortAudio with ctypes.util.find_library("portaudio"), which on Linux only
asks the system's linker cache, so a bundled copy alone would never be found.
"""
import ctypes.util
import os
import sys

_system_find_library = ctypes.util.find_library


def _find_library(name):
    found = _system_find_library(name)
    if found is None and name == "portaudio":
        bundled = os.path.join(sys._MEIPASS, "libportaudio.so.2")
        if os.path.isfile(bundled):
            return bundled
    return found


ctypes.util.find_library = _find_library
