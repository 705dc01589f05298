import { describe, expect, it } from 'vitest';
import { BUSY_RTT_MS, PROBE_INTERVAL_MS, QueueDelay } from '../../src/upstream/queue-delay.js';

describe('QueueDelay (how long the broker connection takes to carry a message now)', () => {
  it('probes one at a time, at most every PROBE_INTERVAL_MS, and reads 0 before anything is measured', () => {
    const delay = new QueueDelay();
    expect(delay.delayMs(0, 10_000)).toBe(0);
    expect(delay.due(0)).toBe(true);
    delay.sent(0, 100);
    expect(delay.due(5)).toBe(false);
    delay.answered(1);
    expect(delay.due(1 + PROBE_INTERVAL_MS - 1)).toBe(false);
    expect(delay.due(1 + PROBE_INTERVAL_MS)).toBe(true);
  });

  it('a probe still out means at least its age: a broker that stopped reading shows within one probe', () => {
    const delay = new QueueDelay();
    delay.sent(1000, 50);
    expect(delay.delayMs(1030, 50)).toBe(30);
    expect(delay.delayMs(1200, 50)).toBe(200);
  });

  it('while a queue stands, counts the bytes written since the last answer at the rate the broker drains them', () => {
    const delay = new QueueDelay();
    // The broker drains 100 bytes/ms; probes go back to back and each finds a queue ahead.
    delay.sent(0, 1_000);
    delay.answered(10);
    delay.sent(10, 3_000);
    delay.answered(30); // 2,000 bytes drained in 20 ms; its round trip (20 ms) says a queue stood
    // 6,000 bytes written since the broker was known to have read up to 3,000: 60 ms at 100 bytes/ms.
    expect(delay.delayMs(31, 9_000)).toBeCloseTo(60);
  });

  it('does not take the rate of a broker that keeps up (short round trips) or of an idle gap for its capacity', () => {
    const delay = new QueueDelay();
    delay.sent(0, 100);
    delay.answered(1);
    delay.sent(20, 200);
    delay.answered(20 + BUSY_RTT_MS - 1); // keeping up: no queue ahead, so no rate
    expect(delay.delayMs(30, 100_000)).toBe(0);
    delay.sent(60_000, 300); // a minute later: the window would span an idle minute
    delay.answered(60_000 + 20);
    expect(delay.delayMs(60_021, 400)).toBe(0);
  });

  it('starts again on a new connection', () => {
    const delay = new QueueDelay();
    delay.sent(0, 100);
    delay.reset();
    expect(delay.delayMs(500, 0)).toBe(0);
    expect(delay.due(500)).toBe(true);
  });
});
