import type { Logger } from '../log.js';
import type { Session, SessionState } from '../gateway/session.js';
import { isValidTopicName } from '../topics/names.js';
import { InvalidTopicError, type Upstream, type UpstreamMessage } from '../upstream/upstream.js';

/** What the retained device-state topic says; `awake` (a sleeper collecting its messages) stays `asleep`. */
export type DeviceState = 'online' | 'asleep' | 'offline';

export function deviceState(state: SessionState): DeviceState | undefined {
  switch (state) {
    case 'active':
      return 'online';
    case 'asleep':
    case 'awake':
      return 'asleep';
    case 'disconnected':
    case 'lost':
      return 'offline';
    default:
      return undefined; // connecting: not answered yet
  }
}

/** A client ID as one topic level: `/`, `+`, `#` (and `%`, the escape) percent-encoded, so no ID adds levels or wildcards. */
export function topicLevel(clientId: string): string {
  return clientId.replace(/[%/+#]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface StatusTopics {
  /** `<prefix>/<gatewayId>/state`: `online` while connected, `offline` as the will. */
  readonly gateway: string;
  device(clientId: string): string;
}

export function statusTopics(prefix: string, gatewayId: number): StatusTopics {
  const base = `${prefix}/${gatewayId}`;
  return { gateway: `${base}/state`, device: (clientId) => `${base}/device/${topicLevel(clientId)}/state` };
}

/** The gateway's will on its broker connection: a SIGKILLed or cut-off gateway shows offline. */
export function gatewayWill(topics: StatusTopics): UpstreamMessage {
  return { topic: topics.gateway, payload: Buffer.from('offline'), qos: 1, retain: true };
}

/** State publishes in flight at once: the rest wait, coalesced per device, so a burst never queues at the broker link. */
const MAX_IN_FLIGHT = 64;

const CLEAR = Buffer.alloc(0);

export interface DeviceStateOptions {
  /** The gateway's own broker connection (not store-and-forward: only the latest state matters). */
  readonly link: Upstream;
  readonly topics: StatusTopics;
  /** Devices gone from the session table whose `offline` stays retained; beyond it the longest gone is cleared. */
  readonly maxOfflineDevices: number;
  readonly logger: Logger;
}

/**
 * Publishes each device's state, retained, whenever it changes. While the broker link is down or
 * 64 state publishes are unacknowledged, only the latest state per device waits (a device flapping
 * a thousand times costs one pending entry), so what waits is bounded by the session table plus
 * `maxOfflineDevices`, and what the broker retains too.
 */
export class DeviceStatePublisher {
  /** Payloads not yet handed to the broker link, one per client ID, oldest change first. */
  private readonly pending = new Map<string, Buffer>();
  /** The last state queued per client ID, so an unchanged state is not published again. */
  private readonly last = new Map<string, DeviceState>();
  /** Client IDs gone from the session table whose `offline` is retained, longest gone first. */
  private readonly gone = new Set<string>();
  private inFlight = 0;
  private flushQueued = false;
  private stopped = false;

  constructor(private readonly options: DeviceStateOptions) {
    options.link.on('state', (state) => {
      if (state !== 'connected' || this.stopped) return;
      this.publishGateway('online');
      this.schedule();
    });
  }

  /** Waiting to be published (for status output and tests). */
  get waiting(): number {
    return this.pending.size;
  }

  /** A session changed state; `inTable` is false once it left the session table (a clean session ended). */
  changed(session: Session, inTable: boolean): void {
    const state = deviceState(session.state);
    if (!state) return;
    const { clientId } = session;
    if (!inTable && !this.last.has(clientId)) return; // refused before it was ever online: nothing to say
    if (inTable) this.gone.delete(clientId);
    else if (!this.rememberGone(clientId)) return; // maxOfflineDevices 0: cleared at once
    if (this.last.get(clientId) === state) return;
    this.last.set(clientId, state);
    const address = session.peer.address;
    const payload = JSON.stringify({
      state,
      ...(address !== '' ? { radio: session.peer.radio.name, address } : {}),
      lastSeen: new Date(session.lastSeen).toISOString(),
    });
    this.queue(clientId, Buffer.from(payload));
  }

  /** Every session's state again (at start: what the broker retains may predate a crash). */
  publishAll(sessions: Iterable<Session>): void {
    for (const session of sessions) {
      this.last.delete(session.clientId);
      this.changed(session, true);
    }
  }

  /** The session was deleted for good (evicted, expired): its retained state is removed from the broker. */
  forget(clientId: string): void {
    this.gone.delete(clientId);
    this.last.delete(clientId);
    this.queue(clientId, CLEAR);
  }

  /** At a clean stop (the will is not published then): says `offline` and waits briefly for the broker. */
  async stop(timeoutMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.options.link.state !== 'connected') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.publishGateway('offline', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** False when the device's own retained state had to go to stay within maxOfflineDevices. */
  private rememberGone(clientId: string): boolean {
    this.gone.delete(clientId);
    this.gone.add(clientId);
    if (this.gone.size > this.options.maxOfflineDevices) {
      for (const oldest of this.gone) {
        this.forget(oldest);
        break;
      }
    }
    return this.gone.has(clientId);
  }

  /** Straight out while the link keeps up (every change is published); coalesced per device only while it does not. */
  private queue(clientId: string, payload: Buffer): void {
    if (this.pending.size === 0 && this.inFlight < MAX_IN_FLIGHT && this.options.link.state === 'connected' && !this.stopped) {
      this.send(clientId, payload);
      return;
    }
    this.pending.delete(clientId); // to the back: the order is that of the latest changes
    this.pending.set(clientId, payload);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.options.link.state !== 'connected') return; // resumed by the next `connected`
    for (const [clientId, payload] of this.pending) {
      if (this.inFlight >= MAX_IN_FLIGHT) return; // resumed as acknowledgements come
      this.pending.delete(clientId);
      this.send(clientId, payload);
    }
  }

  private send(clientId: string, payload: Buffer): void {
    const topic = this.options.topics.device(clientId);
    if (!isValidTopicName(topic)) {
      this.options.logger.debug({ clientId }, 'device state not published: the client ID makes too long a topic');
      return;
    }
    this.inFlight++;
    this.options.link.publish({ topic, payload, qos: 1, retain: true }, (error) => {
      this.inFlight--;
      // Lost with the connection: sent again after the reconnect, unless a newer state waits.
      if (error && !(error instanceof InvalidTopicError) && !this.pending.has(clientId)) this.pending.set(clientId, payload);
      if (this.pending.size > 0) this.schedule();
    });
  }

  private publishGateway(state: 'online' | 'offline', done?: () => void): void {
    this.options.link.publish({ topic: this.options.topics.gateway, payload: Buffer.from(state), qos: 1, retain: true }, (error) => {
      if (error) this.options.logger.debug({ err: error.message }, `gateway state "${state}" not published`);
      done?.();
    });
  }
}
