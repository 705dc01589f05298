import { describe, expect, it } from 'vitest';
import { Admission, LIGHT_PUBLISHES_PER_SAMPLE, MAX_UPSTREAM_BACKLOG_BYTES } from '../../src/gateway/admission.js';

describe('Admission (overload control)', () => {
  it('admits everything while no datagram is lost and the broker keeps up', () => {
    const admission = new Admission(() => 0);
    for (let i = 0; i < 50; i++) admission.sample(0, 5000, 1000);
    expect(admission.refuseShare).toBe(0);
    expect(admission.admit()).toBe(true);
  });

  it('refuses a growing share while the kernel drops datagrams, and recovers after', () => {
    let draw = 0.5;
    const admission = new Admission(() => draw);
    const shares: number[] = [];
    for (let i = 0; i < 3; i++) {
      admission.sample(120, 5000, 0);
      shares.push(Math.round(admission.refuseShare * 100) / 100);
    }
    expect(shares).toEqual([0.2, 0.4, 0.6]);
    expect(admission.admit()).toBe(false); // draw 0.5 < share 0.6
    draw = 0.7;
    expect(admission.admit()).toBe(true);
    for (let i = 0; i < 10; i++) admission.sample(0, 5000, 0);
    expect(admission.refuseShare).toBe(0);
  });

  it('lets a short stall lose a few datagrams without calling it overload', () => {
    const admission = new Admission(() => 0);
    admission.sample(40, 10_000, 0); // 0.4% lost
    expect(admission.refuseShare).toBe(0);
    admission.sample(400, 10_000, 0); // 3.8% lost
    expect(admission.refuseShare).toBeGreaterThan(0);
  });

  it('treats a broker that does not keep up as overload too', () => {
    const admission = new Admission(() => 0);
    admission.sample(0, 5000, MAX_UPSTREAM_BACKLOG_BYTES + 1);
    expect(admission.refuseShare).toBeGreaterThan(0);
    expect(admission.admit()).toBe(false);
  });

  it('treats a broker that fell behind (QoS 0 shed for it, or a long queue) as overload for heavy QoS 1 senders', () => {
    const admission = new Admission(() => 0);
    admission.sample(0, 5000, 0, true);
    expect(admission.refuseShare).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) admission.sample(0, 5000, 0, false);
    expect(admission.refuseShare).toBe(0);
  });

  it('never refuses more than everything', () => {
    const admission = new Admission(() => 0.999);
    for (let i = 0; i < 50; i++) admission.sample(10, 5000, MAX_UPSTREAM_BACKLOG_BYTES * 2);
    expect(admission.refuseShare).toBe(1);
    expect(admission.admit()).toBe(false);
  });
  it('refuses only devices that publish more than a light share: a quiet device is never told "congestion"', () => {
    const admission = new Admission(() => 0); // every draw below the share: refuse whatever may be refused
    for (let i = 0; i < 5; i++) admission.sample(1000, 5000, 0);
    expect(admission.refuseShare).toBe(1);
    const quiet = { tallySample: -1, tallyCount: 0 };
    const heavy = { tallySample: -1, tallyCount: 0 };
    const heavyAnswers: boolean[] = [];
    for (let second = 0; second < 3; second++) {
      expect(admission.admit(quiet)).toBe(true); // a publish
      expect(admission.admit(quiet)).toBe(true); // and its retransmission, in the same sample
      for (let i = 0; i < 5; i++) heavyAnswers.push(admission.admit(heavy));
      admission.sample(1000, 5000, 0);
    }
    // The heavy one's first publishes of each sample pass like anyone's; the rest are refused.
    expect(heavyAnswers.filter(Boolean)).toHaveLength(3 * LIGHT_PUBLISHES_PER_SAMPLE);
  });
});
