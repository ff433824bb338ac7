// Microsoft Teams web client imitation (docs/PLATFORMS.md, "Microsoft Teams"): the launcher
// that tries the desktop app, the light-meetings pre-join with its switches and the
// "Continue without audio or video" modal, the lobby, the call with a voice outline on every
// tile, the People pane, the retry screen shared by denial and removal, and the anonymous
// end screen. Audio: the meeting mix in a "mainAudio" stream plus a duplicate of it.
(function () {
  'use strict';
  const { $, el, screen, avatar } = window.simDom;
  // The duplicate track lags the mix a little, so a bot that mixes both hears every word twice.
  const DUPLICATE_DELAY_S = 0.35;
  // The light-meetings pre-join moves to lightExperience=false this long after it shows.
  const LIGHT_REDIRECT_MS = 1200;
  const LAUNCHER_DIRECT_MS = 800;
  let sim;
  let micGranted = false;

  const audioChoice = () => ($('input[name="audio"]:checked') || {}).value;
  const mainAudioId = 'mainAudio-' + Math.random().toString(16).slice(2, 10);

  const skin = {
    // One meeting mix plus a redundant track whose sound is already in it (docs/PLATFORMS.md,
    // Teams "One meeting mix plus duplicates"); only the mix plays in the page. The duplicate
    // arrives first, so a bot that waits for the mix must let go of it.
    audio: {
      spread: 'all',
      tracks: [{ delayS: DUPLICATE_DELAY_S, attach: false }, { streamId: mainAudioId }],
    },
    // Without the microphone permission, or with "Don't use audio", the call plays nothing.
    audioOnAdmit: () => micGranted && audioChoice() === 'computer',
    reconnectingText: 'Reconnecting…',
    showFatal(message) { $('#error-detail').textContent = message; screen('screen-error'); },
    showLobby() {
      $('#lobby-greeting').textContent = `Hi, ${sim.self.name}`;
      screen('screen-lobby');
    },
    showBlocked() { screen('screen-captcha'); },
    showMeeting() {
      screen('screen-meeting'); setMediaButtons();
      window.simDom.meetingTitle($('[data-tid="call-title"]'), sim.config.title);
    },
    showDenied() {
      retryScreen(sim.options.denied_text === 'declined' ? 'Your request to join was declined'
        : 'Sorry, but you were denied access to the meeting.');
    },
    showRemoved() { retryScreen("You've been removed from this meeting"); },
    showEnded() { screen('screen-ended'); },
    showLeft() { screen('screen-left'); },
    renderRoster(people) {
      $('#stage').replaceChildren(...people.map(tile));
      $('#roster').replaceChildren(...people.map((p) => el('div', {
        role: 'treeitem', 'data-cid': 'roster-participant',
        'aria-label': [p.name, p.isSelf ? 'Unverified' : null, p.micOn ? 'Unmuted' : 'Muted'].filter(Boolean).join(', '),
      }, avatar(p.name), el('span', { text: p.name }))));
      $('#roster-count').textContent = String(people.length);
    },
    setSpeaking(id, on) {
      const outline = document.querySelector(`[data-sim-id="${id}"] [data-tid="voice-level-stream-outline"]`);
      if (outline) outline.classList.toggle('vdi-frame-occlusion', on);
    },
  };

  // Every tile has the voice-level outline; only the speaker's carries vdi-frame-occlusion,
  // and only while they speak. The display name is the wrapper's data-tid.
  function tile(p) {
    return el('div', { className: 'tile', 'data-stream-type': 'Video', 'data-tid': p.name, 'data-sim-id': p.id },
      el('div', { 'data-tid': 'voice-level-stream-outline', className: sim.isSpeaking(p.id) ? 'vdi-frame-occlusion' : null }),
      avatar(p.name),
      el('div', { className: 'tile-name', 'data-tid': 'participant-info-nametag', text: p.name }),
      p.isSelf ? el('div', { className: 'self-marker', 'data-tid': 'myself-video', text: 'Your video' }) : null);
  }

  function retryScreen(title) {
    $('#calling-retry-screen-title').textContent = title;
    screen('screen-retry');
  }

  // Pre-join switches: input[type=checkbox][role=switch]; the state is the checked property,
  // the checked attribute and aria-checked together.
  const nameInput = $('[data-tid="prejoin-display-name-input"]');
  const joinButton = $('[data-tid="prejoin-join-button"]');
  const switches = { mic: $('[data-tid="toggle-mute"]'), camera: $('[data-tid="toggle-video"]') };
  function setSwitch(input, on) {
    input.checked = on;
    input.toggleAttribute('checked', on);
    input.setAttribute('aria-checked', String(on));
    $('#mic-status').textContent = switches.mic.checked ? '' : 'Your microphone is muted';
    $('#camera-status').textContent = switches.camera.checked ? '' : 'Your camera is turned off';
  }
  for (const input of Object.values(switches)) {
    input.addEventListener('change', () => setSwitch(input, input.checked));
  }
  $('#continue-without-av').addEventListener('click', () => {
    $('#av-dialog').hidden = true;
    sim.report('interstitial_dismissed', { which: 'continue_without_audio_video' });
  });
  // The join button never carries `disabled`: without a name it says so instead.
  joinButton.addEventListener('click', () => {
    if (!$('#av-dialog').hidden) return; // the modal is in the way
    const name = nameInput.value.trim();
    $('#name-error').hidden = Boolean(name);
    if (!name) return;
    sim.requestJoin(name, switches.mic.checked && audioChoice() === 'computer', switches.camera.checked);
  });

  async function showPrejoin() {
    if (sim.config.access === 'invalid_meeting') { screen('screen-invalid'); return; }
    setSwitch(switches.mic, false);
    setSwitch(switches.camera, false);
    screen('screen-prejoin');
    sim.report('prejoin_shown');
    if (sim.config.visit.light_redirect) {
      // Once per meeting the service moves the join to an address it cannot go on from.
      sim.report('light_experience_redirect', { to: sim.links.light_disabled });
      setTimeout(() => { window.location.href = sim.links.light_disabled; }, LIGHT_REDIRECT_MS);
    }
    micGranted = await sim.media.microphone();
    const camera = await sim.media.cameraOnly();
    setSwitch(switches.mic, micGranted);
    setSwitch(switches.camera, camera);
    switches.mic.disabled = !micGranted;
    switches.camera.disabled = !camera;
    // A page without the microphone asks first (docs/PLATFORMS.md, "Every platform").
    if (!micGranted) $('#av-dialog').hidden = false;
  }

  // In-meeting controls: each says the action it offers.
  function setMediaButtons() {
    $('#microphone-button').setAttribute('aria-label', sim.self.micOn ? 'Mute mic' : 'Unmute mic');
    $('#video-button').setAttribute('aria-label', sim.self.cameraOn ? 'Turn camera off' : 'Turn camera on');
  }
  $('#microphone-button').addEventListener('click', () => { sim.mediaChanged(!sim.self.micOn, sim.self.cameraOn); setMediaButtons(); });
  $('#video-button').addEventListener('click', () => { sim.mediaChanged(sim.self.micOn, !sim.self.cameraOn); setMediaButtons(); });
  $('#hangup-button').addEventListener('click', () => sim.leave());
  $('[data-tid="prejoin-cancel-button"]').addEventListener('click', () => sim.leave());
  $('#roster-button').addEventListener('click', (e) => {
    const pane = $('#people-pane');
    pane.hidden = !pane.hidden;
    if (!pane.hidden) sim.report('participants_panel_opened', { trusted: e.isTrusted });
  });

  // The launcher hands the meeting to the desktop app first, then offers the browser.
  function continueInBrowser() {
    if (sim.config.access === 'sign_in_required') { sim.redirectToSignIn(); return; }
    window.location.href = sim.links.light_meetings;
  }
  $('#launcher-browser').addEventListener('click', continueInBrowser);
  $('#launcher-app').addEventListener('click', () => sim.launchDesktopApp(sim.links.app, 'launcher_button'));

  function pageKind() {
    const path = window.location.pathname.replace(/\/$/, '');
    if (path === '/dl/launcher/launcher.html' || path === '/_') return 'launcher';
    if (window.location.search.includes('lightExperience=false')) return 'light_disabled';
    return 'prejoin';
  }

  window.SimMeeting.open(skin).then((opened) => {
    sim = opened;
    const kind = pageKind();
    if (kind === 'launcher') {
      sim.launchDesktopApp(sim.links.app, 'launcher');
      if (sim.options.launcher === 'direct') setTimeout(continueInBrowser, LAUNCHER_DIRECT_MS);
      else screen('screen-launcher');
    } else if (kind === 'light_disabled') {
      // Nothing here ever finishes loading: the join has to be started again.
      sim.report('light_experience_page');
    } else {
      showPrejoin();
    }
  }).catch(() => {});
})();
