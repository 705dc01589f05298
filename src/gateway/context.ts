import type { Clock } from '../clock.js';
import type { Packet } from '../codec/packets.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AccessPolicy } from './access.js';
import type { FrameMeta } from '../radio.js';
import type { PredefinedTopics } from '../topics/predefined.js';
import type { MqttQos, Upstream } from '../upstream/upstream.js';
import type { Peer } from './peer.js';
import type { OutboundMessage, Session, Subscription } from './session.js';
import type { SessionStore } from './session-store.js';
import type { Budget } from '../budget.js';
import type { StoredMessage } from '../store/durable-store.js';
import type { GatewayStats } from './stats.js';

/** What packet handlers may use: the gateway's state and its edges, nothing global. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: GatewayStats;
  readonly sessions: SessionStore;
  /** Messages held for all devices together, against buffer.totalMessages / totalBytes. */
  readonly held: Budget;
  /** Of those, the ones in memory (not spilled to the store), against buffer.memoryMessages / memoryBytes. */
  readonly heldInMemory: Budget;
  readonly upstream: Upstream;
  /** Who may connect, publish and subscribe (config `access`). */
  readonly access: AccessPolicy;
  /** Counts and logs a refusal by the access rules. */
  denied(what: string, details: Record<string, unknown>): void;
  /** What the radio measured about the frame being handled (RSSI), during its dispatch only. */
  readonly frameMeta: FrameMeta | undefined;
  /** The broker connection a device's publishes go out on: its own in transparent mode, else the shared one. */
  linkFor(session: Session | undefined): Upstream;
  /**
   * Transparent mode: opens the device's own broker connection (with its will and credentials);
   * rejects with ConnectionRefusedError when the broker refuses the device. Resolves at once otherwise.
   */
  openLink(session: Session): Promise<void>;
  /** Transparent mode: the device left with DISCONNECT; its broker connection closes cleanly (no will). */
  closeLink(session: Session): void;
  /** The predefined topics a client sees: global entries with the client's own on top. */
  predefinedFor(clientId: string | undefined): PredefinedTopics;
  /** Records the subscription for routing and holds it at the broker; resolves with the granted QoS. */
  subscribe(session: Session, subscription: Subscription): Promise<MqttQos>;
  /** A gone device whose message had to be dropped: broker messages skip it until it comes back. */
  stopRouting(session: Session): void;
  /** The device came back: broker messages reach it again. */
  resumeRouting(session: Session): void;
  /** Drops one subscription (routing and the broker's reference). */
  unsubscribe(session: Session, filter: string): void;
  /** Admission control: false while overloaded for the share of publishes being refused (never for a device that publishes little). */
  admit(session: Session): boolean;
  /** SEARCHGW from `peer`: GWINFO after the discovery delay (§6.1). */
  searchGw(peer: Peer): void;
  /** Encodes and sends; wraps in forwarder encapsulation when the peer sits behind one. */
  send(peer: Peer, packet: Packet): void;
  /** Moves queued messages toward the device as far as its state and acknowledgements allow. */
  pump(session: Session): void;
  /** False with a volatile store (`--data-dir none`): messages for absent devices stay in memory, never spilled. */
  readonly spillsToStore: boolean;
  /** Writes a buffered message to the durable store; settles once it is there. */
  storeMessage(session: Session, message: OutboundMessage & { seq: number }): Promise<void>;
  /** Deletes a stored message (delivered or dropped). */
  forgetMessage(session: Session, seq: number): void;
  /** Writes waiting in the durable store: beyond MAX_STORE_BACKLOG, messages for absent devices are dropped, not queued. */
  storeBacklog(): number;
  /** Reads stored messages back (a device's spilled queue), after every write issued before. */
  readMessages(session: Session, seqs: readonly number[]): Promise<StoredMessage[]>;
  /** Marks the session's record for saving (grouped: one write per session per event-loop turn). */
  saveSession(session: Session): void;
  /** The device stopped answering: publish its will and apply the clean-session rules (§6.14). */
  lose(session: Session, reason: string): void;
  /** Forgets a session entirely: subscriptions released at the broker, timers stopped, held messages deleted. */
  destroy(session: Session): void;
  /** Deletes a session whose device went away, to admit another (limits.maxClients) or because it expired; counted and logged. */
  evict(session: Session, reason: 'evicted' | 'expired' | 'address'): void;
}
