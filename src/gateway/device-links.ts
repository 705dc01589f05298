import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DurableStore, StoredForward } from '../store/durable-store.js';
import type { Budget } from '../budget.js';
import { StoreAndForward } from '../upstream/store-and-forward.js';
import type { Upstream, UpstreamMessage } from '../upstream/upstream.js';
import type { Session, Will } from './session.js';
import type { GatewayStats } from './stats.js';

/** What a device's own broker connection is opened with (transparent mode). */
export interface DeviceLinkOptions {
  /** The device's client ID with the configured prefix. */
  readonly clientId: string;
  /** The device's clean-session flag: false keeps its session (and queue) at the broker. */
  readonly persistentSession: boolean;
  readonly keepAlive: number;
  readonly will: UpstreamMessage | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** A device's broker connection; `abort` drops it without DISCONNECT so the broker publishes the will. */
export interface DeviceLink extends Upstream {
  abort(): Promise<void>;
}

export type DeviceLinkFactory = (options: DeviceLinkOptions) => DeviceLink;

interface OpenLink {
  readonly link: StoreAndForward;
  readonly raw: DeviceLink;
  /** What it was opened with: a CONNECT with other settings needs a new connection. */
  readonly signature: string;
}

const willSignature = (will: Will | undefined): string => (will ? `${will.topic}|${will.qos}|${will.retain}|${will.payload.toString('base64')}` : '');

/**
 * Transparent mode: one broker connection per device, with the device's client ID (prefixed),
 * keep-alive, will and credentials, so broker ACLs, sessions and wills apply per device. Each
 * connection has its own store-and-forward, keyed by the client ID in the durable store.
 */
export class DeviceLinks {
  private readonly links = new Map<string, OpenLink>();
  /** Messages for the broker restored at start, per client ID, until its link opens. */
  private readonly restored = new Map<string, StoredForward[]>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly factory: DeviceLinkFactory,
    private readonly store: DurableStore,
    private readonly budget: Budget,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
    /** Where a message from the broker for this device goes (its buffer); a promise delays the broker's ack. */
    private readonly deliver: (session: Session, message: UpstreamMessage) => Promise<unknown> | undefined,
  ) {}

  get size(): number {
    return this.links.size;
  }

  /** Every open device connection (live objects: state and next attempt read as they change). */
  list(): Upstream[] {
    return [...this.links.values()].map((open) => open.link);
  }

  get(session: Session): Upstream | undefined {
    return this.links.get(session.clientId)?.link;
  }

  /** Client IDs with messages for the broker kept by an earlier run. */
  restore(messages: readonly StoredForward[]): string[] {
    for (const message of messages) {
      let list = this.restored.get(message.link);
      if (!list) this.restored.set(message.link, (list = []));
      list.push(message);
    }
    return [...this.restored.keys()];
  }

  /**
   * Opens (or keeps) the device's connection; resolves once connected or once the broker proved
   * unreachable (its messages are then held), rejects with ConnectionRefusedError when the broker
   * refuses the device (credentials, ACL).
   */
  async open(session: Session): Promise<void> {
    const signature = `${session.cleanSession}|${session.keepAlive}|${willSignature(session.will)}`;
    const existing = this.links.get(session.clientId);
    if (existing && existing.signature === signature && existing.link.state !== 'closed') return;
    if (existing) await this.retire(session.clientId, existing, false);
    const credentials = this.config.clients[session.clientId];
    const raw = this.factory({
      clientId: this.config.broker.clientIdPrefix + session.clientId,
      persistentSession: !session.cleanSession,
      keepAlive: session.keepAlive,
      will: session.will ? { ...session.will } : undefined,
      username: credentials?.username ?? this.config.broker.username,
      password: credentials?.password ?? this.config.broker.password,
    });
    const link = new StoreAndForward(raw, { link: session.clientId, store: this.store, policy: this.config.forward, budget: this.budget, stats: this.stats, logger: this.logger });
    link.restore(this.restored.get(session.clientId) ?? []);
    this.restored.delete(session.clientId);
    link.setMessageHandler((message) => this.deliver(session, message));
    this.links.set(session.clientId, { link, raw, signature });
    try {
      await link.start();
    } catch (error) {
      if (this.links.get(session.clientId)?.link === link) this.links.delete(session.clientId);
      // Messages it held stay in the store; they go out once the device is let in again.
      this.restored.set(session.clientId, link.detachHeld());
      throw error;
    }
    // A subscription the device holds from before (restored or kept) lives at the broker only if
    // the session there survived; taking it again is harmless.
    for (const subscription of session.subscriptions.values()) {
      link.subscribe(subscription.filter, subscription.qos).catch((error: Error) => this.logger.warn({ clientId: session.clientId, filter: subscription.filter, err: error.message }, 'subscription refused by the broker'));
    }
  }

  /** DISCONNECT at the broker: no will. */
  async close(clientId: string): Promise<void> {
    const open = this.links.get(clientId);
    if (open) await this.retire(clientId, open, false);
  }

  /** The device is lost: the connection dies without DISCONNECT, so the broker publishes its will. */
  async abort(clientId: string): Promise<void> {
    const open = this.links.get(clientId);
    if (open) await this.retire(clientId, open, true);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.links.keys()].map((clientId) => this.close(clientId)));
  }

  /** Closes a link; messages it still held go to the next link of the same device. */
  private async retire(clientId: string, open: OpenLink, abort: boolean): Promise<void> {
    if (this.links.get(clientId) === open) this.links.delete(clientId);
    const held = open.link.detachHeld();
    if (abort) await open.raw.abort();
    else await open.link.close();
    if (held.length > 0) this.restored.set(clientId, [...held, ...(this.restored.get(clientId) ?? [])].sort((a, b) => a.seq - b.seq));
  }
}
