// Zoom web client imitation (docs/PLATFORMS.md, "Zoom (web client)"): the host-not-started
// page that never updates itself, the "Use microphone and camera" prompt (asked again for the
// microphone alone when the camera is refused), the preview whose Join stays disabled until
// the name is typed with real keys, the waiting room inside .meeting-app, speaker view that
// always shows somebody, a footer that hides without pointer movement, the participants
// panel that must be opened, and the end dialogs. No remote audio at all until the page has
// the microphone and computer audio is joined.
(function () {
  'use strict';
  const { $, el, screen, avatar, typedValue, autoHide, throttled } = window.simDom;
  let sim;
  let report = () => {};
  let micGranted = false;      // getUserMedia gave the page a microphone
  let computerAudio = false;   // "Allow" (or "Join Audio") done with that microphone
  let cameraOn = false;
  const preview = { mic: false, camera: false };
  let activeSpeaker = null;    // speaker view keeps the last one who spoke
  let shownSpeaker = null;
  let showFooter = () => {};

  const skin = {
    audio: { spread: 'all', tracks: [{}] },   // one mixed stream
    audioOnAdmit: () => micGranted && computerAudio,
    reconnectingText: 'Reconnecting…',
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() {
      $('#waiting-room').hidden = false;
      $('#meeting-client').hidden = true;
      screen('screen-app');
    },
    showBlocked() { screen('screen-blocked'); },
    showMeeting() {
      $('#waiting-room').hidden = true;
      $('#meeting-client').hidden = false;
      screen('screen-app');
      syncFooter();
      showFooter();
    },
    // A host turns a guest away by removing it from the waiting room.
    showDenied() { modal('You have been removed', 'The host did not let you into this meeting.'); },
    showRemoved() { modal('You have been removed', 'Please contact the meeting host.'); },
    showEnded() { modal('This meeting has been ended by host', ''); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      const hostId = (sim.config.participants[0] || {}).id;
      $('#participants-list').replaceChildren(...people.map((p) => {
        const tags = [p.isSelf ? '(Me)' : '', p.id === hostId ? '(Host)' : ''].filter(Boolean).join(' ');
        const label = `${p.name}${tags ? ' ' + tags : ''}, computer audio ${p.micOn ? 'unmuted' : 'muted'}, video off`;
        return el('div', { className: 'participants-li', role: 'listitem', 'aria-label': label },
          avatar(p.name), el('span', { className: 'participants-li__name', text: p.name }));
      }));
      $('.footer-button__number-counter').textContent = String(people.length);
      $('#participants-button').setAttribute('aria-label', `open the participants list pane [${people.length} participants]`);
      renderSpeakerView();
    },
    setSpeaking(id, on) {
      if (on) activeSpeaker = id;
      renderSpeakerView();
    },
  };

  function modal(title, detail) {
    $('#modal-title').textContent = title;
    $('#modal-detail').textContent = detail;
    screen('screen-modal');
  }

  // Speaker view always shows somebody: the last speaker stays, silence or not; before
  // anyone spoke, the first other person in the call (or the bot, alone).
  function renderSpeakerView() {
    const people = sim.roster();
    const shown = people.find((p) => p.id === activeSpeaker)
      || people.find((p) => !p.isSelf) || people[0];
    if (!shown || shown.id === shownSpeaker) return;
    shownSpeaker = shown.id;
    $('#speaker-view').replaceChildren(el('div', { className: 'speaker-active-container__video-frame' },
      el('div', { className: 'video-avatar__avatar' }, avatar(shown.name),
        el('div', { className: 'video-avatar__avatar-footer' }, el('span', { text: shown.name })))));
    report('active_speaker_shown', { name: shown.name, speaking: sim.isSpeaking(shown.id) });
  }

  // Preview: Join carries class "disabled" until a name typed with real keys is there.
  const nameInput = $('#input-for-name');
  const pwdInput = $('#input-for-pwd');
  const joinButton = $('.preview-join-button');
  const typedName = typedValue(nameInput, () => updateJoin(), (type) => report('untrusted_event_ignored', { type, target: 'name' }));
  function updateJoin() {
    const name = typedName();
    const ok = name !== null && name.trim().length > 0 && (pwdInput.hidden || pwdInput.value.length > 0);
    joinButton.classList.toggle('disabled', !ok);
  }
  pwdInput.addEventListener('input', updateJoin);
  joinButton.addEventListener('click', () => {
    if (!$('#media-prompt').hidden) return;
    if (joinButton.classList.contains('disabled')) {
      report('join_refused', { reason: nameInput.value.trim() ? 'name not typed with keys' : 'no name' });
      return;
    }
    if (sim.config.access === 'invalid_meeting') {
      modal('Passcode wrong', 'Please check the passcode and try again.');
      report('passcode_rejected');
      return;
    }
    sim.requestJoin(nameInput.value.trim(), preview.mic, preview.camera);
  });

  function syncPreview() {
    const audio = $('#preview-audio-control-button');
    const video = $('#preview-video-control-button');
    audio.setAttribute('aria-label', preview.mic ? 'Mute' : 'Unmute');
    audio.textContent = preview.mic ? 'Mute' : 'Unmute';
    video.setAttribute('aria-label', preview.camera ? 'Stop Video' : 'Start Video');
    video.textContent = preview.camera ? 'Stop Video' : 'Start Video';
  }
  $('#preview-audio-control-button').addEventListener('click', () => { if (micGranted) { preview.mic = !preview.mic; syncPreview(); } });
  $('#preview-video-control-button').addEventListener('click', () => { if (cameraOn) { preview.camera = !preview.camera; syncPreview(); } });

  // "Use microphone and camera": "Allow" asks for both; when the camera is refused the prompt
  // comes back for the microphone alone (docs/PLATFORMS.md, Zoom "Click Allow").
  let promptStep = 'both';
  function answered(allowed) {
    $('#media-prompt').hidden = true;
    computerAudio = allowed && micGranted;
    preview.mic = micGranted;
    preview.camera = cameraOn;
    syncPreview();
    report('media_prompt_answered', { allowed, step: promptStep, mic_granted: micGranted });
  }
  $('#media-allow').addEventListener('click', async () => {
    if (promptStep === 'both') {
      const given = await sim.media.both();
      micGranted = given.mic;
      cameraOn = given.camera;
      if (!cameraOn) {
        report('media_prompt_answered', { allowed: true, step: 'both', mic_granted: micGranted });
        promptStep = 'microphone';
        $('#media-prompt-title').textContent = 'Use microphone';
        return;
      }
    } else {
      micGranted = await sim.media.microphone();
    }
    answered(true);
  });
  $('#media-continue-without').addEventListener('click', () => answered(false));

  // The call's footer.
  function syncFooter() {
    const audio = $('#audio-button');
    if (!sim.audio) { audio.setAttribute('aria-label', 'join audio'); audio.textContent = 'Join Audio'; }
    else {
      audio.setAttribute('aria-label', sim.self.micOn ? 'mute my microphone' : 'unmute my microphone');
      audio.textContent = sim.self.micOn ? 'Mute' : 'Unmute';
    }
    $('#video-button').setAttribute('aria-label', sim.self.cameraOn ? 'stop my video' : 'start my video');
    $('#video-button').textContent = sim.self.cameraOn ? 'Stop Video' : 'Start Video';
  }
  $('#audio-button').addEventListener('click', async () => {
    if (!sim.audio) {
      micGranted = await sim.media.microphone();
      computerAudio = micGranted;
      report('join_audio_clicked', { mic_granted: micGranted });
      if (computerAudio) await sim.startAudio();
    } else {
      sim.mediaChanged(!sim.self.micOn, sim.self.cameraOn);
    }
    syncFooter();
  });
  $('#video-button').addEventListener('click', () => { if (cameraOn) { sim.mediaChanged(sim.self.micOn, !sim.self.cameraOn); syncFooter(); } });
  // Leaving takes a confirmation.
  $('#footer-leave').addEventListener('click', () => { $('#leave-options').hidden = false; });
  $('.leave-meeting-options__btn--danger').addEventListener('click', () => sim.leave());
  $('.leave-btn').addEventListener('click', () => sim.leave());
  $('#participants-button').addEventListener('click', (e) => {
    const panel = $('#participants-panel');
    panel.hidden = !panel.hidden;
    if (!panel.hidden) report('participants_panel_opened', { trusted: e.isTrusted });
  });
  $('#sign-in-button').addEventListener('click', () => sim.redirectToSignIn());

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    report = throttled((type, data) => sim.report(type, data), 2);
    showFooter = autoHide($('#foot-bar'), sim.options.toolbar_hides_after_s,
      { trustedOnly: false, report: (type) => sim.report(type) });
    const access = sim.config.access;
    if (access === 'sign_in_required') {
      screen('screen-sign-in');
      sim.report('sign_in_prompt_shown');
      return;
    }
    if (access === 'open' && !sim.config.visit.host_started) {
      // The host has not started the meeting: this page stays as it is until reloaded.
      const waiting = sim.options.not_started_screen === 'waiting_for_host';
      document.title = waiting ? 'Zoom' : 'Error - Zoom';
      $('#not-started-text').textContent = waiting ? 'Waiting for the host to start this meeting'
        : 'This meeting link is invalid (3,001)';
      screen('screen-not-started');
      sim.report('not_started_shown', { load_index: sim.config.visit.load_index });
      return;
    }
    pwdInput.hidden = new URL(window.location.href).searchParams.has('pwd');
    $('.wr-title').textContent = 'Meeting ' + (sim.config.meeting_id || '');
    syncPreview();
    updateJoin();
    screen('screen-preview');
    sim.report('prejoin_shown', { load_index: sim.config.visit.load_index });
  }).catch(() => {});
})();
