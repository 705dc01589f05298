import { describe, expect, it } from 'vitest';
import { SpilledMessages } from '../../src/gateway/spilled.js';

describe('the list of messages held in the store only', () => {
  it('keeps seqs and sizes in order, with a byte total', () => {
    const spilled = new SpilledMessages();
    for (let seq = 1; seq <= 3; seq++) spilled.push(seq, seq * 10);
    expect([spilled.count, spilled.bytes, spilled.peekSeq()]).toEqual([3, 60, 1]);
    expect(spilled.shift()).toEqual({ seq: 1, size: 10 });
    expect(spilled.list()).toEqual([2, 3]);
    expect(spilled.remove(3)).toBe(true); // a write that failed
    expect(spilled.remove(3)).toBe(false);
    expect([spilled.count, spilled.bytes, spilled.list()]).toEqual([1, 20, [2]]);
    spilled.shift();
    expect([spilled.count, spilled.bytes, spilled.shift()]).toEqual([0, 0, undefined]);
  });

  it('stays compact however long it runs', () => {
    const spilled = new SpilledMessages();
    for (let seq = 1; seq <= 5000; seq++) spilled.push(seq, 1);
    for (let i = 0; i < 4000; i++) spilled.shift();
    expect([spilled.count, spilled.bytes, spilled.peekSeq(), spilled.list().length]).toEqual([1000, 1000, 4001, 1000]);
  });
});
