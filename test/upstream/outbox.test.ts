import { describe, expect, it } from 'vitest';
import { Budget } from '../../src/budget.js';
import { Outbox } from '../../src/upstream/outbox.js';

const message = (text: string) => ({ topic: 't', payload: Buffer.from(text), qos: 1 as const, retain: false });

describe('outbox of messages held for the broker', () => {
  it('hands messages over oldest first and counts them against the shared budget until acknowledged', () => {
    const budget = new Budget(10, 1000);
    const outbox = new Outbox(budget);
    const held = ['a', 'bb', 'ccc'].map((text) => outbox.append(message(text), true));
    expect(held.map((h) => h.seq)).toEqual([1, 2, 3]);
    expect([budget.count, budget.bytes, outbox.waitingBytes]).toEqual([3, 6, 6]);
    const first = outbox.takeNext()!;
    expect(first.message.payload.toString()).toBe('a');
    expect([outbox.waitingCount, outbox.sentCount, outbox.waitingBytes]).toEqual([2, 1, 5]);
    outbox.acknowledged(first);
    outbox.acknowledged(first); // twice is harmless
    expect([budget.count, budget.bytes, outbox.size]).toEqual([2, 5, 2]);
  });

  it('puts a failed message back in seq order, ahead of newer ones', () => {
    const outbox = new Outbox(new Budget(10, 1000));
    for (const text of ['1', '2', '3']) outbox.append(message(text), true);
    const one = outbox.takeNext()!;
    const two = outbox.takeNext()!;
    outbox.requeue(two);
    outbox.requeue(one);
    expect([outbox.takeNext(), outbox.takeNext(), outbox.takeNext()].map((h) => h?.message.payload.toString())).toEqual(['1', '2', '3']);
  });

  it('continues the seq after restored messages, and drops only waiting ones', () => {
    const budget = new Budget(10, 1000);
    const outbox = new Outbox(budget);
    outbox.restore([{ seq: 41, message: message('old'), durable: true }]);
    expect(outbox.append(message('new'), true).seq).toBe(42);
    const inFlight = outbox.takeNext()!;
    expect(outbox.dropOldest()?.message.payload.toString()).toBe('new');
    expect(outbox.dropOldest()).toBeUndefined();
    expect(outbox.sentCount).toBe(1);
    outbox.acknowledged(inFlight);
    expect([budget.count, budget.bytes]).toEqual([0, 0]);
  });

  it('detachAll hands everything over in seq order and frees the budget', () => {
    const budget = new Budget(10, 1000);
    const outbox = new Outbox(budget);
    for (const text of ['1', '2', '3']) outbox.append(message(text), true);
    outbox.takeNext();
    expect(outbox.detachAll().map((h) => h.seq)).toEqual([1, 2, 3]);
    expect([budget.count, budget.bytes, outbox.size, outbox.waitingBytes]).toEqual([0, 0, 0, 0]);
  });
});
