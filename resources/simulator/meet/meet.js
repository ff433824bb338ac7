// Google Meet web client imitation: media permission dialog, "What's your name?" form with
// mic/camera toggles labelled by the action they offer, "Ask to join" / "Join now", a lobby
// that already shows Leave and mic buttons, tiles with [data-participant-id] and speaking
// levels, and one <audio> element per rotating remote track.
(function () {
  'use strict';
  const { $, el, screen, initials, gate, flipLabel, hueOf } = window.simDom;
  let sim;
  const media = { mic: true, camera: true };
  const MIC = ['Turn off microphone', 'Turn on microphone'];
  const CAMERA = ['Turn off camera', 'Turn on camera'];

  const skin = {
    audioChannels: 3, // Meet spreads remote speakers over a few rotating tracks
    audioOnAdmit: () => true,
    reconnectingText: "You're offline. Trying to reconnect…",
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-lobby'); syncCallToggles(); },
    showBlocked() { screen('screen-blocked'); },
    showMeeting() { screen('screen-meeting'); syncCallToggles(); },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('#screen-meeting .stage').replaceChildren(...people.map((p) => {
        const tile = el('div', { className: 'tile', 'data-participant-id': 'spaces/sim/devices/' + p.id, 'data-requested-participant-id': p.id },
          el('div', { className: 'avatar', style: `background:hsl(${hueOf(p.name)},50%,45%)`, text: initials(p.name) }),
          el('div', { className: 'tile-name' }, el('span', { className: 'participant-name notranslate', text: p.name })));
        if (sim.isSpeaking(p.id)) markSpeaking(tile, true);
        return tile;
      }));
      $('[role="list"][aria-label="Participants"]').replaceChildren(...people.map((p) => el('div',
        { role: 'listitem', 'aria-label': p.name, 'data-participant-id': 'spaces/sim/devices/' + p.id },
        el('span', { className: 'participant-name notranslate', text: p.name }),
        p.isSelf ? el('span', { className: 'self-marker', text: '(You)' }) : null)));
      document.querySelectorAll('[data-people-count]').forEach((n) => { n.textContent = String(people.length); });
    },
    setSpeaking(id, on) {
      const tile = $(`#screen-meeting [data-participant-id="spaces/sim/devices/${id}"]`);
      if (tile) markSpeaking(tile, on);
    },
  };

  function markSpeaking(tile, on) {
    tile.classList.toggle('speaking', on);
    const indicator = tile.querySelector('.speaking-indicator');
    if (on) {
      tile.setAttribute('data-audio-level', '2');
      if (!indicator) {
        tile.append(el('div', { className: 'speaking-indicator', 'data-audio-level': '2' },
          el('span', { className: 'bars' }, el('i'), el('i'), el('i'))));
      }
    } else {
      tile.removeAttribute('data-audio-level');
      if (indicator) indicator.remove();
    }
  }

  // Pre-join.
  const nameInput = $('input[aria-label="Your name"]');
  const joinButton = $('#join-button');
  const toggles = { mic: $('[data-prejoin-toggle="mic"]'), camera: $('[data-prejoin-toggle="camera"]') };
  function syncPrejoin() {
    flipLabel(toggles.mic, media.mic, MIC);
    flipLabel(toggles.camera, media.camera, CAMERA);
    $('#preview-state').textContent = media.camera ? 'Camera is starting' : 'Camera is off';
  }
  toggles.mic.addEventListener('click', () => { media.mic = !media.mic; syncPrejoin(); });
  toggles.camera.addEventListener('click', () => { media.camera = !media.camera; syncPrejoin(); });
  const chooseMedia = (on) => () => {
    media.mic = on; media.camera = on;
    $('#permission-dialog').hidden = true;
    syncPrejoin();
  };
  $('#allow-media').addEventListener('click', chooseMedia(true));
  $('#continue-without-media').addEventListener('click', chooseMedia(false));
  gate(joinButton, [() => nameInput.value.trim().length > 0]);
  joinButton.addEventListener('click', () => {
    if (!$('#permission-dialog').hidden || joinButton.disabled) return;
    sim.requestJoin(nameInput.value.trim(), media.mic, media.camera);
  });

  // Lobby and call controls.
  function syncCallToggles() {
    document.querySelectorAll('[data-call-toggle="mic"]').forEach((b) => flipLabel(b, sim.self.micOn, MIC));
    document.querySelectorAll('[data-call-toggle="camera"]').forEach((b) => flipLabel(b, sim.self.cameraOn, CAMERA));
  }
  document.querySelectorAll('[data-call-toggle]').forEach((b) => b.addEventListener('click', () => {
    const mic = b.dataset.callToggle === 'mic';
    sim.mediaChanged(mic ? !sim.self.micOn : sim.self.micOn, mic ? sim.self.cameraOn : !sim.self.cameraOn);
    syncCallToggles();
  }));
  document.querySelectorAll('[data-leave]').forEach((b) => b.addEventListener('click', () => sim.leave()));
  $('#people-button').addEventListener('click', () => { const side = $('#screen-meeting .side'); side.hidden = !side.hidden; });

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    const access = sim.config.access;
    if (access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    if (access === 'invalid_meeting') { screen('screen-invalid'); return; }
    joinButton.textContent = sim.skipsLobby() ? 'Join now' : 'Ask to join';
    syncPrejoin();
    screen('screen-prejoin');
    sim.report('prejoin_shown');
  }).catch(() => {});
})();
