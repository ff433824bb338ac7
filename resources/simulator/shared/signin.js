// Sign-in pages: tell the simulator which meeting page sent the browser here.
(function () {
  'use strict';
  const page = new URLSearchParams(window.location.search).get('sim_page');
  if (!page) return;
  fetch('/__sim/events', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ page_id: page, type: 'sign_in_shown', data: { href: window.location.href } }),
  }).catch(() => {});
})();
