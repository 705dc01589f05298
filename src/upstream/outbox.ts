import type { UpstreamMessage } from './upstream.js';
import type { Budget } from '../budget.js';

/** A device message held for the broker. `durable`: also in the data directory (QoS 1/2). */
export interface HeldMessage {
  readonly seq: number;
  readonly message: UpstreamMessage;
  readonly durable: boolean;
}

const sizeOf = (held: HeldMessage): number => held.message.payload.length;

/**
 * The ordered queue of messages one upstream link owes the broker: `waiting` ones not yet handed
 * to the link, `sent` ones handed over and not yet acknowledged. Pure bookkeeping, no I/O.
 */
export class Outbox {
  private waiting: HeldMessage[] = [];
  private head = 0;
  private readonly sent = new Set<HeldMessage>();
  private nextSeq = 1;
  /** Payload bytes of the waiting messages: what dropping could free. */
  private waitingBytesTotal = 0;

  constructor(private readonly budget: Budget) {}

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  get waitingBytes(): number {
    return this.waitingBytesTotal;
  }

  get sentCount(): number {
    return this.sent.size;
  }

  get size(): number {
    return this.waitingCount + this.sent.size;
  }

  /** Messages loaded from the store at start: they go first, in their order. */
  restore(held: readonly HeldMessage[]): void {
    for (const entry of held) this.add(entry);
  }

  /** Appends with a fresh seq; the caller has checked the budget. */
  append(message: UpstreamMessage, durable: boolean): HeldMessage {
    const held = { seq: this.nextSeq, message, durable };
    this.add(held);
    return held;
  }

  /** The oldest message not handed over yet, now counted as sent. */
  takeNext(): HeldMessage | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const held = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as never; // let the payload go
    this.waitingBytesTotal -= sizeOf(held);
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.sent.add(held);
    return held;
  }

  /** The broker has it: it leaves the outbox. */
  acknowledged(held: HeldMessage): void {
    if (this.sent.delete(held)) this.release(held);
  }

  /** The link failed it: back among the waiting, in seq order, to be sent again. */
  requeue(held: HeldMessage): void {
    if (!this.sent.delete(held)) return;
    let index = this.waiting.length;
    while (index > this.head && this.waiting[index - 1]!.seq > held.seq) index--;
    this.waiting.splice(index, 0, held);
    this.waitingBytesTotal += sizeOf(held);
  }

  /** Removes the oldest waiting message to make room (overflow: drop-oldest); never one in flight. */
  dropOldest(): HeldMessage | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const held = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as never;
    this.waitingBytesTotal -= sizeOf(held);
    this.release(held);
    return held;
  }

  /** Removes a waiting message whose store write failed (it was never acknowledged to the device). */
  remove(held: HeldMessage): void {
    const index = this.waiting.indexOf(held, this.head);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.waitingBytesTotal -= sizeOf(held);
      this.release(held);
    } else if (this.sent.delete(held)) {
      this.release(held);
    }
  }

  /** Empties the outbox (in flight first, then waiting, in seq order) for another link to take over. */
  detachAll(): HeldMessage[] {
    const all = [...this.sent, ...this.waiting.slice(this.head)].sort((a, b) => a.seq - b.seq);
    for (const held of all) this.release(held);
    this.sent.clear();
    this.waiting = [];
    this.head = 0;
    this.waitingBytesTotal = 0;
    return all;
  }

  private add(held: HeldMessage): void {
    this.waiting.push(held);
    this.waitingBytesTotal += sizeOf(held);
    this.nextSeq = Math.max(this.nextSeq, held.seq + 1);
    this.budget.add(sizeOf(held));
  }

  private release(held: HeldMessage): void {
    this.budget.remove(sizeOf(held));
  }
}
