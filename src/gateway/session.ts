import type { Qos } from '../codec/packets.js';
import type { TimerHandle } from '../clock.js';
import { TopicRegistry } from '../topics/registry.js';
import type { PredefinedTopics } from '../topics/predefined.js';
import type { MqttQos } from '../upstream/upstream.js';
import type { Peer } from './peer.js';
import { SpilledMessages } from './spilled.js';

/**
 * Client states as the gateway sees them (MQTT-SN 1.2 §6.14), plus `connecting` while the
 * will topic and message are being asked for at CONNECT (§6.3).
 */
export type SessionState = 'connecting' | 'active' | 'asleep' | 'awake' | 'disconnected' | 'lost';

export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: MqttQos;
  readonly retain: boolean;
}

/** How the device named a subscription; the MQTT filter is what the broker and matching use. */
export interface Subscription {
  readonly filter: string;
  readonly qos: MqttQos;
  readonly kind: 'name' | 'predefined' | 'short';
}

/** A message waiting to reach the device. */
export interface OutboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: MqttQos;
  readonly retain: boolean;
  /** Set when the message is kept in the durable store (buffered QoS 1/2 for an absent device). */
  readonly seq?: number;
}

/** What the gateway has sent the device and waits an acknowledgement for. */
export type Awaiting =
  | { readonly kind: 'register'; readonly msgId: number; readonly topicId: number; readonly topic: string; attempts: number }
  | { readonly kind: 'publish'; readonly msgId: number; readonly frameTopicId: number; readonly message: OutboundMessage; attempts: number }
  /** QoS 2 toward the device: PUBREC came, PUBREL sent, waiting for PUBCOMP (§5.4.14, §6.6). */
  | { readonly kind: 'pubrel'; readonly msgId: number; attempts: number };

/** Everything the gateway keeps about one device, found by client ID (so NAT or a reboot keeps it). */
export class Session {
  peer: Peer;
  cleanSession = true;
  /** Keep-alive in seconds from CONNECT; 0 disables supervision. */
  keepAlive = 0;
  /** Sleep duration in seconds from DISCONNECT (§6.14). */
  sleepDuration = 0;
  lastSeen: number;
  will: Will | undefined;
  /** The will topic received at CONNECT while the will message is still being asked for. */
  pendingWill: Omit<Will, 'payload'> | undefined;
  readonly registry: TopicRegistry;
  /**
   * Predefined IDs this device has used itself (subscribed or published by ID): only these are
   * used toward it, so a device that does not know the table gets REGISTER instead of a mystery ID.
   */
  readonly predefinedInUse = new Set<number>();
  readonly subscriptions = new Map<string, Subscription>();
  /** Names the device REGISTERed itself (to publish): their IDs outlive an UNSUBSCRIBE of the same name. */
  readonly registeredNames = new Set<string>();
  /**
   * Filters this device subscribed to just now, until when (ms), and the retained topics it got for
   * them: the broker sets the retain flag only when it sends retained messages for a new
   * subscription (MQTT 3.1.1 §3.3.1.3), so those go to devices that just subscribed, once each,
   * never again because another device subscribed to the same filter. Kept by RetainedReplay.
   */
  readonly retainedWanted = new Map<string, { readonly until: number; readonly seen: Set<string> }>();
  /**
   * QoS 1/2 messages held for the device in the durable store only (it sleeps or is away): older
   * than anything in `outbound`, read back when it is reachable again.
   */
  readonly spilled = new SpilledMessages();
  /** Spilled messages are being read back: deliveries wait, so the order holds. */
  loading = false;
  /** Messages for the device in memory, oldest first; delivered one QoS 1 exchange at a time (§6.14 note). */
  readonly outbound: OutboundMessage[] = [];
  /** Payload bytes in `outbound`, for the buffer's byte limit. */
  outboundBytes = 0;
  /** Next sequence number for a message kept in the durable store. */
  nextSeq = 1;
  awaiting: Awaiting | undefined;
  retryTimer: TimerHandle | undefined;
  /** SUBACKs still waiting for the broker: deliveries hold so SUBACK precedes the first PUBLISH. */
  pendingSubacks = 0;
  /** Device QoS 1 publishes sent to the broker and not yet acknowledged by it, by MsgId. */
  readonly upstreamPending = new Set<number>();
  /**
   * Device QoS 2 publishes by MsgId (§5.4.14, §6.6): `forwarding` until the broker has it (then PUBREC),
   * `received` until the device's PUBREL releases the MsgId. A retransmission is never forwarded twice.
   */
  readonly qos2Received = new Map<number, 'forwarding' | 'received'>();
  /** MsgIds of device publishes recently acknowledged, to answer a retransmission without forwarding twice. */
  readonly recentlyAcked: number[] = [];
  /** Admission control's tally of this device's publishes in the current sample (PublishTally). */
  tallySample = -1;
  tallyCount = 0;
  /** Signal strength of the device's last frame in dBm, where its radio measures it (XBee). */
  rssi: number | undefined;
  /** Told of every state change (device-state topics, status page); set by the session table. */
  onStateChange: ((session: Session) => void) | undefined;
  private current: SessionState = 'connecting';
  private nextMsgId = 1;

  constructor(
    readonly clientId: string,
    peer: Peer,
    predefined: PredefinedTopics,
    now: number,
  ) {
    this.peer = peer;
    this.lastSeen = now;
    this.registry = new TopicRegistry(predefined);
  }

  get state(): SessionState {
    return this.current;
  }

  set state(next: SessionState) {
    if (next === this.current) return;
    this.current = next;
    this.onStateChange?.(this);
  }

  /** MsgIds toward the device: 1..65535, never 0 (MQTT-SN 1.2 §5.3.6). */
  allocateMsgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  /** Messages held for the device, in memory and spilled. */
  get heldCount(): number {
    return this.outbound.length + this.spilled.count;
  }

  get heldBytes(): number {
    return this.outboundBytes + this.spilled.bytes;
  }

  /** States in which messages may be sent to the device right now. */
  get reachable(): boolean {
    return this.state === 'active' || this.state === 'awake';
  }

  rememberAcked(msgId: number): void {
    this.recentlyAcked.push(msgId);
    if (this.recentlyAcked.length > 16) this.recentlyAcked.shift();
  }

  /** The best QoS among this device's subscriptions matching `topic`, if any. */
  static grantedQos(subscriptions: Iterable<Subscription>, matches: (filter: string) => boolean): MqttQos | undefined {
    let best: MqttQos | undefined;
    for (const subscription of subscriptions) {
      if (matches(subscription.filter) && (best === undefined || subscription.qos > best)) best = subscription.qos;
    }
    return best;
  }
}

/** MQTT-SN QoS -1 is not an MQTT QoS; callers reject it before asking. */
export function toMqttQos(qos: Qos): MqttQos {
  return qos <= 0 ? 0 : qos === 1 ? 1 : 2;
}
