import type { Session, SessionState } from '../gateway/session.js';

/** One device as /api/status, the status page and `mqttsn-gateway status` show it. */
export interface DeviceView {
  readonly clientId: string;
  readonly state: SessionState;
  /** Radio URL and the device's address on it; absent for a gone device restored from the data directory. */
  readonly radio?: string;
  readonly address?: string;
  /** ISO time the device was last heard from. */
  readonly lastSeen: string;
  /** Keep-alive in seconds from CONNECT (0: none). */
  readonly keepAlive: number;
  /** Sleep duration in seconds, for a sleeping device. */
  readonly sleepDuration?: number;
  readonly cleanSession: boolean;
  readonly subscriptions: ReadonlyArray<{ readonly filter: string; readonly qos: number }>;
  /** Messages held for the device (in memory and in the store) and their payload bytes. */
  readonly held: number;
  readonly heldBytes: number;
  /** dBm of its last frame, where the radio measures it (XBee). */
  readonly rssi?: number;
}

export function deviceView(session: Session): DeviceView {
  const { peer } = session;
  const asleep = session.state === 'asleep' || session.state === 'awake';
  return {
    clientId: session.clientId,
    state: session.state,
    ...(peer.address !== '' ? { radio: peer.radio.name, address: peer.address } : {}),
    lastSeen: new Date(session.lastSeen).toISOString(),
    keepAlive: session.keepAlive,
    ...(asleep ? { sleepDuration: session.sleepDuration } : {}),
    cleanSession: session.cleanSession,
    subscriptions: [...session.subscriptions.values()].map(({ filter, qos }) => ({ filter, qos })),
    held: session.heldCount,
    heldBytes: session.heldBytes,
    ...(session.rssi !== undefined ? { rssi: session.rssi } : {}),
  };
}

/**
 * The devices most recently heard from first, at most `limit` of them: a gateway with 100,000
 * sessions answers with a page, not 30 MB of JSON, and says how many there are in all. Only the
 * page is sorted (the cut-off comes from a typed-array sort of the times): a status page open on a
 * big gateway must not hold datagrams up behind a 100,000-object sort every two seconds.
 */
export function deviceViews(sessions: Iterable<Session>, limit: number): { total: number; devices: DeviceView[] } {
  const all = [...sessions];
  let page = all;
  if (all.length > limit) {
    const times = Float64Array.from(all, (session) => session.lastSeen).sort();
    const cutoff = limit > 0 ? times[times.length - limit]! : Infinity;
    page = all.filter((session) => session.lastSeen >= cutoff);
  }
  page.sort((a, b) => b.lastSeen - a.lastSeen || (a.clientId < b.clientId ? -1 : 1));
  return { total: all.length, devices: page.slice(0, limit).map(deviceView) };
}
