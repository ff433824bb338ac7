#!/usr/bin/env bash
# Starts or stops the headless services the tests and the headless demo use:
# an Xvfb display and a PulseAudio daemon with a null sink (so device capture has something
# to record even where no sound card exists). State lives in $MB_SERVICES_DIR.
#   eval "$(scripts/services.sh start)"   -> exports DISPLAY and PULSE_SERVER
#   scripts/services.sh stop
set -euo pipefail
STATE=${MB_SERVICES_DIR:-/tmp/meeting-buddy-services-$(id -u)}
mkdir -p "$STATE"

start() {
  local display=""
  if [ -z "${DISPLAY:-}" ] || ! xdpyinfo >/dev/null 2>&1; then
    for n in $(seq 90 130); do
      if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
    done
    [ -n "$display" ] || { echo "services: no free X display" >&2; exit 1; }
    Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp >"$STATE/xvfb.log" 2>&1 &
    echo $! >"$STATE/xvfb.pid"
    for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
    echo "export DISPLAY=$display"
  fi
  local runtime="$STATE/pulse"
  mkdir -p "$runtime"
  chmod 700 "$runtime"
  local server="unix:$runtime/native"
  if ! PULSE_SERVER="$server" pactl info >/dev/null 2>&1; then
    # Root has no session bus or user runtime dir here: run the daemon with its own socket.
    XDG_RUNTIME_DIR="$runtime" HOME="$STATE" pulseaudio --daemonize=yes --exit-idle-time=-1 \
      --disallow-exit --use-pid-file=yes -n \
      --load="module-native-protocol-unix auth-anonymous=1 socket=$runtime/native" \
      --load="module-null-sink sink_name=mb_sink sink_properties=device.description=MeetingBuddySink" \
      --load="module-always-sink" \
      --log-target="file:$STATE/pulse.log" >/dev/null 2>&1 || true
    for _ in $(seq 50); do PULSE_SERVER="$server" pactl info >/dev/null 2>&1 && break; sleep 0.1; done
    PULSE_SERVER="$server" pactl info >/dev/null 2>&1 || { echo "services: PulseAudio did not start (see $STATE/pulse.log)" >&2; exit 1; }
    PULSE_SERVER="$server" pactl set-default-sink mb_sink
    PULSE_SERVER="$server" pactl set-default-source mb_sink.monitor
  fi
  echo "export PULSE_SERVER=$server"
}

stop() {
  local runtime="$STATE/pulse"
  PULSE_SERVER="unix:$runtime/native" pactl exit >/dev/null 2>&1 || true
  if [ -f "$STATE/xvfb.pid" ]; then
    kill "$(cat "$STATE/xvfb.pid")" 2>/dev/null || true
    rm -f "$STATE/xvfb.pid"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
