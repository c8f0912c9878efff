// machine-health dashboard: the live stream (GET api/stream, server-sent
// events, docs/api.md "Live stream") shared by the overview (app.js) and
// the machine page (machine.js). One EventSource per page; on an error it is
// closed and opened again after a delay that doubles up to 30 s (reset by a
// successful connection), resuming after the last event seen.
'use strict';

window.Live = (function () {
  const FIRST_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  const handlers = { window: [], state: [], reset: [], up: [], down: [] };
  let source = null;
  let lastId = '';
  let delay = FIRST_DELAY_MS;
  let connected = false;
  let retries = 0;

  function emit(kind, data) {
    for (const f of handlers[kind]) {
      try { f(data); } catch (e) { console.error(e); }
    }
  }

  function connect() {
    const url = 'api/stream' + (lastId ? '?last_event_id=' + encodeURIComponent(lastId) : '');
    source = new EventSource(url);
    const track = (e) => { if (e.lastEventId) lastId = e.lastEventId; };
    source.addEventListener('hello', (e) => {
      track(e);
      delay = FIRST_DELAY_MS;
      connected = true;
      emit('up', JSON.parse(e.data));
    });
    for (const kind of ['window', 'state']) {
      source.addEventListener(kind, (e) => { track(e); emit(kind, JSON.parse(e.data)); });
    }
    // The server could not resume (events too old, or a restarted server):
    // what was missed must be fetched again through the JSON API.
    source.addEventListener('reset', (e) => { track(e); emit('reset', JSON.parse(e.data)); });
    source.onerror = () => {
      source.close();
      source = null;
      if (connected) emit('down', {});
      connected = false;
      retries++;
      setTimeout(connect, delay);
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    };
  }

  // ?live=off in the page's address: no stream, the pages poll (for clients
  // that wait for the network to go idle, e.g. chromium --virtual-time-budget).
  const off = new URLSearchParams(location.search).get('live') === 'off';

  // on('window'|'state'|'reset'|'up'|'down', f): f(data) for each event.
  function on(kind, f) {
    handlers[kind].push(f);
    if (!source && !off) connect();
  }

  return {
    on,
    isConnected: () => connected,
    lastEventId: () => lastId,
    retries: () => retries,
  };
})();
