// Meeting Buddy bridge: runs in the isolated ApplicationWorld of the top frame, after
// qwebchannel.js and page_driver.js. It is the only holder of the QWebChannel, so page
// scripts never reach the bot. It forwards the audio tap's chunks and log lines to Python,
// reports the page state every tick (only when it changed, plus a heartbeat), and runs the
// commands Python sends.
(function (config) {
  'use strict';
  const driver = MeetingBuddyDriver(config.pack);
  let bot = null;
  let waiting = [];
  let dropped = 0;

  function call(fn) {
    if (bot) { fn(bot); return; }
    if (waiting.length < config.maxQueued) waiting.push(fn); else dropped++;
  }

  function route(type, detail) {
    if (type === config.audioEvent) call((b) => b.audio_chunk(detail));
    else if (type === config.logEvent) call((b) => b.page_log(detail));
  }

  document.addEventListener(config.audioEvent, (e) => route(config.audioEvent, String(e.detail)));
  document.addEventListener(config.logEvent, (e) => route(config.logEvent, String(e.detail)));
  // Cross-origin frames cannot reach this document and post their events instead.
  window.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || !e.data.startsWith(config.messagePrefix)) return;
    const rest = e.data.slice(config.messagePrefix.length);
    const bar = rest.indexOf('|');
    if (bar > 0) route(rest.slice(0, bar), rest.slice(bar + 1));
  });

  let last = '';
  let lastSent = 0;
  function tick() {
    let state;
    try {
      state = JSON.stringify(driver.observe());
    } catch (err) {
      bot.page_log('error:page observer failed: ' + err);
      return;
    }
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
      result = driver.perform(cmd);
    } catch (err) {
      bot.page_log('warning:' + cmd.op + ' failed: ' + err);
    }
    bot.command_done(cmd.op, result === null ? '' : String(result));
    last = '';  // report the effect at the next tick even if nothing else changed
  }

  new QWebChannel(qt.webChannelTransport, (channel) => {
    bot = channel.objects[config.objectName];
    bot.command.connect(run);
    const queued = waiting;
    waiting = [];
    queued.forEach((fn) => fn(bot));
    if (dropped) bot.page_log('warning:' + dropped + ' page messages dropped before the bridge was ready');
    setInterval(tick, config.tickMs);
    tick();
  });
})
