// Google Meet web client imitation (docs/PLATFORMS.md, "Google Meet"). Every handler ignores
// events whose isTrusted is false: a script-made click, key or value does nothing (it is
// reported as ignored). Pre-join with a self-preview that carries a [data-participant-id]
// too, "Ask to join" / "Join now" / "Join here too", the lobby, tiles named in
// span.notranslate with speaking shown by audio-level classes, the People list, a dialog on
// admission that must be confirmed before the call's audio starts, and a control bar that
// hides without pointer movement. Remote audio: three tracks that speakers rotate over.
(function () {
  'use strict';
  const { $, all, el, screen, avatar, onTrusted, typedValue, autoHide, throttled } = window.simDom;
  const MIC = ['Turn off microphone', 'Turn on microphone'];
  const CAMERA = ['Turn off camera', 'Turn on camera'];
  // The classes a speaking tile's indicator cycles through (audio-level states).
  const SPEAKING_LEVELS = ['HX2H7', 'Oaajhc', 'wEsLMd', 'OgVli'];
  const LEVEL_MS = 250;
  const DIALOGS = {
    recording: { title: 'This video call is being recorded', text: 'By staying in this call you agree to be recorded.', ok: 'Join now' },
    gemini: { title: 'Gemini is taking notes', text: 'Notes are shared with the meeting organizer.', ok: 'Got it' },
  };
  let sim;
  let report = () => {};
  const devices = { mic: false, camera: false };   // what the page was given
  const media = { mic: false, camera: false };     // what the bot has switched on
  let dialogOpen = false;
  let showBar = () => {};
  const levels = new Map();   // participant id -> interval of its speaking indicator

  const ignored = (target) => (type) => report('untrusted_event_ignored', { type, target });
  const on = (target, type, handler, what) => onTrusted(target, type, handler, ignored(what));

  function flipLabel(button, isOn, labels) {
    button.setAttribute('aria-label', isOn ? labels[0] : labels[1]);
    button.classList.toggle('off', !isOn);
  }

  const skin = {
    audio: { spread: 'rotate', tracks: [{}, {}, {}] },
    // The call's audio starts once the admission dialog is confirmed.
    audioOnAdmit: () => !dialogOpen,
    reconnectingText: 'Reconnecting…',
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-lobby'); syncCallToggles(); },
    showBlocked() { screen('screen-blocked'); },
    showMeeting() {
      screen('screen-meeting'); syncCallToggles(); showBar(); openDialog();
      window.simDom.meetingTitle($('#meeting-title'), sim.config.title, 'data-meeting-title');
    },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('#screen-meeting .stage').replaceChildren(...people.map((p) => el('div',
        { className: 'tile', 'data-participant-id': 'spaces/sim/devices/' + p.id },
        avatar(p.name),
        el('div', { className: 'tile-name' }, el('span', { className: 'notranslate', text: p.name })),
        el('div', { className: 'level-indicator', 'data-level-of': p.id }))));
      $('div[role="list"][aria-label="Participants"]').replaceChildren(...people.map((p) => el('div',
        { role: 'listitem', 'aria-label': p.name },
        avatar(p.name), el('span', { className: 'notranslate', text: p.name }),
        p.isSelf ? el('span', { className: 'self-marker', text: '(You)' }) : null)));
      all('[data-people-count]').forEach((n) => { n.textContent = String(people.length); });
    },
    setSpeaking(id, speaking) {
      clearInterval(levels.get(id));
      levels.delete(id);
      const indicator = () => $(`[data-level-of="${id}"]`);
      if (!speaking) {
        if (indicator()) indicator().className = 'level-indicator';
        return;
      }
      let step = 0;
      const tick = () => {
        const node = indicator();
        if (node) node.className = 'level-indicator ' + SPEAKING_LEVELS[step++ % SPEAKING_LEVELS.length];
      };
      tick();
      levels.set(id, setInterval(tick, LEVEL_MS));
    },
  };

  // The dialog on admission (docs/PLATFORMS.md, Meet "Dialogs after admission").
  function openDialog() {
    const kind = sim.options.dialog;
    if (!kind || !DIALOGS[kind]) return;
    dialogOpen = true;
    $('#meeting-dialog-title').textContent = DIALOGS[kind].title;
    $('#meeting-dialog-text').textContent = DIALOGS[kind].text;
    $('#meeting-dialog-ok').textContent = DIALOGS[kind].ok;
    $('#meeting-dialog').hidden = false;
    sim.report('dialog_shown', { kind });
  }
  on($('#meeting-dialog-ok'), 'click', () => {
    $('#meeting-dialog').hidden = true;
    dialogOpen = false;
    sim.report('dialog_confirmed', { kind: sim.options.dialog });
    sim.startAudio();
  }, 'dialog_ok');
  on($('#meeting-dialog-cancel'), 'click', () => {
    $('#meeting-dialog').hidden = true;
    dialogOpen = false;
    sim.leave();
  }, 'dialog_cancel');

  // Pre-join.
  const nameInput = $('input[aria-label="Your name"]');
  const joinButton = $('#join-button');
  const typedName = typedValue(nameInput, () => {
    const name = typedName();
    joinButton.disabled = !(name && name.trim());
  }, ignored('name'));
  const toggles = { mic: $('[data-prejoin-toggle="mic"]'), camera: $('[data-prejoin-toggle="camera"]') };
  function syncPrejoin() {
    flipLabel(toggles.mic, media.mic, MIC);
    flipLabel(toggles.camera, media.camera, CAMERA);
    $('#preview-state').textContent = media.camera ? 'Camera is starting' : 'Camera is off';
  }
  on(toggles.mic, 'click', () => { if (devices.mic) { media.mic = !media.mic; syncPrejoin(); } }, 'mic');
  on(toggles.camera, 'click', () => { if (devices.camera) { media.camera = !media.camera; syncPrejoin(); } }, 'camera');
  on($('#continue-without-media'), 'click', () => {
    media.mic = media.camera = false;
    $('#permission-dialog').hidden = true;
    syncPrejoin();
  }, 'continue_without_media');
  on($('#allow-media'), 'click', async () => {
    devices.mic = media.mic = await sim.media.microphone();
    devices.camera = media.camera = await sim.media.cameraOnly();
    $('#permission-dialog').hidden = devices.mic;
    syncPrejoin();
  }, 'allow_media');
  on(joinButton, 'click', () => {
    if (!$('#permission-dialog').hidden || joinButton.disabled) return;
    sim.requestJoin(nameInput.value.trim(), media.mic, media.camera);
  }, 'join');

  async function showPrejoin() {
    const label = sim.options.join_button === 'join_here_too' ? 'Join here too'
      : (sim.skipsLobby() ? 'Join now' : 'Ask to join');
    joinButton.textContent = label;
    syncPrejoin();
    screen('screen-prejoin');
    sim.report('prejoin_shown', { join_button: label });
    devices.mic = media.mic = await sim.media.microphone();
    devices.camera = media.camera = await sim.media.cameraOnly();
    syncPrejoin();
    // Only a page without a microphone asks (docs/PLATFORMS.md, Meet "interstitials").
    if (!devices.mic) $('#permission-dialog').hidden = false;
  }

  // Lobby and call controls.
  function syncCallToggles() {
    all('[data-call-toggle="mic"]').forEach((b) => flipLabel(b, sim.self.micOn, MIC));
    all('[data-call-toggle="camera"]').forEach((b) => flipLabel(b, sim.self.cameraOn, CAMERA));
  }
  all('[data-call-toggle]').forEach((b) => on(b, 'click', () => {
    const mic = b.dataset.callToggle === 'mic';
    if (mic && !devices.mic) return;
    if (!mic && !devices.camera) return;
    sim.mediaChanged(mic ? !sim.self.micOn : sim.self.micOn, mic ? sim.self.cameraOn : !sim.self.cameraOn);
    syncCallToggles();
  }, 'call_toggle'));
  all('[data-leave]').forEach((b) => on(b, 'click', () => sim.leave(), 'leave'));
  on($('#people-button'), 'click', () => {
    const panel = $('#people-panel');
    panel.hidden = !panel.hidden;
    if (!panel.hidden) sim.report('participants_panel_opened', { trusted: true });
  }, 'people');

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    report = throttled((type, data) => sim.report(type, data), 2);
    showBar = autoHide($('#call-controls'), sim.options.toolbar_hides_after_s,
      { trustedOnly: true, report: (type) => sim.report(type) });
    const access = sim.config.access;
    if (access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    if (access === 'invalid_meeting') { screen('screen-invalid'); return; }
    if (access === 'blocked') { sim.block(); return; }
    showPrejoin();
  }).catch(() => {});
})();
