// Meeting Buddy bridge: runs in the isolated ApplicationWorld of the top frame, after
// qwebchannel.js and page_driver.js. It is the only holder of the QWebChannel, so page
// scripts never reach the bot. It forwards the audio tap's chunks and log lines to Python,
// reports the page state every tick (only when it changed, plus a heartbeat), and answers
// the commands Python sends with where their control is (Python then clicks or types there).
(function (config) {
  'use strict';
  const driver = MeetingBuddyDriver(config.pack);
  const limits = config.limits;
  let bot = null;
  let waiting = [];
  // Everything from the page is bounded in size and rate; what does not fit is dropped and
  // counted, and the counts are reported now and then (never one log line per message).
  const dropped = {};
  const drop = (kind) => { dropped[kind] = (dropped[kind] || 0) + 1; };
  const windows = {};
  const frameWindows = new WeakMap();   // posting frame -> its own rate window
  function within(table, key, perSecond) {
    const second = Math.floor(Date.now() / 1000);
    let w = table.get ? table.get(key) : table[key];
    if (!w || w.second !== second) {
      w = { second, n: 0 };
      if (table.set) table.set(key, w); else table[key] = w;
    }
    return ++w.n <= perSecond;
  }
  const withinRate = (kind, perSecond) => within(windows, kind, perSecond);

  function call(fn) {
    if (bot) { fn(bot); return; }
    if (waiting.length < config.maxQueued) waiting.push(fn); else drop('messages before the bridge was ready');
  }

  function route(type, detail) {
    if (type === config.audioEvent) {
      if (detail.length > limits.audioChars) drop('oversized audio messages');
      else if (!withinRate('audio', limits.audioPerSecond)) drop('audio messages over the rate limit');
      else call((b) => b.audio_chunk(detail));
    } else if (type === config.logEvent) {
      if (!withinRate('log', limits.logsPerSecond)) drop('page log lines over the rate limit');
      else call((b) => b.page_log(detail.slice(0, limits.logChars)));
    }
  }

  function reportDrops() {
    for (const [kind, count] of Object.entries(dropped)) {
      if (count) bot.page_dropped(kind, count);
      dropped[kind] = 0;
    }
  }

  document.addEventListener(config.audioEvent, (e) => route(config.audioEvent, typeof e.detail === 'string' ? e.detail : ''));
  document.addEventListener(config.logEvent, (e) => route(config.logEvent, typeof e.detail === 'string' ? e.detail : ''));
  // Frames that are not same-origin cannot reach this document and post their events, which
  // the page sees too: only messages signed with the session's key, each newer than the last
  // from its frame, are taken (audio_tap.js). They name what they carry by a code, never by
  // the event names, which the page must not learn.
  const POSTED = { a: config.audioEvent, l: config.logEvent };
  const subtle = window.isSecureContext && window.crypto ? window.crypto.subtle : null;
  const keyBytes = new Uint8Array(config.signingKey.length / 2);
  for (let i = 0; i < keyBytes.length; i++) keyBytes[i] = parseInt(config.signingKey.slice(2 * i, 2 * i + 2), 16);
  const verifying = subtle ? subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) : null;
  const lastSeq = new Map();
  let checked = Promise.resolve();

  async function accept(frame, seq, type, hex, detail) {
    if (!verifying || !/^[0-9a-f]{64}$/.test(hex) || !/^[0-9]{1,12}$/.test(seq)) { drop('unsigned frame messages'); return; }
    const mac = new Uint8Array(32);
    for (let i = 0; i < 32; i++) mac[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    const signed = new TextEncoder().encode(frame + '|' + seq + '|' + type + '|' + detail);
    const genuine = await subtle.verify('HMAC', await verifying, mac, signed);
    if (!genuine) { drop('forged frame messages'); return; }
    if (Number(seq) <= (lastSeq.get(frame) || 0)) { drop('replayed frame messages'); return; }
    if (lastSeq.size > 64 && !lastSeq.has(frame)) { drop('messages from too many frames'); return; }
    if (!Object.prototype.hasOwnProperty.call(POSTED, type)) { drop('unreadable frame messages'); return; }
    lastSeq.set(frame, Number(seq));
    route(POSTED[type], detail);
  }

  window.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || !e.data.startsWith(config.messagePrefix)) return;
    // The tap in this window dispatches events; only a frame posts, never the page itself.
    if (e.source === window || e.source === null) { drop('frame messages posted by the page itself'); return; }
    // Each frame has its own budget: a flood from one frame cannot starve another.
    if (!within(frameWindows, e.source, limits.audioPerSecond + limits.logsPerSecond)) {
      drop('frame messages over the rate limit');
      return;
    }
    if (e.data.length > limits.audioChars + 512) { drop('oversized frame messages'); return; }
    const parts = e.data.slice(config.messagePrefix.length).split('|');
    if (parts.length < 5) { drop('unsigned frame messages'); return; }
    const [frame, seq, type, hex] = parts;
    const detail = parts.slice(4).join('|');
    checked = checked.then(() => accept(frame, seq, type, hex, detail)).catch(() => drop('unreadable frame messages'));
  });

  let last = '';
  let lastSent = 0;
  function tick() {
    let state;
    try {
      state = JSON.stringify(driver.observe());
    } catch (err) {
      bot.page_log('error:page observer failed: ' + String(err).slice(0, limits.logChars));
      return;
    }
    if (state.length > limits.stateChars) { drop('oversized page reports'); return; }
    const now = Date.now();
    if (state !== last || now - lastSent >= config.heartbeatMs) {
      last = state;
      lastSent = now;
      bot.report_state(state);
    }
  }

  function run(json) {
    let cmd;
    try {
      cmd = JSON.parse(json);
    } catch (err) {
      return;
    }
    let result = null;
    try {
      result = cmd.op === 'diagnose' ? { ...driver.diagnose(), html: driver.snapshot() } : driver.locate(cmd);
    } catch (err) {
      bot.page_log('warning:' + cmd.op + ' failed: ' + err);
    }
    bot.command_done(cmd.op, result === null ? '' : JSON.stringify(result));
    last = '';  // report the effect at the next tick even if nothing else changed
  }

  new QWebChannel(qt.webChannelTransport, (channel) => {
    bot = channel.objects[config.objectName];
    bot.command.connect(run);
    const queued = waiting;
    waiting = [];
    queued.forEach((fn) => fn(bot));
    setInterval(tick, config.tickMs);
    setInterval(reportDrops, config.dropReportMs);
    tick();
  });
})
