import type { Packet } from '../codec/packets.js';
import { ClientError } from './errors.js';

/** Packets that answer a client request; each is matched to its request by type and MsgId. */
export type AckType =
  | 'connack'
  | 'regack'
  | 'puback'
  | 'suback'
  | 'unsuback'
  | 'pingresp'
  | 'disconnect'
  | 'willtopicresp'
  | 'willmsgresp';
export type AckOf<T extends AckType> = Extract<Packet, { type: T }>;

/** Timer functions, injectable so retry logic can run on a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RetryPolicy {
  /** Time to wait for the ack before retransmitting (T_RETRY, §6.13). */
  readonly retryMs: number;
  /** Retransmissions after the first send before giving up (N_RETRY, §6.13). */
  readonly retries: number;
}

interface Entry {
  readonly settle: (ack: Packet) => void;
  readonly fail: (err: Error) => void;
  readonly send: (retry: boolean) => void;
  readonly label: string;
  attempts: number;
  timer: unknown;
}

function isType<T extends AckType>(packet: Packet, type: T): packet is AckOf<T> {
  return packet.type === type;
}

/** MsgId carried by an ack; acks without one (CONNACK, PINGRESP, …) match on id 0. */
function ackMsgId(packet: Packet): number {
  return 'msgId' in packet ? packet.msgId : 0;
}

/**
 * Outstanding requests waiting for their ack. `request` sends once, retransmits with
 * `send(true)` every `retryMs` up to `retries` times, then rejects with a `timeout` ClientError.
 * `settle` hands an inbound packet to the request it answers and reports whether one matched.
 */
export class PendingRequests {
  private readonly entries = new Map<string, Entry>();
  private lastId = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Starts a request. A second request with the same type and id replaces nothing: it fails. */
  request<T extends AckType>(type: T, msgId: number, send: (retry: boolean) => void): Promise<AckOf<T>> {
    const key = `${type}:${msgId}`;
    return new Promise<AckOf<T>>((resolve, reject) => {
      if (this.entries.has(key)) {
        reject(new Error(`a request awaiting ${key} is already outstanding`));
        return;
      }
      const entry: Entry = {
        settle: (ack) => {
          if (isType(ack, type)) resolve(ack);
        },
        fail: reject,
        send,
        label: type.toUpperCase(),
        attempts: 0,
        timer: undefined,
      };
      this.entries.set(key, entry);
      this.attempt(key, entry, false);
    });
  }

  /** Hands `packet` to the request waiting for it; false when nothing was waiting. */
  settle(packet: Packet): boolean {
    const key = `${packet.type}:${ackMsgId(packet)}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.finish(key, entry);
    entry.settle(packet);
    return true;
  }

  /** Restarts the ack timer without counting a retry (the gateway is visibly making progress). */
  touch(type: AckType, msgId = 0): void {
    const key = `${type}:${msgId}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.timers.clearTimeout(entry.timer);
    entry.timer = this.timers.setTimeout(() => this.expire(key, entry), this.policy.retryMs);
  }

  has(type: AckType, msgId = 0): boolean {
    return this.entries.has(`${type}:${msgId}`);
  }

  /** Fails every outstanding request (on close). */
  failAll(err: Error): void {
    for (const [key, entry] of [...this.entries]) {
      this.finish(key, entry);
      entry.fail(err);
    }
  }

  /** Next MsgId, 1..0xFFFF cycling; 0 is never used for acknowledged messages (§5.3.6). */
  nextMsgId(): number {
    for (let i = 0; i < 0xffff; i++) {
      this.lastId = (this.lastId % 0xffff) + 1;
      if (!this.idInUse(this.lastId)) return this.lastId;
    }
    throw new ClientError('rejected', 'all 65535 message ids are in use');
  }

  get size(): number {
    return this.entries.size;
  }

  private idInUse(id: number): boolean {
    const suffix = `:${id}`;
    for (const key of this.entries.keys()) if (key.endsWith(suffix)) return true;
    return false;
  }

  private attempt(key: string, entry: Entry, retry: boolean): void {
    entry.attempts++;
    try {
      entry.send(retry);
    } catch (err) {
      // Typically an EncodeError: the request can never succeed, so fail it now.
      this.finish(key, entry);
      entry.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    entry.timer = this.timers.setTimeout(() => this.expire(key, entry), this.policy.retryMs);
  }

  private expire(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    if (entry.attempts <= this.policy.retries) {
      this.attempt(key, entry, true);
      return;
    }
    this.finish(key, entry);
    entry.fail(new ClientError('timeout', `no ${entry.label} after ${entry.attempts} attempts`));
  }

  private finish(key: string, entry: Entry): void {
    this.timers.clearTimeout(entry.timer);
    this.entries.delete(key);
  }
}
