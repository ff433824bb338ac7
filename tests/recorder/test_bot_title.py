"""The meeting's title as the call shows it: the bot reads it where the platform's pack says
(docs/PLATFORMS.md, "Meeting titles"), once admitted, once, cut and tidied like a name."""
from __future__ import annotations

import json

import pytest

from recorder.bot.chromium import prepare_qtwebengine_environment
from recorder.bot.config import BotConfig, LeaveTimers
from recorder.bot.monitor import LOBBY, MeetingMonitor
from recorder.bot.page_state import MAX_NAME_CHARS, PageState
from recorder.bot.selector_pack import SelectorPackError, load_pack, validate
from recorder.simulator import MeetingSimulator, testing
from recorder.simulator.hosts import host_resolver_rules
from recorder.simulator.scenario import ScenarioError, scenario_from_dict

# Chromium reads its flags when the first QApplication starts: the host mapping is set while
# this module is imported (recorder/simulator/testing.py).
SIM_PORT = testing.session_port()
prepare_qtwebengine_environment(host_resolver_rules(SIM_PORT))

from recorder.bot.bot import MeetingBot  # after the Chromium flags are set

BOT_NAME = "Meeting Buddy"
TITLE = "Quarterly roadmap review"


def test_the_title_is_reported_once_and_only_inside_the_call():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0)
    m.page_loaded(0.1)
    lobby = m.observe(PageState(flags={"lobby": "text=Asking"}, meeting_title=TITLE), 1.0)
    assert m.phase == LOBBY and lobby.title is None        # a lobby's header is not proof of the meeting
    assert m.observe(PageState(flags={"admitted": "css=#leave"}), 2.0).title is None   # not shown yet
    assert m.observe(PageState(flags={"admitted": "css=#leave"}, meeting_title=TITLE), 3.0).title == TITLE
    assert m.observe(PageState(flags={"admitted": "css=#leave"}, meeting_title="Renamed"), 4.0).title is None


def test_a_page_title_is_cut_and_its_whitespace_collapsed():
    state = PageState.from_json(json.dumps({"meeting_title": "  Weekly\n\n sync\t" + "x" * 1000}))
    assert state.meeting_title.startswith("Weekly sync x") and len(state.meeting_title) <= MAX_NAME_CHARS
    assert PageState.from_json(json.dumps({"meeting_title": None})).meeting_title == ""


def test_title_rules_need_a_selector_and_their_evidence():
    good = load_pack("teams").data
    source = "aws-samples/amazon-transcribe-live-meeting-assistant lma-browser-extension-stack/x.js"
    for broken, why in [({**good, "meeting_title": []}, "non-empty list"),
                        ({**good, "meeting_title": [{"attr": "title", "source": source}]}, "'css' selector"),
                        ({**good, "meeting_title": [{"css": "h1", "attr": "", "source": source}]}, "'css' selector"),
                        ({**good, "meeting_title": [{"css": "h1"}]}, "needs either a 'source'"),
                        ({**good, "meeting_title": [{"css": "h2", "unconfirmed": True},
                                                    {"css": "h1", "source": source}]}, "must come after")]:
        with pytest.raises(SelectorPackError, match=why):
            validate(broken, "test pack")


@pytest.mark.parametrize("platform", ["teams", "google_meet", "webex"])
def test_platforms_that_show_a_title_have_a_confirmed_rule(platform):
    assert all("source" in rule for rule in load_pack(platform).data["meeting_title"])


def test_zoom_has_no_title_rule():
    # No source shows where the Zoom web client puts the topic, nor that its tab title holds it.
    assert "meeting_title" not in load_pack("zoom").data


@pytest.fixture(scope="module")
def sim():
    simulator = MeetingSimulator(port=SIM_PORT).start()
    yield simulator
    simulator.stop()


def test_the_bot_reads_the_title_the_call_shows(qtbot, sim):
    scenario = scenario_from_dict({
        "title": "Quarterly\n  roadmap   review",   # the driver collapses what the page shows
        "lobby": {"wait_s": 0, "outcome": "admitted"},
        "participants": [{"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3"}],
        "meeting_ends_at": 4,
        "google_meet": {"dialog": None},
    }, name="titled")
    link = sim.example_link("google_meet", scenario=scenario)
    bot = MeetingBot(BotConfig(join_url=link, platform="google_meet", bot_name=BOT_NAME,
                               trusted_certificates=frozenset({sim.cert_fingerprint})))
    titles: list[str] = []
    finished: list[str] = []
    bot.title_found.connect(titles.append)
    bot.finished.connect(lambda outcome: finished.append(outcome.code))
    bot.start()
    try:
        qtbot.waitUntil(lambda: bool(finished), timeout=40_000)
    finally:
        bot.close()
    assert finished == ["MEETING_ENDED"]
    assert titles == [TITLE]


def test_a_scenario_title_must_be_short_text():
    for bad, why in [(5, "must be a non-empty string"), ("x" * 201, "longer than 200")]:
        with pytest.raises(ScenarioError, match=f"title: {why}"):
            scenario_from_dict({"title": bad}, name="titled")
