/**
 * The status page: one static HTML document with its script and style inline (no build step, no
 * external assets, works offline on a Pi). It polls /api/status and renders with textContent only:
 * client IDs and topics come from devices and are never trusted as HTML.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MQTT-SN gateway</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2430; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .sub { color: #5b6472; font-size: .9rem; }
  .cards { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1rem; }
  .card { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: .6rem .9rem; min-width: 8rem; }
  .card b { display: block; font-size: 1.3rem; }
  .card span { color: #5b6472; font-size: .8rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde1e7; font-size: .9rem; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #eceff3; vertical-align: top; }
  th { background: #eef1f5; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: .8rem; font-weight: 600; }
  .state.active, .state.connected { background: #d8f3dc; color: #1b5e20; }
  .state.asleep, .state.awake { background: #e3e8fd; color: #283593; }
  .state.connecting { background: #fff3cd; color: #7a5b00; }
  .state.lost, .state.disconnected, .state.offline, .state.closed { background: #f8d7da; color: #842029; }
  #error { color: #842029; margin-top: .5rem; }
  form { margin-top: 1rem; }
  code { font-size: .85rem; }
</style>
</head>
<body>
<h1>MQTT-SN gateway <span id="gateway-id"></span></h1>
<div class="sub"><span id="version"></span> · up <span id="uptime"></span> · updated <span id="updated">never</span></div>
<div id="error" hidden></div>
<form id="token-form" hidden>
  <label>Token (http.token): <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">Show</button>
</form>
<div class="cards" id="cards"></div>
<h2>Broker</h2>
<table><thead><tr><th>URL</th><th>State</th><th>Held for the broker</th><th>Last error</th></tr></thead>
<tbody><tr><td id="broker-url"></td><td><span id="broker-state" class="state"></span></td><td id="broker-held" class="num"></td><td id="broker-error"></td></tr></tbody></table>
<h2>Radios</h2>
<table><thead><tr><th>Radio</th><th>Counters</th></tr></thead><tbody id="radios"></tbody></table>
<h2>Devices <span class="sub" id="devices-count"></span></h2>
<table>
  <thead><tr><th>Client ID</th><th>State</th><th>Radio</th><th>Address</th><th>Last seen</th><th>Keep-alive / sleep</th><th>Subscriptions</th><th>Held</th><th>RSSI</th></tr></thead>
  <tbody id="devices"></tbody>
</table>
<script>
(() => {
  'use strict';
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);
  let token = new URLSearchParams(location.hash.slice(1)).get('token') || localStorage.getItem('mqttsn-token') || '';

  const cell = (row, text, className) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  };
  const badge = (state) => {
    const span = document.createElement('span');
    span.className = 'state ' + state;
    span.textContent = state;
    return span;
  };
  const ago = (iso) => {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return seconds + ' s ago';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min ago';
    if (seconds < 86400) return Math.round(seconds / 3600) + ' h ago';
    return Math.round(seconds / 86400) + ' d ago';
  };
  const duration = (seconds) => seconds >= 3600 ? (seconds / 3600).toFixed(1) + ' h' : seconds >= 60 ? Math.round(seconds / 60) + ' min' : seconds + ' s';
  const card = (label, value) => {
    const div = document.createElement('div');
    div.className = 'card';
    const b = document.createElement('b');
    b.textContent = String(value);
    const span = document.createElement('span');
    span.textContent = label;
    div.append(b, span);
    return div;
  };

  function render(status) {
    const g = status.gateway;
    $('gateway-id').textContent = '#' + g.gatewayId;
    $('version').textContent = 'version ' + g.version;
    $('uptime').textContent = duration(g.uptimeSeconds);
    $('updated').textContent = new Date().toLocaleTimeString();
    const s = g.sessionsByState;
    $('cards').replaceChildren(
      card('devices', g.sessions), card('online', s.active), card('asleep', s.asleep + s.awake), card('offline', s.lost + s.disconnected),
      card('held for devices', g.heldForDevices), card('datagrams in', g.stats.datagramsIn), card('datagrams out', g.stats.datagramsOut),
      card('dropped (malformed)', g.stats.malformed), card('congestion answers', g.stats.congestion), card('memory MiB', g.memory.rss));
    $('broker-url').textContent = g.broker;
    const state = $('broker-state');
    state.className = 'state ' + g.upstream.state;
    state.textContent = g.upstream.state;
    $('broker-held').textContent = String(g.upstream.held);
    $('broker-error').textContent = g.upstream.lastError || '';
    $('radios').replaceChildren(...Object.entries(g.radios).map(([url, counters]) => {
      const row = document.createElement('tr');
      cell(row, url);
      cell(row, Object.entries(counters).map(([name, value]) => name + ' ' + value).join(' · '));
      return row;
    }));
    const devices = [...status.devices].sort((a, b) => a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0);
    $('devices-count').textContent = status.devicesTotal > devices.length ? '(' + devices.length + ' of ' + status.devicesTotal + ', most recently seen)' : '(' + devices.length + ')';
    $('devices').replaceChildren(...devices.map((device) => {
      const row = document.createElement('tr');
      row.dataset.clientId = device.clientId;
      cell(row, device.clientId);
      cell(row, '').appendChild(badge(device.state));
      cell(row, device.radio || '');
      cell(row, device.address || '');
      cell(row, ago(device.lastSeen)).title = device.lastSeen;
      cell(row, device.sleepDuration !== undefined ? 'sleeps ' + duration(device.sleepDuration) : device.keepAlive ? duration(device.keepAlive) : 'none');
      cell(row, device.subscriptions.map((sub) => sub.filter + ' (QoS ' + sub.qos + ')').join(', '));
      cell(row, String(device.held), 'num');
      cell(row, device.rssi !== undefined ? device.rssi + ' dBm' : '', 'num');
      return row;
    }));
  }

  async function poll() {
    try {
      const response = await fetch('api/status', { headers: token ? { authorization: 'Bearer ' + token } : {}, cache: 'no-store' });
      if (response.status === 401) {
        $('token-form').hidden = false;
        $('error').hidden = false;
        $('error').textContent = token ? 'The token was refused.' : 'This gateway needs its token (http.token).';
        return;
      }
      if (!response.ok) throw new Error('HTTP ' + response.status);
      render(await response.json());
      $('error').hidden = true;
      $('token-form').hidden = true;
    } catch (error) {
      $('error').hidden = false;
      $('error').textContent = 'Gateway unreachable: ' + error.message;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value;
    localStorage.setItem('mqttsn-token', token);
  });
  poll();
})();
</script>
</body>
</html>
`;
