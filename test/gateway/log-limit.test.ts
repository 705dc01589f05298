import { describe, expect, it } from 'vitest';
import { LogLimiter } from '../../src/log-limit.js';

describe('log lines per kind', () => {
  it('lets perWindow lines of a kind through per window, then tells how many it held back', () => {
    let now = 0;
    const limiter = new LogLimiter({ perWindow: 3, windowMs: 1000, now: () => now });
    const verdicts = Array.from({ length: 10 }, () => limiter.admit('warn\tCONNECT refused'));
    expect(verdicts.filter((v) => v.log)).toHaveLength(3);
    expect(limiter.admit('warn\tanother kind').log).toBe(true); // kinds have their own budget
    now = 1000;
    expect(limiter.admit('warn\tCONNECT refused')).toEqual({ log: true, suppressedBefore: 7 });
    expect(limiter.admit('warn\tCONNECT refused')).toEqual({ log: true, suppressedBefore: 0 });
  });

  it('reports a kind that went quiet with lines untold, once, and forgets quiet kinds', () => {
    let now = 0;
    const limiter = new LogLimiter({ perWindow: 1, windowMs: 1000, now: () => now });
    for (let i = 0; i < 5; i++) limiter.admit('info\tmessage for device dropped');
    limiter.admit('info\tquiet kind');
    expect(limiter.flush()).toEqual([]); // the window is still open
    now = 1000;
    expect(limiter.flush()).toEqual([{ key: 'info\tmessage for device dropped', suppressed: 4 }]);
    expect(limiter.flush()).toEqual([]);
  });

  it('keeps a bounded table: kinds beyond maxKinds share one budget', () => {
    const limiter = new LogLimiter({ perWindow: 2, windowMs: 1000, maxKinds: 2, now: () => 0 });
    limiter.admit('a');
    limiter.admit('b');
    expect([limiter.admit('c').log, limiter.admit('d').log, limiter.admit('e').log]).toEqual([true, true, false]);
  });
});
