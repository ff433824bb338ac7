"""The meeting bot: a QtWebEngine page per session that joins Teams, Zoom, Google Meet or
Webex, follows who is there and who speaks, taps the meeting audio and leaves on its own.

    prepare_qtwebengine_environment(rules)   # before the QApplication exists
    bot = MeetingBot(BotConfig(join_url, platform), audio_sink=...)
    bot.start(); ...; bot.leave(); bot.close()
"""
from recorder.bot.bot import MeetingBot
from recorder.bot.chromium import prepare_qtwebengine_environment
from recorder.bot.config import BotConfig, LeaveTimers

__all__ = ["BotConfig", "LeaveTimers", "MeetingBot", "prepare_qtwebengine_environment"]
