// Meeting Buddy audio tap: runs in the page's main world of every frame, before the page's
// own scripts. It mixes every remote audio track the page receives (WebRTC `track` events,
// MediaStreams attached to media elements, and captureStream() of media elements that play
// a URL) into one mono AudioContext at config.sampleRate, and hands 16-bit PCM chunks to
// the bridge script as strings (only strings cross from the main world to the isolated one).
//
// Chromium feeds a remote WebRTC track to Web Audio only while a media element plays its
// stream, so each tapped track also plays in a muted <audio> element of its own. Where the
// platform sends one stream that carries everyone plus duplicates of it (Teams: a stream whose
// id contains "mainAudio"), config.preferStream names it: only that stream is tapped, and the
// others only if it has not come within config.preferFallbackMs (docs/PLATFORMS.md).
//
// Chunk wire format (CustomEvent detail): "i16:<rate>:<page_time>:<base64 little-endian int16>"
// where page_time is the Unix time in seconds of the chunk's first sample ("" if unknown).
// Log wire format: "<level>:<message>".
//
// The page is untrusted and shares this world: it can replace any built-in function or
// property accessor (Function.prototype.call, btoa, Math.min, MessageEvent's `data`, Promise's
// `constructor`, Map's methods...) and so see, or change, whatever passes through one. So
// everything between the audio graph and the bridge uses only built-ins taken before any page
// script runs, called through Reflect.apply as it was then: the secret event names (per-session
// tokens), the audio context, its nodes and the worklet's port never reach page code, and the
// page cannot rewrite a chunk on its way. Messages the worklet did not send (isTrusted false)
// and media events the browser did not fire are ignored. A cross-origin frame can only post
// messages, which the page does see: each one carries a type code (never an event name), a
// sequence number and an HMAC-SHA-256 with a per-session key, computed here in plain
// JavaScript (no promise or CryptoKey the page could intercept); the bridge accepts only
// correctly signed, newer messages. Errors are logged by their standard name only: their
// message is the page's text.
(function (config) {
  'use strict';
  const RATE = config.sampleRate;
  const CHUNK = config.chunkSamples;
  const isTop = window === window.top;
  const topWindow = window.top;

  // --- built-ins, as they were before the page ran ----------------------------------------
  const apply = Reflect.apply;
  const create = Object.create;
  const describe = Object.getOwnPropertyDescriptor;
  const protoOf = Object.getPrototypeOf;
  const getterOf = (proto, name) => { const d = proto && describe(proto, name); return d ? d.get : undefined; };
  const setterOf = (proto, name) => { const d = proto && describe(proto, name); return d ? d.set : undefined; };
  const get = (fn, target) => apply(fn, target, []);
  const set = (fn, target, value) => apply(fn, target, [value]);
  const keysOf = Object.keys;
  // A record with no prototype: reading or writing it runs no accessor the page defined.
  const dict = (fields) => {
    const d = create(null);
    const keys = keysOf(fields);
    for (let i = 0; i < keys.length; i++) d[keys[i]] = fields[keys[i]];
    return d;
  };

  const nativeDispatch = EventTarget.prototype.dispatchEvent;
  const nativeListen = EventTarget.prototype.addEventListener;
  const NativeCustomEvent = window.CustomEvent;
  const nativePostMessage = window.postMessage;
  const nativeSetTimeout = window.setTimeout;
  const promiseThen = Promise.prototype.then;
  const NativeTextEncoder = window.TextEncoder;
  const nativeEncode = TextEncoder.prototype.encode;
  const NativeUint8Array = Uint8Array;
  const NativeUint32Array = Uint32Array;
  const NativeFloat32Array = Float32Array;
  const typedLength = getterOf(protoOf(Uint8Array.prototype), 'length');
  const NativeMap = Map;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const mapDelete = Map.prototype.delete;
  const mapKeys = Map.prototype.keys;
  const iteratorNext = protoOf(new Map().keys()).next;
  const NativeWeakSet = WeakSet;
  const weakHas = WeakSet.prototype.has;
  const weakAdd = WeakSet.prototype.add;
  const eventTarget = getterOf(Event.prototype, 'target');
  const messageData = getterOf(MessageEvent.prototype, 'data');
  const setOnMessage = setterOf(MessagePort.prototype, 'onmessage');
  const toFixed = Number.prototype.toFixed;
  const timeOrigin = performance.timeOrigin;
  const createElement = Document.prototype.createElement;
  const HTMLMediaElementType = window.HTMLMediaElement;
  const setMuted = setterOf(HTMLMediaElement.prototype, 'muted');
  const setAutoplay = setterOf(HTMLMediaElement.prototype, 'autoplay');
  const getSrcObject = getterOf(HTMLMediaElement.prototype, 'srcObject');
  const setSrcObject = setterOf(HTMLMediaElement.prototype, 'srcObject');
  const getCurrentSrc = getterOf(HTMLMediaElement.prototype, 'currentSrc');
  const play = HTMLMediaElement.prototype.play;
  const captureStream = HTMLMediaElement.prototype.captureStream;
  const NativeMediaStream = window.MediaStream;
  const audioTracksOf = window.MediaStream && MediaStream.prototype.getAudioTracks;
  const trackKind = window.MediaStreamTrack && getterOf(MediaStreamTrack.prototype, 'kind');
  const trackId = window.MediaStreamTrack && getterOf(MediaStreamTrack.prototype, 'id');
  const trackState = window.MediaStreamTrack && getterOf(MediaStreamTrack.prototype, 'readyState');
  const streamId = window.MediaStream && getterOf(MediaStream.prototype, 'id');
  const NativeAudioContext = window.AudioContext;
  const BaseContext = window.BaseAudioContext && BaseAudioContext.prototype;
  const createGain = BaseContext && BaseContext.createGain;
  const createSource = window.AudioContext && AudioContext.prototype.createMediaStreamSource;
  const createScriptProcessor = BaseContext && BaseContext.createScriptProcessor;
  const destinationOf = getterOf(BaseContext, 'destination');
  const workletOf = getterOf(BaseContext, 'audioWorklet');
  const stateOf = getterOf(BaseContext, 'state');
  const setOnStateChange = setterOf(BaseContext, 'onstatechange');
  const resume = window.AudioContext && AudioContext.prototype.resume;
  const outputTimestamp = window.AudioContext && AudioContext.prototype.getOutputTimestamp;
  const connect = window.AudioNode && AudioNode.prototype.connect;
  const disconnect = window.AudioNode && AudioNode.prototype.disconnect;
  const gainOf = window.GainNode && getterOf(GainNode.prototype, 'gain');
  const setValue = window.AudioParam && setterOf(AudioParam.prototype, 'value');
  const addModule = window.AudioWorklet && AudioWorklet.prototype.addModule;
  const NativeWorkletNode = window.AudioWorkletNode;
  const portOf = window.AudioWorkletNode && getterOf(AudioWorkletNode.prototype, 'port');
  const setOnAudioProcess = window.ScriptProcessorNode && setterOf(ScriptProcessorNode.prototype, 'onaudioprocess');
  const inputBufferOf = window.AudioProcessingEvent && getterOf(AudioProcessingEvent.prototype, 'inputBuffer');
  const playbackTimeOf = window.AudioProcessingEvent && getterOf(AudioProcessingEvent.prototype, 'playbackTime');
  const channelData = window.AudioBuffer && AudioBuffer.prototype.getChannelData;
  const NativeBlob = window.Blob;
  const createObjectURL = URL.createObjectURL;
  const revokeObjectURL = URL.revokeObjectURL;
  const NativePeerConnection = window.RTCPeerConnection;
  const isTrusted = (event) => event.isTrusted === true;   // an own, unforgeable attribute

  // --- text, without the page's functions --------------------------------------------------
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const HEX = '0123456789abcdef';

  function base64(bytes, n) {
    let out = '';
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += B64[(v >> 18) & 63] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
    }
    if (i < n) {
      const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
      out += B64[(v >> 18) & 63] + B64[(v >> 12) & 63] + (i + 1 < n ? B64[(v >> 6) & 63] : '=') + '=';
    }
    return out;
  }

  function hex(bytes, n) {
    let out = '';
    for (let i = 0; i < n; i++) out += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
    return out;
  }

  const ERROR_NAMES = ['AbortError', 'DataError', 'EncodingError', 'InvalidAccessError', 'InvalidStateError',
    'NetworkError', 'NotAllowedError', 'NotFoundError', 'NotSupportedError', 'OperationError',
    'QuotaExceededError', 'RangeError', 'SecurityError', 'SyntaxError', 'TypeError'];
  function errorName(err) {
    let name = '';
    try {
      name = err && err.name;
    } catch (e) { /* a getter that throws */ }
    for (let i = 0; i < ERROR_NAMES.length; i++) if (ERROR_NAMES[i] === name) return name;
    return 'an error';
  }

  // --- HMAC-SHA-256 (FIPS 180-4, RFC 2104), for the messages of cross-origin frames ----------
  const K = new NativeUint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  const W = new NativeUint32Array(64);
  const H = new NativeUint32Array(8);

  // SHA-256 of 64 bytes of `head` followed by `n` bytes of `body`.
  function sha256(head, body, n) {
    const total = 64 + n;
    const blocks = ((total + 8) >> 6) + 1;
    const data = new NativeUint8Array(blocks * 64);
    for (let i = 0; i < 64; i++) data[i] = head[i];
    for (let i = 0; i < n; i++) data[64 + i] = body[i];
    data[total] = 0x80;
    const bits = total * 8;
    const end = blocks * 64;
    data[end - 4] = (bits >>> 24) & 255;
    data[end - 3] = (bits >>> 16) & 255;
    data[end - 2] = (bits >>> 8) & 255;
    data[end - 1] = bits & 255;
    H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
    H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
    for (let block = 0; block < end; block += 64) {
      for (let t = 0; t < 16; t++) {
        const j = block + 4 * t;
        W[t] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
      }
      for (let t = 16; t < 64; t++) {
        const a = W[t - 15];
        const b = W[t - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
      let a = H[0]; let b = H[1]; let c = H[2]; let d = H[3];
      let e = H[4]; let f = H[5]; let g = H[6]; let h = H[7];
      for (let t = 0; t < 64; t++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const ch = (e & f) ^ (~e & g);
        const t1 = (h + S1 + ch + K[t] + W[t]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const maj = (a & b) ^ (a & c) ^ (b & c);
        const t2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0;
        d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    const out = new NativeUint8Array(32);
    for (let i = 0; i < 8; i++) {
      out[4 * i] = H[i] >>> 24; out[4 * i + 1] = (H[i] >>> 16) & 255;
      out[4 * i + 2] = (H[i] >>> 8) & 255; out[4 * i + 3] = H[i] & 255;
    }
    return out;
  }

  const innerKey = new NativeUint8Array(64);
  const outerKey = new NativeUint8Array(64);
  for (let i = 0; i < 64; i++) {
    const k = i < config.signingKey.length / 2 ? parseInt(config.signingKey.slice(2 * i, 2 * i + 2), 16) : 0;
    innerKey[i] = k ^ 0x36;
    outerKey[i] = k ^ 0x5c;
  }
  const encoder = new NativeTextEncoder();
  function hmacHex(text) {
    const bytes = apply(nativeEncode, encoder, [text]);
    return hex(sha256(outerKey, sha256(innerKey, bytes, get(typedLength, bytes)), 32), 32);
  }

  // --- to the bridge -----------------------------------------------------------------------
  const frameId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  let sequence = 0;
  const CODES = dict({ [config.audioEvent]: 'a', [config.logEvent]: 'l' });

  // One message: prefix + frame + "|" + seq + "|" + code + "|" + mac(hex) + "|" + detail.
  function post(type, detail) {
    const head = frameId + '|' + (++sequence) + '|' + CODES[type];
    apply(nativePostMessage, topWindow, [config.messagePrefix + head + '|' + hmacHex(head + '|' + detail) + '|' + detail, '*']);
  }

  // Events go to the top document, where the bridge lives; a cross-origin frame posts them.
  function emit(type, detail) {
    let topDocument = null;
    if (isTop) {
      topDocument = document;
    } else {
      try {
        topDocument = topWindow.document;
      } catch (err) { /* cross-origin: post */ }
    }
    if (topDocument) apply(nativeDispatch, topDocument, [new NativeCustomEvent(type, dict({ detail }))]);
    else post(type, detail);
  }
  // Each line once: what the page makes happen must not decide how long the log grows.
  const logged = new NativeMap();
  function log(level, message) {
    const line = level + ':' + message;
    if (apply(mapHas, logged, [line])) return;
    apply(mapSet, logged, [line, true]);
    emit(config.logEvent, line);
  }

  // --- the audio graph ---------------------------------------------------------------------
  let ctx = null;
  let mixer = null;
  const tappedTracks = new NativeMap();   // track id -> {source, player}
  const capturedElements = new NativeWeakSet();
  const prefer = config.preferStream || '';
  let preferredSeen = false;
  const heldBack = [];                    // [track, origin] waiting while the preferred stream may come
  if (prefer) {
    apply(nativeSetTimeout, window, [() => {
      if (preferredSeen || !heldBack.length) return;
      log('warning', 'no "' + prefer + '" stream after ' + config.preferFallbackMs / 1000 + ' s; tapping every remote track');
      const waiting = heldBack.length;
      for (let i = 0; i < waiting; i++) tapTrack(heldBack[i][0], heldBack[i][1]);
      heldBack.length = 0;
    }, config.preferFallbackMs]);
  }

  // Context time -> Unix seconds, through the context's own output timestamp.
  function pageTime(contextTime) {
    const stamp = apply(outputTimestamp, ctx, []);
    if (!stamp || !stamp.performanceTime) return '';
    const ms = timeOrigin + stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
    return apply(toFixed, ms / 1000, [3]);
  }

  // Chunks flow only while a tapped track is live: a frame that played a clip and stopped
  // sends nothing more (two frames sending at once would be two clocks in one stream).
  function anyLive() {
    const ids = apply(mapKeys, tappedTracks, []);
    for (let step = apply(iteratorNext, ids, []); !step.done; step = apply(iteratorNext, ids, [])) {
      if (get(trackState, apply(mapGet, tappedTracks, [step.value]).track) === 'live') return true;
    }
    return false;
  }

  function sendChunk(samples, contextTime) {
    if (!anyLive()) return;
    const n = get(typedLength, samples);
    const bytes = new NativeUint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const x = samples[i];
      const s = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
      const v = (s < 0 ? s * 0x8000 : s * 0x7fff) | 0;
      bytes[2 * i] = v & 255;
      bytes[2 * i + 1] = (v >> 8) & 255;
    }
    emit(config.audioEvent, 'i16:' + RATE + ':' + pageTime(contextTime) + ':' + base64(bytes, 2 * n));
  }

  // The worklet's globals are its own, and nothing reaches the context to add a module of the
  // page's to it; still, its port and postMessage are taken at once.
  const WORKLET_SOURCE = `
    const post = MessagePort.prototype.postMessage;
    const apply = Reflect.apply;
    class MeetingBuddyTap extends AudioWorkletProcessor {
      constructor() { super(); this.out = this.port; this.buf = new Float32Array(${CHUNK}); this.n = 0; this.t0 = 0; }
      process(inputs) {
        const input = inputs[0];
        const frames = input.length ? input[0].length : 128;
        if (this.n === 0) this.t0 = currentTime;
        for (let i = 0; i < frames; i++) {
          this.buf[this.n++] = input.length ? input[0][i] : 0;
          if (this.n === this.buf.length) {
            const buf = this.buf;
            apply(post, this.out, [{ t0: this.t0, pcm: buf }, [buf.buffer]]);
            this.buf = new Float32Array(${CHUNK});
            this.n = 0;
            this.t0 = currentTime + (i + 1) / sampleRate;
          }
        }
        return true;
      }
    }
    registerProcessor('${config.processorName}', MeetingBuddyTap);`;

  function onWorkletMessage(e) {
    if (!isTrusted(e)) return;
    const data = get(messageData, e);
    if (data && data.pcm instanceof NativeFloat32Array) sendChunk(data.pcm, data.t0);
  }

  async function workletNode() {
    const url = apply(createObjectURL, URL, [new NativeBlob([WORKLET_SOURCE], dict({ type: 'application/javascript' }))]);
    try {
      await apply(addModule, get(workletOf, ctx), [url]);
    } finally {
      apply(revokeObjectURL, URL, [url]);
    }
    const node = new NativeWorkletNode(ctx, config.processorName, dict({
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      channelCount: 1, channelCountMode: 'explicit', channelInterpretation: 'speakers',
    }));
    set(setOnMessage, get(portOf, node), onWorkletMessage);
    return node;
  }

  // Used where the page's Content-Security-Policy refuses the worklet module.
  function scriptProcessorNode() {
    const node = apply(createScriptProcessor, ctx, [4096, 1, 1]);
    set(setOnAudioProcess, node, (e) => {
      if (!isTrusted(e)) return;
      const data = apply(channelData, get(inputBufferOf, e), [0]);
      const n = get(typedLength, data);
      const copy = new NativeFloat32Array(n);
      for (let i = 0; i < n; i++) copy[i] = data[i];
      sendChunk(copy, get(playbackTimeOf, e) - n / RATE);
    });
    return node;
  }

  async function startTap(silent) {
    let node;
    try {
      node = await workletNode();
      log('info', 'audio tap running (AudioWorklet, ' + RATE + ' Hz)');
    } catch (err) {
      log('warning', 'AudioWorklet unavailable (' + errorName(err) + '); using ScriptProcessor');
      node = scriptProcessorNode();
    }
    apply(connect, mixer, [node]);
    apply(connect, node, [silent]);
  }

  function graph() {
    if (mixer) return;
    ctx = new NativeAudioContext(dict({ sampleRate: RATE }));
    mixer = apply(createGain, ctx, []);
    // The tap must be pulled by the destination but must never be heard.
    const silent = apply(createGain, ctx, []);
    set(setValue, get(gainOf, silent), 0);
    apply(connect, silent, [get(destinationOf, ctx)]);
    apply(promiseThen, startTap(silent), [undefined, () => log('error', 'audio tap failed')]);
    const wake = () => { if (get(stateOf, ctx) !== 'running') apply(resume, ctx, []).catch(() => {}); };
    set(setOnStateChange, ctx, wake);
    wake();
  }

  // A muted element playing the track keeps Chromium delivering it to Web Audio.
  function player(stream) {
    const element = apply(createElement, document, ['audio']);
    set(setMuted, element, true);
    set(setAutoplay, element, true);
    set(setSrcObject, element, stream);
    apply(play, element, []).catch(() => {});
    return element;
  }

  function untap(id) {
    const tapped = apply(mapGet, tappedTracks, [id]);
    if (!tapped) return;
    apply(disconnect, tapped.source, []);
    set(setSrcObject, tapped.player, null);
    apply(mapDelete, tappedTracks, [id]);
  }

  function untapAll() {
    const ids = [];
    const keys = apply(mapKeys, tappedTracks, []);
    for (let step = apply(iteratorNext, keys, []); !step.done; step = apply(iteratorNext, keys, [])) ids[ids.length] = step.value;
    for (let i = 0; i < ids.length; i++) untap(ids[i]);
  }

  const kindOf = (track) => { try { return get(trackKind, track); } catch (err) { return ''; } };

  // `streams`: the MediaStreams a WebRTC track arrived in (their ids name it on some platforms).
  function offer(track, origin, streams) {
    if (!track || kindOf(track) !== 'audio') return;
    if (!prefer) { tapTrack(track, origin); return; }
    let preferred = false;
    for (let i = 0; streams && i < streams.length; i++) {
      try {
        if (('' + get(streamId, streams[i])).indexOf(prefer) >= 0) preferred = true;
      } catch (err) { /* not a MediaStream */ }
    }
    if (preferred) {
      if (!preferredSeen) {
        preferredSeen = true;
        heldBack.length = 0;
        // Anything tapped before it (a fallback) duplicates it: only the preferred stream stays.
        untapAll();
      }
      tapTrack(track, origin + ' (' + prefer + ')');
    } else if (!preferredSeen) {
      heldBack[heldBack.length] = [track, origin];
    }
  }

  function tapTrack(track, origin) {
    let id;
    try {
      id = get(trackId, track);
      if (kindOf(track) !== 'audio' || apply(mapHas, tappedTracks, [id]) || get(trackState, track) === 'ended') return;
    } catch (err) {
      return;   // not a MediaStreamTrack
    }
    try {
      const stream = new NativeMediaStream([track]);
      graph();
      const source = apply(createSource, ctx, [stream]);
      apply(connect, source, [mixer]);
      apply(mapSet, tappedTracks, [id, dict({ track, source, player: player(stream) })]);
      log('info', 'tapped audio track from ' + origin);
      apply(nativeListen, track, ['ended', () => untap(id)]);
    } catch (err) {
      apply(mapDelete, tappedTracks, [id]);
      log('error', 'cannot tap audio track from ' + origin + ': ' + errorName(err));
    }
  }

  if (NativePeerConnection) {
    class TappedPeerConnection extends NativePeerConnection {
      constructor(...args) {
        super(...args);
        apply(nativeListen, this, ['track', (e) => { if (isTrusted(e)) offer(e.track, 'WebRTC', e.streams); }]);
      }
    }
    window.RTCPeerConnection = TappedPeerConnection;
    if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = TappedPeerConnection;
  }

  // Media elements: a MediaStream source is tapped track by track (the same tracks a peer
  // connection delivered are skipped); a URL source is captured as a stream.
  function tapElement(el) {
    if (!(el instanceof HTMLMediaElementType)) return;
    const stream = get(getSrcObject, el);
    if (stream instanceof NativeMediaStream) {
      const tracks = apply(audioTracksOf, stream, []);
      for (let i = 0; i < tracks.length; i++) offer(tracks[i], 'media element stream', [stream]);
      return;
    }
    if (!get(getCurrentSrc, el) || apply(weakHas, capturedElements, [el]) || !captureStream) return;
    apply(weakAdd, capturedElements, [el]);
    try {
      const captured = apply(captureStream, el, []);
      const tapAll = () => {
        const tracks = apply(audioTracksOf, captured, []);
        for (let i = 0; i < tracks.length; i++) offer(tracks[i], 'media element capture', []);
      };
      apply(nativeListen, captured, ['addtrack', tapAll]);
      tapAll();
    } catch (err) {
      log('warning', 'cannot capture media element: ' + errorName(err));
    }
  }
  const onPlay = (e) => { if (isTrusted(e)) tapElement(get(eventTarget, e)); };
  apply(nativeListen, document, ['play', onPlay, true]);
  apply(nativeListen, document, ['playing', onPlay, true]);
})
