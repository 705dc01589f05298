import type { EventEmitter } from 'node:events';

export type MqttQos = 0 | 1 | 2;

/** A message as the broker sees it. */
export interface UpstreamMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: MqttQos;
  readonly retain: boolean;
  /** MQTT 5 user properties (e.g. which device and radio sent it); ignored over MQTT 3.1.1. */
  readonly userProperties?: Readonly<Record<string, string>>;
}

/** `offline`: the link is down and the next attempt is scheduled (backing off). */
export type UpstreamState = 'connecting' | 'connected' | 'offline' | 'closed';

/** The broker refused the connection in its CONNACK (bad credentials, not authorised, ...). */
export class ConnectionRefusedError extends Error {
  override readonly name = 'ConnectionRefusedError';
  constructor(
    message: string,
    /** The CONNACK return code (3.1.1) or reason code (5). */
    readonly code: number,
  ) {
    super(message);
  }
}

/** The store-and-forward bound is reached and the policy is to refuse: the device should retry later. */
export class UpstreamCongestedError extends Error {
  override readonly name = 'UpstreamCongestedError';
}

export interface UpstreamEvents {
  message: [message: UpstreamMessage];
  state: [state: UpstreamState, detail?: string];
}

/**
 * The gateway's link to the MQTT broker. One shared connection serves every device
 * (an aggregating gateway, MQTT-SN 1.2 §4.2).
 */
export interface Upstream extends EventEmitter<UpstreamEvents> {
  readonly state: UpstreamState;
  /** While offline: when the next connection attempt is due (ms since the epoch). */
  readonly nextAttemptAt?: number | undefined;
  /** Why the link last failed, for status output. */
  readonly lastError?: string | undefined;
  /** Bytes accepted for the broker and not yet written to its connection (0 when none). */
  readonly backlogBytes: number;
  /**
   * How long a message written now waits before the broker has read it, in ms (0 offline or not
   * measured yet). Asking keeps it measured: a PINGREQ goes out when one is due (see QueueDelay).
   */
  queueDelayMs(): number;
  /**
   * Who takes broker messages. When it returns a promise, a QoS 1/2 message is acknowledged to
   * the broker only once that promise settles (e.g. the message is stored for a sleeping device).
   */
  setMessageHandler(handler: (message: UpstreamMessage) => Promise<unknown> | undefined): void;
  /**
   * Connects; resolves once connected or once the first attempt failed (it keeps retrying, with
   * backoff). A link made with `retryRefused: false` rejects with ConnectionRefusedError instead
   * when the broker refuses it.
   */
  start(): Promise<void>;
  /**
   * Sends a message; `done` runs when the broker has it (PUBACK for QoS 1, handed to the socket
   * for QoS 0) or with the error that stopped it. A callback, not a promise: this is the hot path.
   */
  publish(message: UpstreamMessage, done?: (error?: Error) => void): void;
  /** Resolves with the QoS the broker granted; rejects when the broker refused the filter. */
  subscribe(filter: string, qos: MqttQos): Promise<MqttQos>;
  unsubscribe(filter: string): Promise<void>;
  close(): Promise<void>;
}

/** A topic the broker cannot take (wildcard, NUL, empty): sending it would cost the whole connection. */
export class InvalidTopicError extends Error {
  override readonly name: string = 'InvalidTopicError';
}

/** A message the broker closed the connection over, twice in a row: it is never sent again (see PoisonGuard). */
export class RefusedByBrokerError extends InvalidTopicError {
  override readonly name = 'RefusedByBrokerError';
}
