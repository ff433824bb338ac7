// Webex web client imitation (docs/PLATFORMS.md, "Webex (web client)"). In the page itself
// (newer builds): the "Problem joining from browser?" popup over a guest form with name and
// email (Next: #guest_next-btn), then the join screen (#interstitial_join_btn). Inside
// #unified-webclient-iframe (classic): a name, then Join meeting. Both: a microphone button
// that says whether it is muted, a camera button named by its data-doi action (START_VIDEO
// disabled without a camera), the lobby, tiles with the active-speaker halo, the
// participants list, and the end screens.
(function () {
  'use strict';
  const { $, all, el, screen, avatar, gate } = window.simDom;
  const framed = window !== window.top;
  let sim;
  const devices = { mic: false, camera: false };
  const media = { mic: false, camera: false };

  const skin = {
    audio: { spread: 'all', tracks: [{}] },   // one mixed stream
    audioOnAdmit: () => true,
    reconnectingText: 'Meeting disconnected. Trying to reconnect…',
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-lobby'); },
    showBlocked() { screen('screen-captcha'); },
    showMeeting() {
      screen('screen-meeting'); syncMedia();
      window.simDom.meetingTitle($('h1[data-type="body-secondary"]'), sim.config.title);
    },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('[data-test="grid-layout"]').replaceChildren(...people.map((p) => el('div',
        { className: 'tile participants-video-tile', 'data-sim-id': p.id },
        avatar(p.name),
        el('div', { className: 'tile-name', 'data-test': 'participant-name', text: p.name }),
        sim.isSpeaking(p.id) ? halo() : null)));
      $('.participants-list').replaceChildren(...people.map((p) => el('li',
        { className: 'participants-list-item', 'data-sim-id': p.id },
        avatar(p.name), el('span', { 'data-test': 'participant-name', text: p.name }),
        p.isSelf ? el('span', { className: 'self-marker', text: '(me)' }) : null)));
      $('[data-test="participants-count"]').textContent = String(people.length);
    },
    setSpeaking(id, on) {
      const tile = $(`.participants-video-tile[data-sim-id="${id}"]`);
      if (!tile) return;
      const current = tile.querySelector('.active-speaker-halo');
      if (on && !current) tile.append(halo());
      if (!on && current) current.remove();
    },
  };

  const halo = () => el('div', { className: 'active-speaker-halo', 'aria-hidden': 'true' });

  // Microphone and camera buttons, the same on every screen that has them.
  const current = () => (sim && sim.phase === 'meeting' ? { mic: sim.self.micOn, camera: sim.self.cameraOn } : media);
  all('.media-controls').forEach((holder) => {
    const where = holder.closest('#screen-meeting') ? 'MEETING_CONTROL_BAR' : 'MEETSIMPLE_INTERSTITIAL';
    const mic = el('button', { type: 'button', 'data-test': 'microphone-button' });
    const camera = el('button', { type: 'button', 'data-test': 'camera-button', 'data-where': where });
    mic.addEventListener('click', () => toggle('mic'));
    camera.addEventListener('click', () => toggle('camera'));
    holder.prepend(mic, camera);
  });
  function toggle(kind) {
    if (!devices[kind]) return;
    if (sim.phase === 'meeting') {
      const now = current();
      sim.mediaChanged(kind === 'mic' ? !now.mic : now.mic, kind === 'camera' ? !now.camera : now.camera);
    } else {
      media[kind] = !media[kind];
    }
    syncMedia();
  }
  function syncMedia() {
    const now = current();
    all('[data-test="microphone-button"]').forEach((b) => {
      b.setAttribute('aria-label', now.mic ? 'Mute, currently unmuted' : 'Unmute, currently muted');
      b.textContent = now.mic ? 'Mute' : 'Unmute';
      b.disabled = !devices.mic;
    });
    all('[data-test="camera-button"]').forEach((b) => {
      // Without a camera the control reads "Start video" and is disabled.
      b.setAttribute('data-doi', `VIDEO:${now.camera ? 'STOP_VIDEO' : 'START_VIDEO'}:${b.dataset.where}`);
      b.textContent = now.camera ? 'Stop video' : 'Start video';
      b.disabled = !devices.camera;
    });
  }

  async function askForDevices() {
    devices.mic = media.mic = await sim.media.microphone();
    devices.camera = media.camera = await sim.media.cameraOnly();
    syncMedia();
  }

  // Classic client (in the frame).
  const classicName = $('[data-test="Name (required)"]');
  const classicJoin = $('[data-test="join-button"]');
  gate(classicJoin, [() => classicName.value.trim().length > 0]);
  classicJoin.addEventListener('click', () => {
    if (!classicJoin.disabled) sim.requestJoin(classicName.value.trim(), media.mic, media.camera);
  });

  // Newer client (in the page): guest form, then the join screen.
  const guestName = $('input[aria-labelledby="nameLabel"]');
  const guestEmail = $('input[aria-labelledby="emailLabel"]');
  const next = $('#guest_next-btn');
  gate(next, [() => guestName.value.trim().length > 0, () => /^[^@\s]+@[^@\s]+$/.test(guestEmail.value.trim())]);
  next.addEventListener('click', () => {
    if (next.disabled || !$('#app-prompt').hidden) return;
    sim.report('guest_form_submitted', { name: guestName.value.trim(), email: guestEmail.value.trim() });
    $('#interstitial-title').textContent = `Ready to join, ${guestName.value.trim()}?`;
    screen('screen-interstitial');
  });
  $('#interstitial_join_btn').addEventListener('click', () => sim.requestJoin(guestName.value.trim(), media.mic, media.camera));
  $('.el-dialog__close').addEventListener('click', () => {
    $('#app-prompt').hidden = true;
    sim.report('interstitial_dismissed', { which: 'app_prompt' });
  });
  $('#open-app').addEventListener('click', () => sim.launchDesktopApp(sim.links.app, 'app_prompt'));

  // Meeting controls.
  $('[data-test="call-leave-button"]').addEventListener('click', () => sim.leave());
  $('[data-test="participants-toggle-button"]').addEventListener('click', (e) => {
    const panel = $('#screen-meeting .side');
    panel.hidden = !panel.hidden;
    if (!panel.hidden) sim.report('participants_panel_opened', { trusted: e.isTrusted });
  });

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    const access = sim.config.access;
    if (access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    if (access === 'invalid_meeting') { screen('screen-invalid'); return; }
    syncMedia();
    if (framed) {
      screen('screen-classic');
    } else {
      screen('screen-guest');
      $('#app-prompt').hidden = !sim.options.app_prompt;
    }
    sim.report('prejoin_shown', { client: framed ? 'iframe' : 'main_page' });
    askForDevices();
  }).catch(() => {});
})();
