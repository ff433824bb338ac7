// Microsoft Teams web client imitation: launcher, pre-join with its audio/video dialog,
// lobby, meeting stage with voice-level outlines, and the end screens.
(function () {
  'use strict';
  const { $, el, screen, initials, gate, hueOf } = window.simDom;
  let sim;

  const skin = {
    audioChannels: 1, // Teams delivers one mixed stream
    audioOnAdmit: () => true,
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-lobby'); },
    showBlocked() { screen('screen-captcha'); },
    showMeeting() {
      // The lobby's Leave button stays the call's Leave button.
      $('#screen-meeting .toolbar').append($('#hangup-button'));
      screen('screen-meeting');
      setMediaButtons();
    },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      const stage = $('[data-tid="video-gallery"]');
      stage.replaceChildren(...people.map((p) => el('div',
        { 'data-tid': 'video-tile', 'data-stream-type': 'Video', 'data-acc-element-id': 'tile-' + p.id, className: 'tile' },
        el('div', { className: 'avatar', style: `background:hsl(${hueOf(p.name)},45%,40%)`, text: initials(p.name) }),
        el('div', { className: 'tile-name display-name', 'data-tid': 'display-name', title: p.name, text: p.name }),
        sim.isSpeaking(p.id) ? outline() : null)));
      const list = $('[data-tid="roster-list"]');
      list.replaceChildren(...people.map((p) => el('li', { role: 'listitem', 'data-tid': 'roster-participant', 'data-participant': p.id },
        el('span', { className: 'roster-item-name', title: p.name, text: p.name }),
        p.isSelf ? el('span', { className: 'self-marker', text: '(Guest)' }) : null)));
      $('[data-tid="roster-count"]').textContent = String(people.length);
      $('[data-tid="roster-button-count"]').textContent = String(people.length);
    },
    setSpeaking(id, on) {
      const tile = $(`[data-acc-element-id="tile-${id}"]`);
      if (!tile) return;
      const current = tile.querySelector('[data-tid="voice-level-stream-outline"]');
      if (on && !current) tile.append(outline());
      if (!on && current) current.remove();
    },
  };

  function outline() {
    return el('div', { 'data-tid': 'voice-level-stream-outline', className: 'vdi-frame-occlusion' });
  }

  // Pre-join state.
  const nameInput = $('[data-tid="prejoin-display-name-input"]');
  const joinButton = $('[data-tid="prejoin-join-button"]');
  const switches = { mic: $('#screen-prejoin [data-tid="toggle-mute"]'), camera: $('#screen-prejoin [data-tid="toggle-video"]') };
  const isOn = (button) => button.getAttribute('aria-checked') === 'true';
  for (const button of Object.values(switches)) {
    button.addEventListener('click', () => button.setAttribute('aria-checked', String(!isOn(button))));
  }
  gate(joinButton, [() => nameInput.value.trim().length > 0]);
  $('[data-tid="prejoin-continue-without-audio-video"]').addEventListener('click', () => { $('#av-dialog').hidden = true; });
  joinButton.addEventListener('click', () => {
    if (!$('#av-dialog').hidden || joinButton.disabled) return; // the dialog is modal
    const audioOff = $('[data-tid="prejoin-audio-none"]').checked;
    sim.requestJoin(nameInput.value.trim(), isOn(switches.mic) && !audioOff, isOn(switches.camera));
  });

  // In-meeting controls: Teams says the action a button offers.
  function setMediaButtons() {
    $('#microphone-button').setAttribute('aria-label', sim.self.micOn ? 'Mute mic' : 'Unmute mic');
    $('#video-button').setAttribute('aria-label', sim.self.cameraOn ? 'Turn camera off' : 'Turn camera on');
  }
  $('#microphone-button').addEventListener('click', () => { sim.mediaChanged(!sim.self.micOn, sim.self.cameraOn); setMediaButtons(); });
  $('#video-button').addEventListener('click', () => { sim.mediaChanged(sim.self.micOn, !sim.self.cameraOn); setMediaButtons(); });
  $('#hangup-button').addEventListener('click', () => sim.leave());
  $('#roster-button').addEventListener('click', () => {
    const pane = $('[data-tid="people-pane"]');
    pane.hidden = !pane.hidden;
    $('#roster-button').setAttribute('aria-pressed', String(!pane.hidden));
  });

  $('#join-on-web').addEventListener('click', () => {
    if (sim.config.access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    screen('screen-prejoin');
    sim.report('prejoin_shown');
  });
  $('#join-in-app').addEventListener('click', () => sim.report('app_launch_requested'));

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    screen(sim.config.access === 'invalid_meeting' ? 'screen-invalid' : 'screen-launcher');
  }).catch(() => {});
})();
