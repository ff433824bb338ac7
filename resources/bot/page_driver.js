// Meeting Buddy page driver: evaluates a platform's selector pack against the page (the top
// document and the same-origin frames the pack names) and performs the actions the bot
// asks for. It holds no platform knowledge and takes no decisions: observe() reports what
// is on screen, perform() clicks or types.
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

  const fold = (s) => String(s || '').replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, ' ').trim().toLowerCase();

  function documents() {
    const docs = [document];
    for (let i = 0; i < docs.length && i < 16; i++) {
      for (const sel of pack.frames || []) {
        for (const frame of docs[i].querySelectorAll(sel)) {
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

  function describe(m) {
    return Object.entries(m).map(([k, v]) => k + '=' + v).join(' ');
  }

  function nameOf(item) {
    const rules = (pack.participants && pack.participants.name) || [];
    for (const rule of rules) {
      let el = item;
      if (rule.css) {
        el = item.matches(rule.css) ? item : item.querySelector(rule.css);
        if (!el) continue;
      }
      const raw = rule.attr ? el.getAttribute(rule.attr) : (el.innerText || el.textContent || '').split('\n')[0];
      if (raw && raw.trim()) return raw.trim();
    }
    return '';
  }

  function cleanName(raw) {
    let name = raw;
    for (const pattern of (pack.participants && pack.participants.strip) || []) {
      name = name.replace(new RegExp(pattern, 'i'), '');
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
    for (const sel of spec.items || []) {
      for (const item of pass.all(sel)) {
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
    for (const sel of (pack.participants && pack.participants.items) || []) {
      const item = el.closest(sel);
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
      }
    }
    return names;
  }

  function toggleState(pass, spec) {
    if (!spec) return { off: null, control: false };
    if (pass.evidence(spec.is_off)) return { off: true, control: false };
    const control = pass.control(spec.turn_off);
    return { off: control ? false : null, control: !!control };
  }

  const FLAGS = ['sign_in', 'blocked', 'invalid', 'denied', 'removed', 'ended', 'reconnecting', 'lobby', 'admitted'];

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
    return {
      url: location.href,
      title: document.title,
      online: navigator.onLine,
      flags,
      name_input: nameControl ? nameControl.el.value : null,
      email_input: emailControl ? emailControl.el.value : null,
      join_button: join ? join.what : null,
      interstitial: interstitial ? interstitial.what : null,
      prompt: prompt ? prompt.what : null,
      mic_off: mic.off,
      camera_off: camera.off,
      participants: participants(pass),
      speakers: speakers(pass),
    };
  }

  function press(el) {
    el.scrollIntoView({ block: 'center' });
    const view = el.ownerDocument.defaultView;
    const opts = { bubbles: true, cancelable: true, view, button: 0 };
    el.dispatchEvent(new view.PointerEvent('pointerdown', opts));
    el.dispatchEvent(new view.MouseEvent('mousedown', opts));
    el.dispatchEvent(new view.PointerEvent('pointerup', opts));
    el.dispatchEvent(new view.MouseEvent('mouseup', opts));
    el.click();
  }

  function type(el, value) {
    el.focus();
    el.value = value;
    const view = el.ownerDocument.defaultView;
    el.dispatchEvent(new view.InputEvent('input', { bubbles: true, inputType: 'insertText', data: value }));
    el.dispatchEvent(new view.Event('change', { bubbles: true }));
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

  // Returns what was done, for the log; null when the control is not on screen.
  function perform(cmd) {
    const pass = new Pass();
    if (cmd.op === 'fill_name' || cmd.op === 'fill_email') {
      const found = pass.control(cmd.op === 'fill_name' ? pack.name_input : pack.email_input);
      if (!found) return null;
      type(found.el, cmd.value);
      return found.what;
    }
    const matchers = CONTROLS[cmd.op] ? CONTROLS[cmd.op]() : null;
    const found = pass.control(matchers);
    if (!found) return null;
    press(found.el);
    return found.what;
  }

  return { observe, perform };
}
