import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { DurableStore, StoredForward } from '../store/durable-store.js';
import { isValidTopicName } from '../topics/names.js';
import type { Budget } from '../budget.js';
import { Outbox, type HeldMessage } from './outbox.js';
import { InvalidTopicError, RefusedByBrokerError, UpstreamCongestedError, type MqttQos, type Upstream, type UpstreamEvents, type UpstreamMessage, type UpstreamState } from './upstream.js';

export interface ForwardPolicy {
  readonly overflow: 'refuse' | 'drop-oldest';
  readonly qos0: 'keep' | 'drop';
}

/** The counters store-and-forward keeps (a slice of the gateway's stats). */
export interface ForwardStats {
  /** QoS 1/2 device messages written to the store because the broker was unreachable. */
  forwardStored: number;
  /** Held messages the broker acknowledged once it was back. */
  forwardDelivered: number;
  /** Held messages discarded: QoS 0 with `qos0: drop`, or the oldest at the bound with `drop-oldest`. */
  forwardDropped: number;
  /** Device publishes answered "rejected: congestion" because the store was full (`refuse`). */
  forwardRefused: number;
  /** Device messages the broker closed the connection over twice in a row (never sent again). */
  brokerRefused: number;
}

export interface StoreAndForwardOptions {
  /** '' for the gateway's shared link; the device's client ID for its own link (transparent mode). */
  readonly link: string;
  readonly store: DurableStore;
  readonly policy: ForwardPolicy;
  readonly budget: Budget;
  readonly stats: ForwardStats;
  readonly logger: Logger;
}

/** A held message as the durable store keeps it (user properties as `properties`). */
function forwardRecord(link: string, { seq, message }: HeldMessage): StoredForward {
  const { topic, payload, qos, retain, userProperties } = message;
  return { link, seq, topic, payload, qos, retain, ...(userProperties ? { properties: { ...userProperties } } : {}) };
}

/** Held messages handed to the link at once while catching up: enough to fill the pipe, few enough to stay in order cheaply. */
const DRAIN_WINDOW = 64;
/** While the broker stays away, a reminder in the log with the queue depth. */
const OFFLINE_REMINDER_MS = 30_000;

/**
 * Store-and-forward in front of an upstream link. While the broker is reachable and nothing is
 * held, a publish goes straight through (acknowledged to the device when the broker has it).
 * Otherwise a QoS 1/2 message is written to the durable store and acknowledged to the device once
 * it is there; QoS 0 is kept in memory or dropped, as configured. When the link returns, held
 * messages go out first, in order; each leaves the store when the broker acknowledges it.
 */
export class StoreAndForward extends EventEmitter<UpstreamEvents> implements Upstream {
  private readonly outbox: Outbox;
  private reminder: NodeJS.Timeout | undefined;
  private drainStartedAt: number | undefined;
  private drainedCount = 0;

  constructor(
    readonly inner: Upstream,
    private readonly options: StoreAndForwardOptions,
  ) {
    super();
    this.outbox = new Outbox(options.budget);
    inner.on('message', (message) => this.emit('message', message));
    inner.on('state', (state, detail) => this.onState(state, detail));
  }

  get state(): UpstreamState {
    return this.inner.state;
  }

  get backlogBytes(): number {
    return this.inner.backlogBytes;
  }

  queueDelayMs(): number {
    return this.inner.queueDelayMs();
  }

  get nextAttemptAt(): number | undefined {
    return this.inner.nextAttemptAt;
  }

  get lastError(): string | undefined {
    return this.inner.lastError;
  }

  /** Messages held for the broker on this link (waiting and in flight). */
  get held(): number {
    return this.outbox.size;
  }

  /** Messages kept in the store by an earlier run: they go out before anything new. */
  restore(messages: readonly StoredForward[]): void {
    this.outbox.restore(
      messages.map(({ seq, topic, payload, qos, retain, properties }) => ({
        seq,
        durable: true,
        message: { topic, payload, qos, retain, ...(properties ? { userProperties: properties } : {}) },
      })),
    );
    if (messages.length > 0) this.options.logger.info({ link: this.options.link || undefined, held: messages.length }, 'messages for the broker restored from the data directory');
  }

  /**
   * Hands every held message over (for the device's next link in transparent mode): they leave
   * this outbox and its bound; durable ones stay in the store under the same link and seq.
   */
  detachHeld(): StoredForward[] {
    return this.outbox.detachAll().map((held) => forwardRecord(this.options.link, held));
  }

  setMessageHandler(handler: (message: UpstreamMessage) => Promise<unknown> | undefined): void {
    this.inner.setMessageHandler(handler);
  }

  async start(): Promise<void> {
    await this.inner.start();
    this.drain();
  }

  publish(message: UpstreamMessage, done?: (error?: Error) => void): void {
    // Straight through only when nothing older is waiting: per-device order holds across outages.
    if (this.inner.state === 'connected' && this.outbox.waitingCount === 0) {
      this.inner.publish(message, done && ((error) => {
        if (error instanceof RefusedByBrokerError) this.options.stats.brokerRefused++;
        done(error);
      }));
      return;
    }
    this.hold(message, done);
  }

  subscribe(filter: string, qos: MqttQos): Promise<MqttQos> {
    return this.inner.subscribe(filter, qos);
  }

  unsubscribe(filter: string): Promise<void> {
    return this.inner.unsubscribe(filter);
  }

  async close(): Promise<void> {
    clearInterval(this.reminder);
    await this.inner.close();
  }

  private hold(message: UpstreamMessage, done: ((error?: Error) => void) | undefined): void {
    const { policy, budget, stats, logger, store, link } = this.options;
    if (!isValidTopicName(message.topic)) {
      done?.(new InvalidTopicError(`not a valid MQTT topic name: ${JSON.stringify(message.topic)}`));
      return;
    }
    if (message.qos === 0 && policy.qos0 === 'drop') {
      stats.forwardDropped++;
      done?.(new Error('QoS 0 message dropped: the broker is unreachable (forward.qos0: drop)'));
      return;
    }
    if (!this.makeRoom(message.payload.length)) {
      if (message.qos === 0) {
        stats.forwardDropped++; // QoS 0 has no acknowledgement to refuse with
        done?.(new Error('QoS 0 message dropped: the store for the unreachable broker is full'));
        return;
      }
      stats.forwardRefused++;
      logger.warn({ link: link || undefined, topic: message.topic, held: budget.count, heldBytes: budget.bytes }, 'store-and-forward full: publish refused with congestion (forward.maxMessages / maxBytes)');
      done?.(new UpstreamCongestedError('the store for the unreachable broker is full'));
      return;
    }
    if (message.qos === 0) {
      this.outbox.append(message, false);
      done?.();
      this.drain();
      return;
    }
    const held = this.outbox.append(message, true);
    stats.forwardStored++;
    store.putForward(forwardRecord(link, held)).then(
      () => done?.(),
      (error: Error) => {
        // Never acknowledged to the device, so it will send it again: nothing is lost.
        this.outbox.remove(held);
        logger.error({ link: link || undefined, topic: message.topic, err: error.message }, 'message for the broker not stored: not acknowledged to the device');
        done?.(error);
      },
    );
    this.drain();
  }

  /** Applies the overflow policy; false when the message must be refused. */
  private makeRoom(bytes: number): boolean {
    const { budget, policy, stats, logger, store, link } = this.options;
    if (budget.hasRoomFor(bytes)) return true;
    if (policy.overflow !== 'drop-oldest') return false;
    // Never drop accepted messages for one that would not fit even then (too big, or the rest is in flight).
    const afterDropping = budget.count - this.outbox.waitingCount + 1 <= budget.maxMessages && budget.bytes - this.outbox.waitingBytes + bytes <= budget.maxBytes;
    if (!afterDropping) return false;
    while (!budget.hasRoomFor(bytes)) {
      const dropped = this.outbox.dropOldest();
      if (!dropped) return false; // everything here is in flight; other links hold the rest
      stats.forwardDropped++;
      logger.warn({ link: link || undefined, topic: dropped.message.topic, qos: dropped.message.qos }, 'store-and-forward full: oldest held message dropped (forward.overflow: drop-oldest)');
      if (dropped.durable) store.deleteForward(link, dropped.seq).catch(() => undefined);
    }
    return true;
  }

  /** Hands held messages to the link, a window at a time, oldest first. */
  private drain(): void {
    while (this.inner.state === 'connected' && this.outbox.sentCount < DRAIN_WINDOW) {
      const held = this.outbox.takeNext();
      if (!held) break;
      this.drainStartedAt ??= Date.now();
      this.inner.publish(held.message, (error) => this.settled(held, error));
    }
  }

  private settled(held: HeldMessage, error: Error | undefined): void {
    if (error instanceof InvalidTopicError) {
      // Kept by an older version, or the link or the broker refused it: it can never go out.
      this.outbox.acknowledged(held);
      this.options.stats.forwardDropped++;
      if (error instanceof RefusedByBrokerError) this.options.stats.brokerRefused++;
      this.options.logger.warn({ topic: held.message.topic, err: error.message }, 'held message dropped: the broker cannot take it');
      if (held.durable) this.options.store.deleteForward(this.options.link, held.seq).catch(() => undefined);
      return;
    }
    if (error) {
      // The link dropped it (e.g. closed under a QoS 0 message): send it again when it is back.
      this.outbox.requeue(held);
      return;
    }
    this.outbox.acknowledged(held);
    this.options.stats.forwardDelivered++;
    this.drainedCount++;
    if (held.durable) {
      this.options.store.deleteForward(this.options.link, held.seq).catch((failure: Error) => {
        // It stays in the store and goes out again after a restart: a duplicate, never a loss.
        this.options.logger.warn({ err: failure.message }, 'delivered message not removed from the store');
      });
    }
    if (this.outbox.size === 0 && this.drainStartedAt !== undefined) {
      this.options.logger.info({ link: this.options.link || undefined, delivered: this.drainedCount, ms: Date.now() - this.drainStartedAt }, 'held messages delivered to the broker');
      this.drainStartedAt = undefined;
      this.drainedCount = 0;
    }
    this.drain();
  }

  private onState(state: UpstreamState, detail: string | undefined): void {
    const { logger, link } = this.options;
    if (state === 'connected') {
      clearInterval(this.reminder);
      this.reminder = undefined;
      if (this.outbox.size > 0) logger.info({ link: link || undefined, held: this.outbox.size }, 'broker reachable again: delivering held messages in order');
      this.drain();
    } else if (state === 'offline' && !this.reminder) {
      logger.warn({ link: link || undefined, held: this.outbox.size }, 'broker unreachable: device messages are kept in the data directory until it returns');
      this.reminder = setInterval(() => {
        logger.warn({ link: link || undefined, held: this.outbox.size, heldBytes: this.options.budget.bytes, upstream: this.inner.state }, 'broker still unreachable');
      }, OFFLINE_REMINDER_MS);
      this.reminder.unref();
    } else if (state === 'closed') {
      clearInterval(this.reminder);
      this.reminder = undefined;
    }
    this.emit('state', state, detail);
  }
}
