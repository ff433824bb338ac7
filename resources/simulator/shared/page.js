// DOM helpers the four imitation web clients share, and the page behaviours the real
// clients have in common (docs/PLATFORMS.md, "Every platform"): controls that answer only
// real input, a name that counts only when typed with real keys, and toolbars that hide
// after a few seconds without pointer movement.
(function () {
  'use strict';

  const dom = {
    $(sel, root) { return (root || document).querySelector(sel); },
    all(sel, root) { return Array.from((root || document).querySelectorAll(sel)); },
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
    // Shows a meeting's title in `node` (its text, and attribute `attr` where the real page
    // keeps it there); a meeting without a title leaves the node hidden.
    meetingTitle(node, title, attr) {
      if (!node || !title) return;
      node.textContent = title;
      if (attr) node.setAttribute(attr, title);
      node.hidden = false;
    },
    // Shows one <section class="screen"> and hides the others.
    screen(id) {
      document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== id; });
    },
    initials(name) {
      return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
    },
    hueOf(name) {
      let h = 0;
      for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
      return h;
    },
    avatar(name) {
      return dom.el('div', { className: 'avatar', style: `background:hsl(${dom.hueOf(name)},45%,42%)`, text: dom.initials(name) });
    },
    // A join button that is enabled only while every field has what it needs (the clients
    // listen to input events, so a value set without one is not seen until the next event).
    gate(button, checks) {
      const update = () => { button.disabled = !checks.every((check) => check()); };
      document.addEventListener('input', update, true);
      update();
      return update;
    },
    // A listener for pages that ignore script-made events: an event whose isTrusted is false
    // does nothing but is reported (Meet, docs/PLATFORMS.md "Real input, not scripted clicks").
    onTrusted(target, type, handler, ignored) {
      target.addEventListener(type, (event) => {
        if (!event.isTrusted) {
          if (ignored) ignored(type);
          return;
        }
        handler(event);
      });
    },
    // The value of a name field as typed with real keys: null once a script set it or sent
    // it an untrusted input event (Zoom keeps Join disabled for a name set by script).
    typedValue(input, onChange, ignored) {
      let keyed = false;
      let typed = input.value;
      input.addEventListener('keydown', (e) => { if (e.isTrusted) keyed = true; }, true);
      input.addEventListener('input', (e) => {
        if (e.isTrusted && keyed) {
          typed = input.value;
        } else {
          typed = null;
          if (ignored) ignored('input');
        }
        onChange();
      }, true);
      // A value assigned without any event is caught here.
      setInterval(onChange, 300);
      return () => (typed !== null && typed === input.value ? typed : null);
    },
    // A toolbar that hides after `seconds` without pointer movement and comes back on the
    // next move (Meet and Zoom, docs/PLATFORMS.md "Toolbars hide"). Returns a function that
    // shows it now (the call starts with it visible).
    autoHide(bar, seconds, { trustedOnly, report }) {
      if (!seconds) return () => {};
      let timer = null;
      const hide = () => {
        bar.classList.add('sim-autohidden');
        if (report) report('toolbar_hidden');
      };
      const show = () => {
        if (bar.classList.contains('sim-autohidden')) {
          bar.classList.remove('sim-autohidden');
          if (report) report('toolbar_shown');
        }
        clearTimeout(timer);
        timer = setTimeout(hide, seconds * 1000);
      };
      document.addEventListener('mousemove', (e) => { if (e.isTrusted || !trustedOnly) show(); }, true);
      return show;
    },
  };

  // Reports the same thing at most once every few seconds (ignored events come in bursts).
  dom.throttled = function (report, seconds) {
    const last = new Map();
    return (type, data) => {
      const key = type + JSON.stringify(data || {});
      const now = performance.now();
      if (last.has(key) && now - last.get(key) < seconds * 1000) return;
      last.set(key, now);
      report(type, data);
    };
  };

  window.simDom = dom;
})();
