"""What the end-to-end tests share: the meeting simulator, and the qasync loop each test's
session runs on, as in the application."""
from __future__ import annotations

import asyncio

import pytest

from recorder.simulator import MeetingSimulator, testing

SIM_PORT = testing.configure_qtwebengine()  # before any QApplication exists

import qasync


@pytest.fixture(scope="module")
def sim():
    simulator = MeetingSimulator(port=SIM_PORT).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def loop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    asyncio.set_event_loop(None)
