import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/backoff.js';

describe('reconnect backoff', () => {
  it('doubles from the initial delay up to the maximum, each delay jittered into [step/2, step]', () => {
    const lowest = new Backoff(1000, 30_000, () => 0);
    const highest = new Backoff(1000, 30_000, () => 1);
    expect(Array.from({ length: 8 }, () => lowest.next())).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(Array.from({ length: 8 }, () => highest.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('spreads a fleet: different random draws give different delays for the same attempt', () => {
    const draws = [0.1, 0.9];
    const delays = draws.map((draw) => new Backoff(1000, 30_000, () => draw).next());
    expect(delays).toEqual([550, 950]);
  });

  it('starts again from the initial delay after a successful connection', () => {
    const backoff = new Backoff(200, 5000, () => 1);
    backoff.next();
    backoff.next();
    expect(backoff.failures).toBe(2);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(200);
  });

  it('never overflows after very many attempts', () => {
    const backoff = new Backoff(1000, 60_000, () => 1);
    for (let i = 0; i < 5000; i++) backoff.next();
    expect(backoff.next()).toBe(60_000);
  });
});
