// Zoom web client imitation (React variant): media prompt answered "Allow" or not, preview
// with name (and passcode when the link has none), waiting room, gallery with an active
// speaker frame, "N participants" in the footer, and the end screens.
(function () {
  'use strict';
  const { $, el, screen, initials, gate, hueOf } = window.simDom;
  let sim;
  let mediaAllowed = false;
  const preview = { mic: false, camera: false };

  const skin = {
    audioChannels: 1, // Zoom delivers one mixed stream
    // Without "Allow" the client never joins computer audio: no remote audio element appears.
    audioOnAdmit: () => mediaAllowed,
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() { screen('screen-waiting'); },
    showBlocked() { screen('screen-blocked'); },
    showMeeting() { screen('screen-meeting'); syncFooter(); },
    showDenied() { screen('screen-denied'); },
    showRemoved() { screen('screen-removed'); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('.gallery-video-container__main-view').replaceChildren(...people.map((p) => el('div',
        { className: 'tile video-avatar__avatar', 'data-user': p.id },
        el('div', { className: 'avatar', style: `background:hsl(${hueOf(p.name)},45%,45%)`, text: initials(p.name) }),
        el('div', { className: 'tile-name video-avatar__avatar-footer' }, el('span', { className: 'video-avatar__avatar-name', text: p.name })))));
      $('.participants-ul').replaceChildren(...people.map((p) => el('li', { className: 'participants-item', 'data-user': p.id },
        el('span', { className: 'participants-item__display-name', text: p.name }),
        p.isSelf ? el('span', { className: 'participants-item__name-label', text: '(Me)' }) : null)));
      $('.footer-button__number-counter').textContent = String(people.length);
      $('#participants-button').setAttribute('aria-label', `open the participants list pane [${people.length} participants]`);
      renderActiveSpeaker();
    },
    setSpeaking() { renderActiveSpeaker(); },
  };

  // The active speaker frame exists only while someone is talking.
  function renderActiveSpeaker() {
    const speaker = sim.roster().find((p) => !p.isSelf && sim.isSpeaking(p.id));
    const holder = $('.speaker-active-container');
    holder.replaceChildren(speaker ? el('div', { className: 'speaker-active-container__video-frame', 'data-user': speaker.id },
      el('div', { className: 'avatar', style: `background:hsl(${hueOf(speaker.name)},45%,45%)`, text: initials(speaker.name) }),
      el('div', { className: 'tile-name video-avatar__avatar-footer' }, el('span', { className: 'video-avatar__avatar-name', text: speaker.name })))
      : '');
  }

  // Preview.
  const nameInput = $('#input-for-name');
  const pwdInput = $('#input-for-pwd');
  const joinButton = $('.preview-join-button');
  function syncPreview() {
    const audio = $('#preview-audio-control-button');
    const video = $('#preview-video-control-button');
    audio.setAttribute('aria-label', preview.mic ? 'Mute' : 'Unmute');
    audio.textContent = preview.mic ? 'Mute' : 'Unmute';
    video.setAttribute('aria-label', preview.camera ? 'Stop Video' : 'Start Video');
    video.textContent = preview.camera ? 'Stop Video' : 'Start Video';
  }
  $('#preview-audio-control-button').addEventListener('click', () => { if (mediaAllowed) { preview.mic = !preview.mic; syncPreview(); } });
  $('#preview-video-control-button').addEventListener('click', () => { if (mediaAllowed) { preview.camera = !preview.camera; syncPreview(); } });
  const answerPrompt = (allow) => () => {
    mediaAllowed = allow;
    preview.mic = allow; preview.camera = allow;
    $('#media-prompt').hidden = true;
    sim.report('media_prompt_answered', { allowed: allow });
    syncPreview();
  };
  $('#media-allow').addEventListener('click', answerPrompt(true));
  $('#media-block').addEventListener('click', answerPrompt(false));
  const updateJoin = gate(joinButton, [() => nameInput.value.trim().length > 0, () => pwdInput.hidden || pwdInput.value.length > 0]);
  joinButton.addEventListener('click', () => {
    if (!$('#media-prompt').hidden || joinButton.disabled) return;
    sim.requestJoin(nameInput.value.trim(), preview.mic, preview.camera);
  });

  // In-meeting footer.
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
  $('#audio-button').addEventListener('click', () => {
    if (!sim.audio) { mediaAllowed = true; sim.startAudio(); } else sim.mediaChanged(!sim.self.micOn, sim.self.cameraOn);
    syncFooter();
  });
  $('#video-button').addEventListener('click', () => { sim.mediaChanged(sim.self.micOn, !sim.self.cameraOn); syncFooter(); });
  $('.footer__leave-btn').addEventListener('click', () => sim.leave());
  $('#participants-button').addEventListener('click', () => { const side = $('.participants-section-container'); side.hidden = !side.hidden; });

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    const access = sim.config.access;
    if (access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    if (access === 'invalid_meeting') { document.title = 'Error - Zoom'; screen('screen-invalid'); return; }
    if (access === 'blocked') { sim.block(); return; }
    pwdInput.hidden = new URL(window.location.href).searchParams.has('pwd');
    $('.wr-title').textContent = 'Meeting ' + (sim.config.meeting_id || '');
    syncPreview();
    updateJoin();
    screen('screen-preview');
    sim.report('prejoin_shown');
  }).catch(() => {});
})();
