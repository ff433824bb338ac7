// Meeting Buddy page driver: evaluates a platform's selector pack against the page (the top
// document and the same-origin frames the pack names) and finds the controls the bot asks
// for. It holds no platform knowledge and takes no decisions: observe() reports what is on
// screen, locate() says where a control is. It never clicks or types itself: the bot sends
// real mouse and keyboard input to that point (pages ignore script-made events).
//
// Matcher forms (every landmark is a list of them, first hit wins):
//   {"css": "sel"}                          a visible element matching sel
//   {"css": "sel", "text": "t"}             ... whose label (text, aria-label, title, value) contains t
//   {"css": "sel", "attr": "a", "above": x} ... whose numeric attribute a is greater than x
//   {"text": "t"}                           t in the page's visible text; for clickable
//                                           landmarks: a button/link whose label contains t
//   {"url": "u"} / {"title": "t"}           the top page's address / title contains it
// Texts compare case-insensitively with typographic quotes folded to plain ones.
// eslint-disable-next-line no-unused-vars
function MeetingBuddyDriver(pack) {
  'use strict';
  const CLICKABLE = 'button, [role="button"], a[href], input[type="submit"], input[type="button"], [role="menuitem"], [role="link"]';

  // The page decides what it shows: every text reported is cut to a length, every list to a
  // count, so a report stays far below the bridge's size limit whatever the page holds (a
  // report over it would be dropped whole, and the bot would go blind). Control and format
  // characters go first: they are dropped later anyway, and JSON would spell each in six.
  const MAX_NAME = 256;
  const MAX_TEXT = 512;
  const MAX_URL = 2048;
  const MAX_PEOPLE = 500;
  const MAX_SPEAKERS = 32;
  const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
  const bounded = (s, n) => (s === null || s === undefined ? s
    : String(s).slice(0, 4 * n).replace(UNSAFE, '').replace(/[\t\r\n\u2028\u2029]/g, ' ').slice(0, n));

  const fold = (s) => String(s || '').replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, ' ').trim().toLowerCase();

  function documents() {
    const docs = [document];
    for (let i = 0; i < docs.length && i < 16; i++) {
      for (const m of pack.frames || []) {
        for (const frame of docs[i].querySelectorAll(m.css)) {
          try {
            if (frame.contentDocument && frame.contentDocument.documentElement) docs.push(frame.contentDocument);
          } catch (err) { /* cross-origin frame: not readable from here */ }
        }
      }
    }
    return docs;
  }

  function visible(el) {
    if (!el || !el.isConnected) return false;
    if (el.getClientRects().length === 0) return false;
    const style = el.ownerDocument.defaultView.getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
  }

  function label(el) {
    return fold([el.innerText, el.getAttribute('aria-label'), el.getAttribute('title'),
      el.tagName === 'INPUT' ? el.value : ''].filter(Boolean).join(' '));
  }

  // One evaluation pass caches each document's visible text.
  function Pass() {
    this.docs = documents();
    this.texts = new Map();
  }
  Pass.prototype.text = function (doc) {
    if (!this.texts.has(doc)) this.texts.set(doc, fold(doc.body ? doc.body.innerText : ''));
    return this.texts.get(doc);
  };
  Pass.prototype.all = function (sel) {
    const out = [];
    for (const doc of this.docs) {
      try {
        doc.querySelectorAll(sel).forEach((el) => { if (visible(el)) out.push(el); });
      } catch (err) { /* a bad selector in a pack must not stop the others */ }
    }
    return out;
  };
  // First element for a matcher, or null. `clickable` widens text-only matchers to controls.
  Pass.prototype.element = function (m, clickable) {
    const sel = m.css || (clickable && m.text ? CLICKABLE : null);
    if (!sel) return null;
    const want = m.text ? fold(m.text) : null;
    for (const el of this.all(sel)) {
      if (want && !label(el).includes(want)) continue;
      if (m.attr && !(parseFloat(el.getAttribute(m.attr)) > (m.above || 0))) continue;
      return el;
    }
    return null;
  };
  Pass.prototype.hit = function (m) {
    if (m.url) return fold(location.href).includes(fold(m.url));
    if (m.title) return this.docs.some((d) => fold(d.title).includes(fold(m.title)));
    if (m.css) return this.element(m, false) !== null;
    if (m.text) return this.docs.some((d) => this.text(d).includes(fold(m.text)));
    return false;
  };
  // The first matcher of a landmark that hits, described for the log; null if none.
  Pass.prototype.evidence = function (matchers) {
    for (const m of matchers || []) if (this.hit(m)) return describe(m);
    return null;
  };
  Pass.prototype.control = function (matchers) {
    for (const m of matchers || []) {
      const el = this.element(m, true);
      if (el && !el.disabled && el.getAttribute('aria-disabled') !== 'true') return { el, what: describe(m) };
    }
    return null;
  };

  // What hit, for the log: the matcher without its evidence fields.
  function describe(m) {
    return Object.entries(m).filter(([k]) => k !== 'source' && k !== 'unconfirmed')
      .map(([k, v]) => k + '=' + v).join(' ');
  }

  function nameOf(item) {
    const rules = (pack.participants && pack.participants.name) || [];
    for (const rule of rules) {
      let el = item;
      if (rule.css) {
        el = item.matches(rule.css) ? item : item.querySelector(rule.css);
        if (!el) continue;
      }
      const text = rule.attr ? el.getAttribute(rule.attr) : (el.innerText || el.textContent || '').split('\n')[0];
      const raw = text ? bounded(text, MAX_NAME) : '';
      if (raw && raw.trim()) return raw.trim();
    }
    return '';
  }

  function cleanName(raw) {
    let name = raw;
    for (const rule of (pack.participants && pack.participants.strip) || []) {
      name = name.replace(new RegExp(rule.pattern, 'i'), '');
    }
    return name.replace(/\s+/g, ' ').trim();
  }

  function itemFlag(item, matchers) {
    for (const m of matchers || []) {
      if (m.css && (item.matches(m.css) || item.querySelector(m.css))) return true;
      if (m.text && label(item).includes(fold(m.text))) return true;
    }
    return false;
  }

  function participants(pass) {
    const spec = pack.participants || {};
    const seen = new Map();
    for (const m of spec.items || []) {
      for (const item of pass.all(m.css)) {
        if (seen.size >= MAX_PEOPLE) break;
        const name = cleanName(nameOf(item));
        if (!name) continue;
        const entry = seen.get(name) || { name, self: false, bot: false };
        entry.self = entry.self || itemFlag(item, spec.self);
        entry.bot = entry.bot || itemFlag(item, spec.bot);
        seen.set(name, entry);
      }
    }
    return Array.from(seen.values());
  }

  function itemFor(el) {
    for (const m of (pack.participants && pack.participants.items) || []) {
      const item = el.closest(m.css);
      if (item) return item;
    }
    return el;
  }

  function speakers(pass) {
    const names = [];
    for (const m of (pack.speaking && pack.speaking.indicators) || []) {
      const want = m.text ? fold(m.text) : null;
      for (const el of pass.all(m.css)) {
        if (want && !label(el).includes(want)) continue;
        if (m.attr && !(parseFloat(el.getAttribute(m.attr)) > (m.above || 0))) continue;
        const name = cleanName(nameOf(itemFor(el)));
        if (name && !names.includes(name)) names.push(name);
        if (names.length >= MAX_SPEAKERS) return names;
      }
    }
    return names;
  }

  // The meeting's title where the pack says the page shows it (an element's text, or one of
  // its attributes): the first rule with a non-empty value. No visibility check, as in the
  // references (docs/PLATFORMS.md, "Meeting titles"): the holder may be a container.
  const MAX_TITLE_HOLDERS = 20;
  function meetingTitle(pass) {
    for (const rule of pack.meeting_title || []) {
      for (const doc of pass.docs) {
        let holders;
        try { holders = doc.querySelectorAll(rule.css); } catch (err) { continue; }
        for (let i = 0; i < holders.length && i < MAX_TITLE_HOLDERS; i++) {
          const el = holders[i];
          const raw = rule.attr ? el.getAttribute(rule.attr) : (el.innerText || el.textContent);
          const text = raw ? bounded(raw, MAX_NAME).replace(/\s+/g, ' ').trim() : '';
          if (text) return { text, what: describe(rule) };
        }
      }
    }
    return null;
  }

  function toggleState(pass, spec) {
    if (!spec) return { off: null, control: false };
    if (pass.evidence(spec.is_off)) return { off: true, control: false };
    const control = pass.control(spec.turn_off);
    return { off: control ? false : null, control: !!control };
  }

  const FLAGS = ['sign_in', 'blocked', 'invalid', 'not_started', 'retry_join', 'denied', 'removed', 'ended',
    'reconnecting', 'lobby', 'admitted'];

  function observe() {
    const pass = new Pass();
    const flags = {};
    for (const key of FLAGS) {
      const ev = pass.evidence(pack[key]);
      if (ev) flags[key] = ev;
    }
    const nameControl = pass.control(pack.name_input);
    const emailControl = pass.control(pack.email_input);
    const join = pass.control(pack.join_buttons);
    const interstitial = pass.control(pack.interstitials);
    const prompt = pass.control(pack.meeting_prompts);
    const mic = toggleState(pass, pack.mic);
    const camera = toggleState(pass, pack.camera);
    const title = meetingTitle(pass);
    return {
      url: bounded(location.href, MAX_URL),
      title: bounded(document.title, MAX_TEXT),
      online: navigator.onLine,
      flags,
      name_input: nameControl ? bounded(nameControl.el.value, MAX_TEXT) : null,
      email_input: emailControl ? bounded(emailControl.el.value, MAX_TEXT) : null,
      join_button: join ? join.what : null,
      interstitial: interstitial ? interstitial.what : null,
      prompt: prompt ? prompt.what : null,
      mic_off: mic.off,
      camera_off: camera.off,
      participants: participants(pass),
      speakers: speakers(pass),
      meeting_title: title ? title.text : null,
    };
  }

  // The centre of a control in the top window's viewport (CSS pixels), after scrolling it
  // into view; frames add their own offsets.
  function point(el) {
    el.scrollIntoView({ block: 'center', inline: 'center' });
    const r = el.getBoundingClientRect();
    let x = r.left + r.width / 2;
    let y = r.top + r.height / 2;
    let win = el.ownerDocument.defaultView;
    while (win && win !== window && win.frameElement) {
      const frame = win.frameElement.getBoundingClientRect();
      x += frame.left + win.frameElement.clientLeft;
      y += frame.top + win.frameElement.clientTop;
      win = win.parent;
    }
    return { x: Math.round(x), y: Math.round(y) };
  }

  const CONTROLS = {
    dismiss: () => pack.interstitials,
    dismiss_prompt: () => pack.meeting_prompts,
    join: () => pack.join_buttons,
    mic_off: () => pack.mic && pack.mic.turn_off,
    camera_off: () => pack.camera && pack.camera.turn_off,
    open_participants: () => pack.participants && pack.participants.open,
    leave: () => pack.leave,
    leave_confirm: () => pack.leave_confirm,
  };

  // Where the control for a command is: {what, x, y} (plus `type`: the text to type there
  // for the fill commands); null when it is not on screen.
  function locate(cmd) {
    const pass = new Pass();
    if (cmd.op === 'fill_name' || cmd.op === 'fill_email') {
      const found = pass.control(cmd.op === 'fill_name' ? pack.name_input : pack.email_input);
      if (!found) return null;
      return { what: found.what, ...point(found.el), type: String(cmd.value) };
    }
    // The page may switch the microphone or camera on by itself after the last look (Meet
    // does when the permission arrives): never join with either on.
    if (cmd.op === 'join' && (toggleState(pass, pack.mic).off === false || toggleState(pass, pack.camera).off === false)) {
      return null;
    }
    const matchers = CONTROLS[cmd.op] ? CONTROLS[cmd.op]() : null;
    const found = pass.control(matchers);
    if (!found) return null;
    return { what: found.what, ...point(found.el) };
  }

  // Every landmark of the pack and the matcher that hits now (null: none), for diagnostics
  // and for checking a pack against a saved page.
  function diagnose() {
    const pass = new Pass();
    const landmarks = {};
    const lists = ['frames', 'interstitials', 'meeting_prompts', 'name_input', 'email_input', 'join_buttons',
      'leave', 'leave_confirm', ...FLAGS];
    for (const key of lists) {
      if (!pack[key]) continue;
      landmarks[key] = key === 'frames' ? (pass.docs.length > 1 ? 'frames found: ' + (pass.docs.length - 1) : null)
        : pass.evidence(pack[key]);
    }
    for (const key of ['mic', 'camera']) {
      if (!pack[key]) continue;
      landmarks[key + '.is_off'] = pass.evidence(pack[key].is_off);
      landmarks[key + '.turn_off'] = pass.evidence(pack[key].turn_off);
    }
    const spec = pack.participants || {};
    landmarks['participants.items'] = pass.evidence(spec.items);
    if (spec.open) landmarks['participants.open'] = pass.evidence(spec.open);
    if (pack.speaking) landmarks['speaking.indicators'] = pass.evidence(pack.speaking.indicators);
    if (pack.meeting_title) {
      const title = meetingTitle(pass);
      landmarks.meeting_title = title ? title.what : null;
    }
    return { url: bounded(location.href, MAX_URL), title: bounded(document.title, MAX_TEXT), landmarks,
      participants: participants(pass).map((p) => p.name) };
  }

  // The page as HTML, without scripts and without what was typed into fields.
  function snapshot() {
    const copy = document.documentElement.cloneNode(true);
    copy.querySelectorAll('script, noscript').forEach((el) => el.remove());
    copy.querySelectorAll('input, textarea').forEach((el) => { el.removeAttribute('value'); el.textContent = ''; });
    return '<!DOCTYPE html>\n' + copy.outerHTML;
  }

  return { observe, locate, diagnose, snapshot };
}
