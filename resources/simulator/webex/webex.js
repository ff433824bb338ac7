// Webex web client imitation (runs inside #unified-webclient-iframe): guest form with name
// and email, mute/camera buttons, lobby, grid layout with a speaking marker per tile,
// participants panel, and the end screens.
(function () {
  'use strict';
  const { $, el, screen, initials, gate, hueOf } = window.simDom;
  let sim;
  const media = { mic: true, camera: true };

  const skin = {
    audioChannels: 1,
    audioOnAdmit: () => true,
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-lobby'); },
    showBlocked() { screen('screen-captcha'); },
    showMeeting() { screen('screen-meeting'); syncCallButtons(); },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('[data-test="grid-layout"]').replaceChildren(...people.map((p) => el('div',
        { className: 'tile', 'data-test': 'participant-tile', 'data-participant': p.id },
        el('div', { className: 'avatar', style: `background:hsl(${hueOf(p.name)},45%,40%)`, text: initials(p.name) }),
        el('div', { className: 'tile-name', 'data-test': 'participant-name', text: p.name }),
        sim.isSpeaking(p.id) ? marker() : null)));
      $('[data-test="participants-list"]').replaceChildren(...people.map((p) => el('li',
        { 'data-test': 'participant-list-item', 'data-participant': p.id },
        el('span', { 'data-test': 'participant-list-name', text: p.name }),
        p.isSelf ? el('span', { className: 'self-marker', text: '(me)' }) : null)));
      $('[data-test="participants-count"]').textContent = String(people.length);
    },
    setSpeaking(id, on) {
      const tile = $(`[data-test="participant-tile"][data-participant="${id}"]`);
      if (!tile) return;
      const current = tile.querySelector('[data-test="speaking-indicator"]');
      if (on && !current) tile.append(marker());
      if (!on && current) current.remove();
    },
  };

  const marker = () => el('div', { 'data-test': 'speaking-indicator', 'aria-label': 'Speaking' });

  // Guest form.
  const nameInput = $('[data-test="Name (required)"]');
  const emailInput = $('[data-test="Email (required)"]');
  const joinButton = $('[data-test="join-button"]');
  const prejoinMute = $('#screen-prejoin [data-test="mute-button"]');
  const prejoinCamera = $('#screen-prejoin [data-test="camera-button"]');
  function setButton(button, on, onLabel, offLabel) {
    button.setAttribute('aria-label', on ? onLabel : offLabel);
    button.setAttribute('aria-pressed', String(!on));
    button.textContent = on ? onLabel : offLabel;
  }
  function syncPrejoin() {
    setButton(prejoinMute, media.mic, 'Mute', 'Unmute');
    setButton(prejoinCamera, media.camera, 'Stop video', 'Start video');
  }
  prejoinMute.addEventListener('click', () => { media.mic = !media.mic; syncPrejoin(); });
  prejoinCamera.addEventListener('click', () => { media.camera = !media.camera; syncPrejoin(); });
  gate(joinButton, [() => nameInput.value.trim().length > 0, () => /^[^@\s]+@[^@\s]+$/.test(emailInput.value.trim())]);
  joinButton.addEventListener('click', () => {
    if (joinButton.disabled) return;
    sim.requestJoin(nameInput.value.trim(), media.mic, media.camera);
  });

  // Meeting controls.
  const callMute = $('#screen-meeting [data-test="mute-button"]');
  const callCamera = $('#screen-meeting [data-test="camera-button"]');
  function syncCallButtons() {
    setButton(callMute, sim.self.micOn, 'Mute', 'Unmute');
    setButton(callCamera, sim.self.cameraOn, 'Stop video', 'Start video');
  }
  callMute.addEventListener('click', () => { sim.mediaChanged(!sim.self.micOn, sim.self.cameraOn); syncCallButtons(); });
  callCamera.addEventListener('click', () => { sim.mediaChanged(sim.self.micOn, !sim.self.cameraOn); syncCallButtons(); });
  $('[data-test="call-leave-button"]').addEventListener('click', () => sim.leave());
  $('[data-test="participants-toggle-button"]').addEventListener('click', (e) => {
    const panel = $('[data-test="participants-panel"]');
    panel.hidden = !panel.hidden;
    e.currentTarget.setAttribute('aria-pressed', String(!panel.hidden));
  });

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    const access = sim.config.access;
    if (access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    if (access === 'invalid_meeting') { screen('screen-invalid'); return; }
    syncPrejoin();
    screen('screen-prejoin');
    sim.report('prejoin_shown');
  }).catch(() => {});
})();
