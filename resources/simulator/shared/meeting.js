// Meeting simulator engine, shared by the four imitation web clients.
//
// A page asks the server for its scenario (POST /__sim/session), then plays it: lobby,
// admission or denial, participants joining and leaving, speech, removal, the end of the
// meeting. Remote speech travels over real WebRTC inside the page (a sending and a receiving
// RTCPeerConnection on this page), and the received track plays from an <audio> element, as
// real clients do. Everything the bot does that a test cares about is reported back
// (POST /__sim/events); tests steer a live page through commands (GET /__sim/commands).
//
// Each platform page supplies a "skin": the DOM it shows for each moment (see README.md).
(function () {
  'use strict';

  const POLL_MS = 400;

  function post(path, body) {
    return fetch(path, {
      method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  // Remote speech over WebRTC. Peer connections are made with the page's RTCPeerConnection
  // as it is when the call starts (never a reference kept from before the page's scripts).
  class SpeechAudio {
    constructor(channels, onTrack) {
      this.channels = channels;
      this.onTrack = onTrack;
      this.buffers = new Map();
      this.nextChannel = 0;
      this.sources = new Set();
    }

    async start(urls) {
      this.ctx = new AudioContext();
      this.ctx.resume().catch(() => {});
      this.outputs = [];
      for (let i = 0; i < this.channels; i++) this.outputs.push(this.ctx.createMediaStreamDestination());
      const PeerConnection = window.RTCPeerConnection;
      this.sender = new PeerConnection({ iceServers: [] });
      this.receiver = new PeerConnection({ iceServers: [] });
      this.sender.onicecandidate = (e) => { if (e.candidate) this.receiver.addIceCandidate(e.candidate).catch(() => {}); };
      this.receiver.onicecandidate = (e) => { if (e.candidate) this.sender.addIceCandidate(e.candidate).catch(() => {}); };
      let index = 0;
      this.receiver.addEventListener('track', (e) => {
        this.onTrack(e.track, e.streams[0] || new MediaStream([e.track]), index++);
      });
      for (const out of this.outputs) {
        this.sender.addTransceiver(out.stream.getAudioTracks()[0], { direction: 'sendonly', streams: [out.stream] });
      }
      const offer = await this.sender.createOffer();
      await this.sender.setLocalDescription(offer);
      await this.receiver.setRemoteDescription(offer);
      const answer = await this.receiver.createAnswer();
      await this.receiver.setLocalDescription(answer);
      await this.sender.setRemoteDescription(answer);
      urls.forEach((url) => this.load(url).catch(() => {}));
    }

    load(url) {
      if (!this.buffers.has(url)) {
        this.buffers.set(url, fetch(url)
          .then((r) => { if (!r.ok) throw new Error('speech ' + url + ': HTTP ' + r.status); return r.arrayBuffer(); })
          .then((data) => this.ctx.decodeAudioData(data)));
      }
      return this.buffers.get(url);
    }

    // Plays one utterance; resolves when it has been heard to the end.
    async play(url, onStart) {
      const buffer = await this.load(url);
      if (!this.ctx || this.ctx.state === 'closed') return;
      const source = this.ctx.createBufferSource();
      source.buffer = buffer;
      // Meet-like clients spread speakers over several tracks in turn: a track is not a person.
      source.connect(this.outputs[this.nextChannel++ % this.outputs.length]);
      this.sources.add(source);
      await new Promise((resolve) => {
        source.onended = resolve;
        source.start();
        onStart();
      });
      this.sources.delete(source);
    }

    // A dropped connection: the tracks stay, but only silence comes through them.
    setConnected(connected) {
      if (!this.sender) return;
      this.sender.getSenders().forEach((sender) => { if (sender.track) sender.track.enabled = connected; });
    }

    stop() {
      this.sources.forEach((s) => { try { s.stop(); } catch (err) { /* already stopped */ } });
      for (const pc of [this.sender, this.receiver]) if (pc) pc.close();
      if (this.ctx && this.ctx.state !== 'closed') this.ctx.close().catch(() => {});
    }
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
      sim.report('page_opened', { href, scenario: config.scenario });
      sim.poller = setInterval(() => sim.pollCommands(), POLL_MS);
      return sim;
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
      if (this.skin.audioOnAdmit()) this.startAudio();
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
      const channels = this.skin.audioChannels || 1;
      this.audio = new SpeechAudio(channels, (track, stream, index) => {
        this.attachRemoteAudio(stream, index);
        this.report('remote_track', { index });
      });
      try {
        await this.audio.start(this.config.speech.map((line) => line.url));
        this.report('audio_connected', { channels });
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

  // Small DOM helpers the skins share.
  const dom = {
    $(sel, root) { return (root || document).querySelector(sel); },
    el(tag, attrs, ...children) {
      const node = document.createElement(tag);
      for (const [key, value] of Object.entries(attrs || {})) {
        if (value === null || value === undefined || value === false) continue;
        if (key === 'text') node.textContent = value;
        else if (key === 'className') node.className = value;
        else node.setAttribute(key, value === true ? '' : String(value));
      }
      children.flat().forEach((child) => { if (child) node.append(child); });
      return node;
    },
    // Shows one <section class="screen"> and hides the others.
    screen(id) {
      document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== id; });
    },
    initials(name) {
      return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
    },
    // A join button that is enabled only while every field has what it needs, as on the real
    // clients (which listen to input events, not to programmatic value changes alone).
    gate(button, checks) {
      const update = () => { button.disabled = !checks.every((check) => check()); };
      document.addEventListener('input', update, true);
      update();
      return update;
    },
    // A two-state button whose aria-label says the action it offers (Meet style).
    flipLabel(button, on, labels) {
      button.setAttribute('aria-label', on ? labels[0] : labels[1]);
      button.dataset.isMuted = String(!on);
      button.classList.toggle('off', !on);
    },
    hueOf(name) {
      let h = 0;
      for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
      return h;
    },
  };

  window.SimMeeting = SimMeeting;
  window.simDom = dom;
})();
