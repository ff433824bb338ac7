// Meeting Buddy audio tap: runs in the page's main world of every frame, before the page's
// own scripts. It mixes every remote audio track the page receives (WebRTC `track` events,
// MediaStreams attached to media elements, and captureStream() of media elements that play
// a URL) into one mono AudioContext at config.sampleRate, and hands 16-bit PCM chunks to
// the bridge script as strings (only strings cross from the main world to the isolated one).
//
// Chunk wire format (CustomEvent detail): "i16:<rate>:<page_time>:<base64 little-endian int16>"
// where page_time is the Unix time in seconds of the chunk's first sample ("" if unknown).
// Log wire format: "<level>:<message>".
(function (config) {
  'use strict';
  const RATE = config.sampleRate;
  const CHUNK = config.chunkSamples;
  const isTop = window === window.top;

  // Events go to the top document, where the bridge lives; a cross-origin frame posts them.
  function emit(type, detail) {
    if (isTop) {
      document.dispatchEvent(new CustomEvent(type, { detail }));
      return;
    }
    try {
      const top = window.top;
      top.document.dispatchEvent(new top.CustomEvent(type, { detail }));
    } catch (err) {
      window.top.postMessage(config.messagePrefix + type + '|' + detail, '*');
    }
  }
  const log = (level, message) => emit(config.logEvent, level + ':' + message);

  let ctx = null;
  let mixer = null;
  const tappedTracks = new Set();
  const capturedElements = new WeakSet();

  function toBase64(int16) {
    const bytes = new Uint8Array(int16.buffer, int16.byteOffset, int16.byteLength);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  // Context time -> Unix seconds, through the context's own output timestamp.
  function pageTime(contextTime) {
    const stamp = ctx.getOutputTimestamp();
    if (!stamp || !stamp.performanceTime) return '';
    const ms = performance.timeOrigin + stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
    return (ms / 1000).toFixed(3);
  }

  function sendChunk(samples, contextTime) {
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
    emit(config.audioEvent, 'i16:' + RATE + ':' + pageTime(contextTime) + ':' + toBase64(pcm));
  }

  const WORKLET_SOURCE = `
    class MeetingBuddyTap extends AudioWorkletProcessor {
      constructor() { super(); this.buf = new Float32Array(${CHUNK}); this.n = 0; this.t0 = 0; }
      process(inputs) {
        const input = inputs[0];
        const frames = input.length ? input[0].length : 128;
        if (this.n === 0) this.t0 = currentTime;
        for (let i = 0; i < frames; i++) {
          this.buf[this.n++] = input.length ? input[0][i] : 0;
          if (this.n === this.buf.length) {
            this.port.postMessage({ t0: this.t0, pcm: this.buf }, [this.buf.buffer]);
            this.buf = new Float32Array(${CHUNK});
            this.n = 0;
            this.t0 = currentTime + (i + 1) / sampleRate;
          }
        }
        return true;
      }
    }
    registerProcessor('${config.processorName}', MeetingBuddyTap);`;

  async function workletNode() {
    const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'application/javascript' }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const node = new AudioWorkletNode(ctx, config.processorName, {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      channelCount: 1, channelCountMode: 'explicit', channelInterpretation: 'speakers',
    });
    node.port.onmessage = (e) => sendChunk(e.data.pcm, e.data.t0);
    return node;
  }

  // Used where the page's Content-Security-Policy refuses the worklet module.
  function scriptProcessorNode() {
    const node = ctx.createScriptProcessor(4096, 1, 1);
    node.channelCountMode = 'explicit';
    node.channelInterpretation = 'speakers';
    node.onaudioprocess = (e) => {
      const data = e.inputBuffer.getChannelData(0);
      sendChunk(Float32Array.from(data), e.playbackTime - data.length / RATE);
    };
    return node;
  }

  function graph() {
    if (mixer) return mixer;
    ctx = new AudioContext({ sampleRate: RATE });
    mixer = ctx.createGain();
    // The tap must be pulled by the destination but must never be heard.
    const silent = ctx.createGain();
    silent.gain.value = 0;
    silent.connect(ctx.destination);
    workletNode()
      .then((node) => { log('info', 'audio tap running (AudioWorklet, ' + RATE + ' Hz)'); return node; })
      .catch((err) => {
        log('warning', 'AudioWorklet unavailable (' + err + '); using ScriptProcessor');
        return scriptProcessorNode();
      })
      .then((node) => { mixer.connect(node); node.connect(silent); })
      .catch((err) => log('error', 'audio tap failed: ' + err));
    const resume = () => { if (ctx.state !== 'running') ctx.resume().catch(() => {}); };
    ctx.onstatechange = resume;
    resume();
    return mixer;
  }

  function tapTrack(track, origin) {
    if (!track || track.kind !== 'audio' || tappedTracks.has(track.id) || track.readyState === 'ended') return;
    tappedTracks.add(track.id);
    try {
      const source = graph().context.createMediaStreamSource(new MediaStream([track]));
      source.connect(mixer);
      log('info', 'tapped audio track from ' + origin);
      track.addEventListener('ended', () => { source.disconnect(); tappedTracks.delete(track.id); });
    } catch (err) {
      tappedTracks.delete(track.id);
      log('error', 'cannot tap audio track from ' + origin + ': ' + err);
    }
  }

  const NativePeerConnection = window.RTCPeerConnection;
  if (NativePeerConnection) {
    class TappedPeerConnection extends NativePeerConnection {
      constructor(...args) {
        super(...args);
        this.addEventListener('track', (e) => tapTrack(e.track, 'WebRTC'));
      }
    }
    window.RTCPeerConnection = TappedPeerConnection;
    if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = TappedPeerConnection;
  }

  // Media elements: a MediaStream source is tapped track by track (the same tracks a peer
  // connection delivered are skipped); a URL source is captured as a stream.
  function tapElement(el) {
    if (!(el instanceof HTMLMediaElement)) return;
    const stream = el.srcObject;
    if (stream instanceof MediaStream) {
      stream.getAudioTracks().forEach((t) => tapTrack(t, 'media element stream'));
      return;
    }
    if (!el.currentSrc || capturedElements.has(el) || typeof el.captureStream !== 'function') return;
    capturedElements.add(el);
    try {
      const captured = el.captureStream();
      const tapAll = () => captured.getAudioTracks().forEach((t) => tapTrack(t, 'media element capture'));
      captured.addEventListener('addtrack', tapAll);
      tapAll();
    } catch (err) {
      log('warning', 'cannot capture media element: ' + err);
    }
  }
  document.addEventListener('play', (e) => tapElement(e.target), true);
  document.addEventListener('playing', (e) => tapElement(e.target), true);
})
