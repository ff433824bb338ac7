"""The built-in meeting simulator: a local HTTPS server with imitation Teams, Zoom, Google
Meet and Webex web clients, playing data-driven scenarios (resources/simulator/)."""
from recorder.simulator.control import COMMANDS, PageSession, SimEvent, SimulatorControl
from recorder.simulator.scenario import Scenario, ScenarioError, builtin_scenario_names, load_scenario
from recorder.simulator.server import MeetingSimulator, SimulatorNotRunning
from recorder.simulator.speech import SpeechError

__all__ = [
    "COMMANDS", "MeetingSimulator", "PageSession", "Scenario", "ScenarioError", "SimEvent",
    "SimulatorControl", "SimulatorNotRunning", "SpeechError", "builtin_scenario_names", "load_scenario",
]
