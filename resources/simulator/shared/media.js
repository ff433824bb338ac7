// Media for the imitation web clients: the remote participants' speech over real in-page
// WebRTC, and the page's own microphone (what the bot would send to the meeting).
(function () {
  'use strict';

  const MIC_SAMPLE_MS = 100;
  const MIC_REPORT_MS = 1000;

  // Remote speech. A track spec is {streamId?, delayS?, attach?}: the received stream gets
  // that id (Teams names its meeting mix "mainAudio…"), the track carries the speech that
  // much later, and `attach: false` keeps it out of the page's own <audio> elements.
  // spread "all": every utterance on every track (a mix and its duplicates); "rotate": one
  // track per utterance in turn (a track is not a person).
  // Peer connections are made with the page's RTCPeerConnection as it is when the call
  // starts (never a reference kept from before the page's scripts).
  class SpeechAudio {
    constructor(spec, onTrack) {
      this.tracks = spec.tracks;
      this.spread = spec.spread || 'all';
      this.onTrack = onTrack;
      this.buffers = new Map();
      this.next = 0;
      this.sources = new Set();
    }

    async start(urls) {
      this.ctx = new AudioContext();
      this.ctx.resume().catch(() => {});
      this.outputs = this.tracks.map(() => this.ctx.createMediaStreamDestination());
      this.inputs = this.tracks.map((track, i) => {
        const delay = this.ctx.createDelay(5);
        delay.delayTime.value = track.delayS || 0;
        delay.connect(this.outputs[i]);
        return delay;
      });
      const PeerConnection = window.RTCPeerConnection;
      this.sender = new PeerConnection({ iceServers: [] });
      this.receiver = new PeerConnection({ iceServers: [] });
      this.sender.onicecandidate = (e) => { if (e.candidate) this.receiver.addIceCandidate(e.candidate).catch(() => {}); };
      this.receiver.onicecandidate = (e) => { if (e.candidate) this.sender.addIceCandidate(e.candidate).catch(() => {}); };
      let index = 0;
      this.receiver.addEventListener('track', (e) => {
        const i = index++;
        this.onTrack(e.track, e.streams[0] || new MediaStream([e.track]), i, this.tracks[i] || {});
      });
      for (const out of this.outputs) {
        this.sender.addTransceiver(out.stream.getAudioTracks()[0], { direction: 'sendonly', streams: [out.stream] });
      }
      const offer = await this.sender.createOffer();
      await this.sender.setLocalDescription(offer);
      await this.receiver.setRemoteDescription({ type: 'offer', sdp: this.renameStreams(offer.sdp) });
      const answer = await this.receiver.createAnswer();
      await this.receiver.setLocalDescription(answer);
      await this.sender.setRemoteDescription(answer);
      urls.forEach((url) => this.load(url).catch(() => {}));
    }

    // The receiving side sees the stream ids the offer announces (its msid lines).
    renameStreams(sdp) {
      this.tracks.forEach((track, i) => {
        if (track.streamId) sdp = sdp.split(this.outputs[i].stream.id).join(track.streamId);
      });
      return sdp;
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
      if (this.spread === 'rotate') source.connect(this.inputs[this.next++ % this.inputs.length]);
      else this.inputs.forEach((input) => source.connect(input));
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

  // The page's own capture devices, asked for as the real clients ask. The microphone's
  // level is measured for as long as the page lives (max RMS), so a test can tell whether
  // the bot sent anything but silence.
  class LocalMedia {
    constructor(report) {
      this.report = report;
      this.mic = null;
      this.camera = false;
    }

    async microphone() {
      if (this.mic) return true;
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        this.useMicrophone(stream);
        return true;
      } catch (err) {
        this.report('mic_permission', { granted: false, error: String(err && err.name || err) });
        return false;
      }
    }

    async cameraOnly() {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: true });
        stream.getTracks().forEach((t) => t.stop());   // the preview is not simulated
        this.camera = true;
      } catch (err) {
        this.camera = false;
      }
      this.report('camera_permission', { granted: this.camera });
      return this.camera;
    }

    // What a "Use microphone and camera" prompt asks for: the microphone, then the camera,
    // each on its own. Returns whether each was given.
    async both() {
      const mic = await this.microphone();
      const camera = await this.cameraOnly();
      return { mic, camera };
    }

    useMicrophone(stream) {
      this.mic = stream;
      this.report('mic_permission', { granted: true });
      const ctx = new AudioContext();
      ctx.resume().catch(() => {});
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      let maxRms = 0;
      let samples = 0;
      let reported = -1;
      let lastReport = 0;
      setInterval(() => {
        if (ctx.state !== 'running') return;
        analyser.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) sum += v * v;
        maxRms = Math.max(maxRms, Math.sqrt(sum / buf.length));
        samples += 1;
      }, MIC_SAMPLE_MS);
      setInterval(() => {
        const now = performance.now();
        if (maxRms === reported && now - lastReport < 5 * MIC_REPORT_MS) return;
        reported = maxRms;
        lastReport = now;
        this.report('mic_level', { max_rms: Number(maxRms.toFixed(6)), samples, running: ctx.state === 'running' });
      }, MIC_REPORT_MS);
    }
  }

  window.SimMedia = { SpeechAudio, LocalMedia };
})();
