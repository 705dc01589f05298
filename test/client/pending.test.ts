import { describe, expect, it } from 'vitest';
import type { Timers } from '../../src/client/pending.js';
import { PendingRequests } from '../../src/client/pending.js';

/** A manual clock: `advance` fires due timers in order. */
function manualTimers(): Timers & { advance(ms: number): void } {
  let now = 0;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout(fn, ms) {
      const id = ++seq;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
  };
}

describe('PendingRequests', () => {
  it('resolves the request whose type and MsgId match', async () => {
    const p = new PendingRequests({ retryMs: 100, retries: 1 }, manualTimers());
    const a = p.request('puback', 1, () => undefined);
    const b = p.request('puback', 2, () => undefined);
    expect(p.settle({ type: 'puback', topicId: 5, msgId: 2, returnCode: 0 })).toBe(true);
    expect(p.settle({ type: 'puback', topicId: 5, msgId: 9, returnCode: 0 })).toBe(false);
    expect(p.settle({ type: 'regack', topicId: 5, msgId: 1, returnCode: 0 })).toBe(false);
    await expect(b).resolves.toMatchObject({ msgId: 2 });
    p.settle({ type: 'puback', topicId: 5, msgId: 1, returnCode: 0 });
    await expect(a).resolves.toMatchObject({ msgId: 1 });
    expect(p.size).toBe(0);
  });

  it('retransmits with retry=true every retryMs, then times out', async () => {
    const clock = manualTimers();
    const p = new PendingRequests({ retryMs: 100, retries: 2 }, clock);
    const sends: boolean[] = [];
    const req = p.request('suback', 3, (retry) => sends.push(retry));
    clock.advance(99);
    expect(sends).toEqual([false]);
    clock.advance(1);
    expect(sends).toEqual([false, true]);
    clock.advance(200);
    expect(sends).toEqual([false, true, true]);
    await expect(req).rejects.toMatchObject({ code: 'timeout', message: 'no SUBACK after 3 attempts' });
  });

  it('touch restarts the timer without spending a retry', () => {
    const clock = manualTimers();
    const p = new PendingRequests({ retryMs: 100, retries: 0 }, clock);
    const req = p.request('connack', 0, () => undefined);
    req.catch(() => undefined);
    clock.advance(90);
    p.touch('connack');
    clock.advance(90);
    expect(p.has('connack')).toBe(true);
    clock.advance(10);
    expect(p.has('connack')).toBe(false);
  });

  it('fails at once when send throws, and on failAll', async () => {
    const p = new PendingRequests({ retryMs: 100, retries: 3 }, manualTimers());
    await expect(
      p.request('regack', 1, () => {
        throw new Error('cannot encode');
      }),
    ).rejects.toThrow('cannot encode');
    const open = p.request('pingresp', 0, () => undefined);
    p.failAll(new Error('closed'));
    await expect(open).rejects.toThrow('closed');
  });

  it('allocates MsgIds 1..65535, wrapping and skipping ids in use', () => {
    const p = new PendingRequests({ retryMs: 100, retries: 0 }, manualTimers());
    expect(p.nextMsgId()).toBe(1);
    void p.request('puback', 2, () => undefined).catch(() => undefined);
    expect(p.nextMsgId()).toBe(3);
    for (let i = 4; i <= 0xffff; i++) p.nextMsgId();
    expect(p.nextMsgId()).toBe(1); // never 0
  });
});
