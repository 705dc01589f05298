import { describe, expect, it } from 'vitest';
import { Admission, FULL_TURN_DATAGRAMS, MAX_UPSTREAM_BACKLOG_BYTES } from '../../src/gateway/admission.js';

describe('Admission (overload control)', () => {
  it('admits everything while event-loop turns drain the socket', () => {
    const admission = new Admission(() => 0);
    for (let i = 0; i < 10; i++) {
      for (let turn = 0; turn < 100; turn++) admission.endTurn(5);
      admission.sample(0);
    }
    expect(admission.refuseShare).toBe(0);
    expect(admission.admit()).toBe(true);
  });

  it('refuses a growing share while most turns hit the read batch limit, and recovers after', () => {
    let draw = 0.5;
    const admission = new Admission(() => draw);
    const shares: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (let turn = 0; turn < 10; turn++) admission.endTurn(FULL_TURN_DATAGRAMS);
      admission.sample(0);
      shares.push(admission.refuseShare);
    }
    expect(shares.map((s) => Math.round(s * 100) / 100)).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(admission.admit()).toBe(true); // draw 0.5 >= share 0.4
    draw = 0.2;
    expect(admission.admit()).toBe(false);
    for (let i = 0; i < 10; i++) {
      admission.endTurn(3);
      admission.sample(0);
    }
    expect(admission.refuseShare).toBe(0);
  });

  it('treats a broker that does not keep up as overload too', () => {
    const admission = new Admission(() => 0);
    admission.sample(MAX_UPSTREAM_BACKLOG_BYTES + 1);
    expect(admission.refuseShare).toBeGreaterThan(0);
    expect(admission.admit()).toBe(false);
  });

  it('never refuses more than everything', () => {
    const admission = new Admission(() => 0.999);
    for (let i = 0; i < 50; i++) admission.sample(MAX_UPSTREAM_BACKLOG_BYTES * 2);
    expect(admission.refuseShare).toBe(1);
    expect(admission.admit()).toBe(false);
  });
});
