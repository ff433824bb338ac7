// Meeting simulator engine, shared by the four imitation web clients (after page.js and
// media.js).
//
// A page asks the server for its scenario (POST /__sim/session), then plays it: lobby,
// admission or denial, participants joining and leaving, speech, removal, the end of the
// meeting. Remote speech travels over real WebRTC inside the page (media.js) and plays from
// <audio> elements, as real clients do. Everything the bot does that a test cares about is
// reported back (POST /__sim/events): what the browser says it is, the microphone it was
// given and what it sent, desktop-app launches, joining, leaving. Tests steer a live page
// through commands (GET /__sim/commands).
//
// Each platform page supplies a "skin": the DOM it shows for each moment (see README.md).
(function () {
  'use strict';

  const POLL_MS = 400;
  const APP_LAUNCH_WATCH_MS = 3000;

  function post(path, body) {
    return fetch(path, {
      method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  class SimMeeting {
    constructor(config, skin) {
      this.config = config;
      this.skin = skin;
      this.phase = 'prejoin'; // prejoin -> lobby -> meeting -> over
      this.people = new Map(); // remote participants in the meeting now, by id
      this.self = null;
      this.timers = [];
      this.audio = null;
      this.speaking = new Map();
      this.startedAt = 0;
      this.media = new window.SimMedia.LocalMedia((type, data) => this.report(type, data));
    }

    static async open(skin) {
      const href = window.top.location.href;
      let config;
      try {
        const response = await post('/__sim/session', { href });
        config = await response.json();
        if (!response.ok) throw new Error(config.error || ('HTTP ' + response.status));
      } catch (err) {
        skin.showFatal(String(err.message || err));
        throw err;
      }
      const sim = new SimMeeting(config, skin);
      sim.report('page_opened', { href, scenario: config.scenario, load_index: config.visit.load_index });
      sim.report('browser_identity', {
        user_agent: navigator.userAgent,
        webdriver: navigator.webdriver === true,
        language: navigator.language,
        languages: Array.from(navigator.languages || []),
        framed: window !== window.top,
      });
      sim.poller = setInterval(() => sim.pollCommands(), POLL_MS);
      if (config.hostile) sim.loadHostile();
      return sim;
    }

    get options() { return this.config.options || {}; }
    get links() { return this.config.links || {}; }

    // The page hands the meeting to the platform's desktop app, as the real launcher and
    // landing pages do (docs/PLATFORMS.md, "Desktop-app links must never leave the page"):
    // by moving itself to the app's link, or (option desktop_app_launch "frame") a hidden frame.
    // The attempt is reported; so is any sign that it left the page (the window losing
    // focus or visibility, or the page being unloaded), which a bot must never allow.
    launchDesktopApp(url, where) {
      this.report('app_launch_attempted', { url, where });
      let seen = false;
      let unloading = false;   // the page's own navigation, not the app
      const observed = (how) => {
        if (seen || unloading) return;
        seen = true;
        this.report('app_launch_observed', { url, where, how });
      };
      const onUnload = () => { unloading = true; };
      const onBlur = () => observed('blur');
      const onHidden = () => { if (document.hidden) observed('hidden'); };
      const onLeave = () => observed('pagehide');
      window.addEventListener('beforeunload', onUnload);
      window.addEventListener('blur', onBlur);
      document.addEventListener('visibilitychange', onHidden);
      window.addEventListener('pagehide', onLeave);
      setTimeout(() => {
        window.removeEventListener('beforeunload', onUnload);
        window.removeEventListener('blur', onBlur);
        document.removeEventListener('visibilitychange', onHidden);
        window.removeEventListener('pagehide', onLeave);
      }, APP_LAUNCH_WATCH_MS);
      try {
        if (this.options.desktop_app_launch === 'frame') {
          document.body.append(Object.assign(document.createElement('iframe'), { src: url, hidden: true }));
        } else {
          window.location.href = url;
        }
      } catch (err) { /* a browser that refuses the scheme may throw */ }
    }

    report(type, data) {
      post('/__sim/events', { page_id: this.config.page_id, type, data: data || {} }).catch(() => {});
    }

    async pollCommands() {
      try {
        const response = await fetch('/__sim/commands?page=' + encodeURIComponent(this.config.page_id));
        if (!response.ok) return;
        const { commands } = await response.json();
        commands.forEach((c) => this.command(c));
      } catch (err) { /* the server is gone: nothing to steer this page any more */ }
    }

    command(name) {
      const inLobby = this.phase === 'lobby';
      const inMeeting = this.phase === 'meeting';
      if (name === 'admit' && inLobby) this.admit();
      else if (name === 'deny' && inLobby) this.deny();
      else if (name === 'remove_bot' && inMeeting) this.finish('removed', () => this.skin.showRemoved());
      else if (name === 'end_meeting' && (inMeeting || inLobby)) this.finish('meeting_ended', () => this.skin.showEnded());
      else if (name === 'everyone_leaves' && inMeeting) this.everyoneLeaves();
    }

    // Before the page shows any form: sign-in walls and broken links.
    redirectToSignIn() {
      this.report('sign_in_redirect', { to: this.config.sign_in_url });
      this.phase = 'over';
      window.top.location.href = this.config.sign_in_url;
    }

    block() {
      this.phase = 'over';
      this.skin.showBlocked();
      this.report('blocked');
    }

    // The skin's join button, with what the pre-join form says.
    requestJoin(name, micOn, cameraOn) {
      if (this.phase !== 'prejoin') return;
      this.self = { name, micOn, cameraOn };
      this.report('join_requested', { name, mic_on: micOn, camera_on: cameraOn });
      if (this.config.access === 'blocked') { this.block(); return; }
      const lobby = this.config.lobby;
      if (this.skipsLobby()) { this.admit(); return; }
      this.phase = 'lobby';
      this.skin.showLobby();
      this.report('lobby_entered');
      if (lobby.outcome === 'admitted') this.later(lobby.wait_s, () => this.admit());
      else if (lobby.outcome === 'denied') this.later(lobby.wait_s, () => this.deny());
    }

    skipsLobby() {
      return this.config.lobby.outcome === 'admitted' && this.config.lobby.wait_s === 0;
    }

    admit() {
      if (this.phase !== 'lobby' && this.phase !== 'prejoin') return;
      this.clearTimers();
      this.phase = 'meeting';
      this.startedAt = performance.now();
      this.skin.showMeeting();
      this.report('admitted', { name: this.self.name });
      for (const p of this.config.participants) {
        if (p.joins_at === 0) this.people.set(p.id, p);
        else this.at(p.joins_at, () => this.addPerson(p));
        if (p.leaves_at !== null) this.at(p.leaves_at, () => this.removePerson(p.id));
      }
      this.renderRoster();
      this.config.participants.filter((p) => p.joins_at === 0)
        .forEach((p) => this.report('participant_joined', { id: p.id, name: p.name }));
      this.scheduleSpeech(0);
      const c = this.config;
      if (c.meeting_ends_at !== null) this.at(c.meeting_ends_at, () => this.finish('meeting_ended', () => this.skin.showEnded()));
      if (c.bot_removed_at !== null) this.at(c.bot_removed_at, () => this.finish('removed', () => this.skin.showRemoved()));
      if (c.network_cut) {
        this.at(c.network_cut.at, () => this.setConnected(false));
        this.at(c.network_cut.at + c.network_cut.seconds, () => this.setConnected(true));
      }
      if (c.hostile) this.at(c.hostile.at, () => this.turnHostile());
      if (this.skin.audioOnAdmit()) this.startAudio();
    }

    // A scenario's hostile page (README "Hostile pages"): its script is fetched with the page
    // and turns on the bot once it is in the meeting, while the meeting itself goes on.
    loadHostile() {
      this.hostile = new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/__sim/static/hostile/hostile.js';
        script.onload = () => resolve(window.SimHostile);
        script.onerror = () => reject(new Error('the hostile page script did not load'));
        document.head.appendChild(script);
      });
      this.hostile.catch((err) => this.report('hostile_error', { message: String(err) }));
    }

    turnHostile() {
      if (this.phase === 'meeting') this.hostile.then((hostile) => hostile.start(this)).catch(() => {});
    }

    // The platform's own banner while the connection is gone; the bot reads its text.
    setConnected(connected) {
      if (this.phase !== 'meeting') return;
      this.offline = !connected;
      if (this.audio) this.audio.setConnected(connected);
      let banner = document.getElementById('sim-network-banner');
      if (!connected && !banner) {
        banner = document.createElement('div');
        banner.id = 'sim-network-banner';
        banner.setAttribute('role', 'alert');
        banner.className = 'sim-network-banner';
        banner.textContent = this.skin.reconnectingText || 'Reconnecting…';
        document.body.appendChild(banner);
      } else if (connected && banner) {
        banner.remove();
      }
      this.report(connected ? 'network_restored' : 'network_cut');
    }

    deny() {
      if (this.phase !== 'lobby') return;
      this.finish('denied', () => this.skin.showDenied());
    }

    // The skin's leave button (in the lobby or the meeting).
    leave() {
      if (this.phase !== 'lobby' && this.phase !== 'meeting') return;
      const phase = this.phase;
      this.finish('bot_left', () => this.skin.showLeft(), { via: 'leave_button', phase });
    }

    finish(type, show, data) {
      if (this.phase === 'over') return;
      this.phase = 'over';
      this.clearTimers();
      clearInterval(this.poller);
      if (this.audio) this.audio.stop();
      this.speaking.clear();
      show();
      this.report(type, data);
    }

    // The skin's in-meeting mic and camera buttons.
    mediaChanged(micOn, cameraOn) {
      this.self.micOn = micOn;
      this.self.cameraOn = cameraOn;
      this.report('media_changed', { mic_on: micOn, camera_on: cameraOn });
      this.renderRoster();
    }

    async startAudio() {
      if (this.audio || this.phase !== 'meeting') return;
      const spec = this.skin.audio || { tracks: [{}], spread: 'all' };
      this.audio = new window.SimMedia.SpeechAudio(spec, (track, stream, index, trackSpec) => {
        if (trackSpec.attach !== false) this.attachRemoteAudio(stream, index);
        this.report('remote_track', { index, stream_id: stream.id });
      });
      try {
        await this.audio.start(this.config.speech.map((line) => line.url));
        this.report('audio_connected', { tracks: spec.tracks.length });
      } catch (err) {
        this.report('audio_error', { message: String(err) });
      }
    }

    attachRemoteAudio(stream, index) {
      const holder = document.getElementById('remote-audio') || document.body;
      const el = document.createElement('audio');
      el.autoplay = true;
      el.dataset.channel = String(index);
      el.srcObject = stream;
      holder.appendChild(el);
      el.play().catch(() => {});
    }

    scheduleSpeech(cycle) {
      const period = this.config.speech_repeat_every_s;
      const offset = period ? cycle * period : 0;
      for (const line of this.config.speech) this.at(offset + line.at, () => this.say(line));
      if (period && this.config.speech.length) this.at(offset + period, () => this.scheduleSpeech(cycle + 1));
    }

    async say(line) {
      const person = this.people.get(line.who);
      if (this.phase !== 'meeting' || !person) return;
      const start = () => {
        this.setSpeaking(line.who, +1);
        this.report('speech_started', { who: line.who, name: person.name, text: line.text });
      };
      try {
        if (this.audio) {
          await this.audio.play(line.url, start);
        } else {
          // No audio joined (Zoom without "Allow"): the tile still lights up for as long.
          start();
          await new Promise((resolve) => setTimeout(resolve, line.duration_s * 1000));
        }
      } catch (err) {
        this.report('audio_error', { message: String(err) });
        return;
      }
      if (this.phase !== 'meeting') return;
      this.setSpeaking(line.who, -1);
      this.report('speech_ended', { who: line.who, name: person.name });
    }

    setSpeaking(id, delta) {
      const before = this.speaking.get(id) || 0;
      const now = Math.max(0, before + delta);
      this.speaking.set(id, now);
      if ((before > 0) !== (now > 0) && this.people.has(id)) this.skin.setSpeaking(id, now > 0);
    }

    addPerson(p) {
      this.people.set(p.id, p);
      this.renderRoster();
      this.report('participant_joined', { id: p.id, name: p.name });
    }

    removePerson(id) {
      const p = this.people.get(id);
      if (!p || this.phase !== 'meeting') return;
      if ((this.speaking.get(id) || 0) > 0) this.skin.setSpeaking(id, false);
      this.speaking.delete(id);
      this.people.delete(id);
      this.renderRoster();
      this.report('participant_left', { id, name: p.name });
    }

    everyoneLeaves() {
      [...this.people.keys()].forEach((id) => this.removePerson(id));
      this.report('everyone_left');
    }

    // Everyone in the call, the bot first, for tiles and the participant list.
    roster() {
      const me = { id: 'self', name: this.self.name, isSelf: true, micOn: this.self.micOn };
      const others = [...this.people.values()].map((p) => ({ id: p.id, name: p.name, isSelf: false, micOn: true }));
      return [me, ...others];
    }

    renderRoster() {
      if (this.phase === 'meeting') this.skin.renderRoster(this.roster());
    }

    isSpeaking(id) { return (this.speaking.get(id) || 0) > 0; }

    later(seconds, fn) { this.timers.push(setTimeout(fn, seconds * 1000)); }

    // Seconds after admission.
    at(seconds, fn) {
      const wait = this.startedAt + seconds * 1000 - performance.now();
      this.timers.push(setTimeout(fn, Math.max(0, wait)));
    }

    clearTimers() {
      this.timers.forEach(clearTimeout);
      this.timers = [];
    }
  }

  window.SimMeeting = SimMeeting;
})();
