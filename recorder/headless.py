"""Headless runs: a private Xvfb display, and a PulseAudio daemon with a null sink when
device capture needs a sound server, for machines with neither (servers, CI).

`python -m recorder.headless start|stop` prints/uses the same state the test command uses.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NULL_SINK = "mb_sink"


class HeadlessError(RuntimeError):
    pass


def _display_works(display: str) -> bool:
    if shutil.which("xdpyinfo") is None:
        return Path(f"/tmp/.X11-unix/X{display.lstrip(':').split('.')[0]}").exists()
    return subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0


def _pulse_works(server: str | None) -> bool:
    env = dict(os.environ)
    if server:
        env["PULSE_SERVER"] = server
    return subprocess.run(["pactl", "info"], capture_output=True, env=env).returncode == 0


@dataclass
class HeadlessServices:
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    _xvfb: subprocess.Popen | None = None
    _pulse_started: bool = False

    def start_display(self) -> None:
        current = os.environ.get("DISPLAY")
        if current and _display_works(current):
            return
        # Started before with this state folder and still running: that display again.
        recorded = _running_display(self.state_dir)
        if recorded is not None:
            self.env["DISPLAY"] = recorded
            os.environ["DISPLAY"] = recorded
            return
        if shutil.which("Xvfb") is None:
            raise HeadlessError("No display and no Xvfb: install the 'xvfb' package")
        for n in range(90, 200):
            if _display_number_free(n):
                break
        else:
            raise HeadlessError("No free X display number")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / "xvfb.log", "wb")
        self._xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1920x1080x24",
                                       "-nolisten", "tcp"], stdout=log, stderr=log)
        (self.state_dir / "xvfb.pid").write_text(str(self._xvfb.pid))
        (self.state_dir / "xvfb.display").write_text(f":{n}")
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            if self._xvfb.poll() is not None:
                raise HeadlessError(f"Xvfb exited; see {self.state_dir / 'xvfb.log'}")
            time.sleep(0.05)
        self.env["DISPLAY"] = f":{n}"
        os.environ["DISPLAY"] = f":{n}"

    def start_pulseaudio(self, *, private: bool = False) -> None:
        """Use the running sound server, or start one; `private` always starts one of our
        own (tests rely on its null sink and must not touch the user's)."""
        if not private and _pulse_works(os.environ.get("PULSE_SERVER")):
            return
        if shutil.which("pulseaudio") is None:
            raise HeadlessError("No sound server and no PulseAudio: install 'pulseaudio'")
        runtime = self.state_dir / "pulse"
        server = f"unix:{runtime}/native"
        if (runtime / "native").exists() and _pulse_works(server):  # ours, started before
            self.env["PULSE_SERVER"] = server
            os.environ["PULSE_SERVER"] = server
            return
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(self.state_dir)}
        # As root PulseAudio warns and runs; with its own socket it needs no session bus.
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=yes", "-n",
             f"--load=module-native-protocol-unix auth-anonymous=1 socket={runtime}/native",
             f"--load=module-null-sink sink_name={NULL_SINK} "
             "sink_properties=device.description=MeetingBuddySink",
             "--load=module-always-sink", f"--log-target=file:{self.state_dir}/pulse.log"],
            env=env, capture_output=True)
        for _ in range(100):
            if _pulse_works(server):
                break
            time.sleep(0.05)
        else:
            raise HeadlessError(f"PulseAudio did not start; see {self.state_dir / 'pulse.log'}")
        pulse_env = {**os.environ, "PULSE_SERVER": server}
        subprocess.run(["pactl", "set-default-sink", NULL_SINK], env=pulse_env, capture_output=True)
        subprocess.run(["pactl", "set-default-source", f"{NULL_SINK}.monitor"], env=pulse_env,
                       capture_output=True)
        self._pulse_started = True
        self.env["PULSE_SERVER"] = server
        os.environ["PULSE_SERVER"] = server

    def stop(self) -> None:
        stop_state(self.state_dir)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _running_display(state_dir: Path) -> str | None:
    """The display of the Xvfb this state folder started, when it still runs."""
    pid = _read_pid(state_dir / "xvfb.pid")
    try:
        display = (state_dir / "xvfb.display").read_text().strip()
    except OSError:
        return None
    if pid is None or not _pid_alive(pid) or not Path(f"/tmp/.X11-unix/X{display.lstrip(':')}").exists():
        return None
    return display


def _display_number_free(n: int) -> bool:
    """No X server holds display `n`; the socket and lock of one that died are cleared."""
    socket, lock = Path(f"/tmp/.X11-unix/X{n}"), Path(f"/tmp/.X{n}-lock")
    if not socket.exists() and not lock.exists():
        return True
    pid = _read_pid(lock)
    if pid is None or _pid_alive(pid):
        return False
    try:
        socket.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def stop_state(state_dir: Path) -> None:
    # PulseAudio runs with --disallow-exit (clients may not end it), so it is stopped by pid.
    for pid_file in (state_dir / "pulse" / "pulse" / "pid", state_dir / "xvfb.pid"):
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), 15)
            except (ProcessLookupError, ValueError):
                pass
            pid_file.unlink(missing_ok=True)
    (state_dir / "xvfb.display").unlink(missing_ok=True)


def default_state_dir() -> Path:
    return Path(os.environ.get("MB_SERVICES_DIR") or f"/tmp/meeting-buddy-services-{os.getuid()}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("start", "stop"):
        print("usage: python -m recorder.headless start|stop", file=sys.stderr)
        return 2
    state = default_state_dir()
    if argv[0] == "stop":
        stop_state(state)
        return 0
    services = HeadlessServices(state)
    try:
        services.start_display()
        services.start_pulseaudio(private=True)
    except HeadlessError as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1
    for key, value in services.env.items():
        print(f"export {key}={value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
