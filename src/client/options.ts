import type { PublishTopic, Qos } from '../codec/packets.js';

/** Will sent when the gateway asks for it during CONNECT (§6.3). */
export interface WillOptions {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
}

export interface ClientOptions {
  /** `udp://HOST:PORT` or `udp6://[ADDR]:PORT`. */
  readonly gateway: string;
  /** 1-23 characters (§5.3.1). */
  readonly clientId: string;
  /** Keep-alive in seconds sent in CONNECT and used for PINGREQ; 0 disables. Default 60. */
  readonly keepAlive?: number;
  /** Default true. */
  readonly cleanSession?: boolean;
  readonly will?: WillOptions;
  /** Wait before retransmitting an unacknowledged request, ms. Default 2000. */
  readonly retryMs?: number;
  /** Retransmissions before a request fails with a `timeout` error. Default 3. */
  readonly retries?: number;
  /** Pre-defined topics shared with the gateway: name → id (§6.7). */
  readonly predefined?: Readonly<Record<string, number>>;
}

export interface ResolvedOptions {
  readonly clientId: string;
  readonly keepAlive: number;
  readonly cleanSession: boolean;
  readonly will: WillOptions | undefined;
  readonly retryMs: number;
  readonly retries: number;
}

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  const keepAlive = options.keepAlive ?? 60;
  const retryMs = options.retryMs ?? 2000;
  const retries = options.retries ?? 3;
  if (!Number.isInteger(keepAlive) || keepAlive < 0 || keepAlive > 0xffff) {
    throw new RangeError(`keepAlive must be an integer 0..65535 seconds, got ${keepAlive}`);
  }
  if (!(retryMs > 0)) throw new RangeError(`retryMs must be positive, got ${retryMs}`);
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer ≥ 0, got ${retries}`);
  if (options.clientId.length === 0) throw new RangeError('clientId must not be empty');
  return {
    clientId: options.clientId,
    keepAlive,
    cleanSession: options.cleanSession ?? true,
    will: options.will,
    retryMs,
    retries,
  };
}

export interface PublishOptions {
  /** Default 0. QoS -1 needs no connection but only works with pre-defined or short topics. */
  readonly qos?: -1 | 0 | 1;
  readonly retain?: boolean;
}

/** How `message` listeners learn the delivery details. */
export interface MessageInfo {
  readonly qos: Qos;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly topic: PublishTopic;
}

/** A topic for SUBSCRIBE/UNSUBSCRIBE: a name or filter (type 00), a pre-defined id, or a short name. */
export type TopicFilter = string | { readonly predefined: number } | { readonly short: string };

export interface SubscribeResult {
  /** Normal id for a plain name, the pre-defined id, or 0 for wildcards (§6.9); ignore for short names. */
  readonly topicId: number;
  readonly grantedQos: Qos;
  /** 0x00 accepted; anything else means the subscription does not exist. */
  readonly returnCode: number;
}

/** Client lifecycle as the client sees it. */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'asleep' | 'disconnected' | 'lost' | 'closed';
