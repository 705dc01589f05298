import type { DeviceView } from './device-view.js';

/** What /api/status answers, as far as the terminal view reads it. */
export interface StatusAnswer {
  readonly gateway: {
    readonly version: string;
    readonly gatewayId: number;
    readonly uptimeSeconds: number;
    readonly broker: string;
    readonly sessions: number;
    readonly sessionsByState: Record<string, number>;
    readonly heldForDevices: number;
    readonly upstream: { readonly state: string; readonly held: number; readonly lastError?: string };
    readonly radios: Record<string, Record<string, number>>;
    readonly stats: Record<string, number>;
  };
  readonly devicesTotal: number;
  readonly devices: readonly DeviceView[];
}

const duration = (seconds: number): string => (seconds >= 86_400 ? `${(seconds / 86_400).toFixed(1)}d` : seconds >= 3600 ? `${(seconds / 3600).toFixed(1)}h` : seconds >= 60 ? `${Math.round(seconds / 60)}m` : `${seconds}s`);

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!))).join('  ')).join('\n');
}

/** The terminal view of `mqttsn-gateway status`: the gateway, its radios and broker, then one line per device. */
export function formatStatus(status: StatusAnswer, now = Date.now()): string {
  const g = status.gateway;
  const s = g.sessionsByState;
  const lines = [
    `gateway ${g.gatewayId}  version ${g.version}  up ${duration(g.uptimeSeconds)}`,
    `broker  ${g.broker}  ${g.upstream.state}${g.upstream.held > 0 ? `  ${g.upstream.held} held for it` : ''}${g.upstream.lastError ? `  (${g.upstream.lastError})` : ''}`,
    ...Object.entries(g.radios).map(([url, counters]) => `radio   ${url}  ${Object.entries(counters).map(([name, value]) => `${name} ${value}`).join(', ')}`),
    `devices ${g.sessions}: ${s.active ?? 0} online, ${(s.asleep ?? 0) + (s.awake ?? 0)} asleep, ${(s.lost ?? 0) + (s.disconnected ?? 0)} offline; ${g.heldForDevices} messages held for them`,
    `traffic ${g.stats.datagramsIn ?? 0} datagrams in, ${g.stats.datagramsOut ?? 0} out, ${g.stats.malformed ?? 0} malformed, ${g.stats.congestion ?? 0} congestion answers`,
    '',
  ];
  if (status.devices.length === 0) return [...lines, 'no devices'].join('\n') + '\n';
  const rows = [
    ['CLIENT ID', 'STATE', 'RADIO', 'ADDRESS', 'LAST SEEN', 'KEEP-ALIVE', 'HELD', 'RSSI', 'SUBSCRIPTIONS'],
    ...[...status.devices]
      .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
      .map((device) => [
        JSON.stringify(device.clientId).slice(1, -1), // control characters escaped, never sent to the terminal
        device.state,
        device.radio ?? '-',
        device.address ?? '-',
        `${duration(Math.max(0, Math.round((now - Date.parse(device.lastSeen)) / 1000)))} ago`,
        device.sleepDuration !== undefined ? `sleeps ${duration(device.sleepDuration)}` : device.keepAlive > 0 ? duration(device.keepAlive) : '-',
        String(device.held),
        device.rssi !== undefined ? `${device.rssi} dBm` : '-',
        device.subscriptions.map((sub) => `${JSON.stringify(sub.filter).slice(1, -1)}:${sub.qos}`).join(' ') || '-',
      ]),
  ];
  const more = status.devicesTotal > status.devices.length ? `\n(${status.devices.length} of ${status.devicesTotal} devices shown, most recently seen)` : '';
  return [...lines, table(rows)].join('\n') + more + '\n';
}
