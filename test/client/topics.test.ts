import { describe, expect, it } from 'vitest';
import { TopicTable, isShortName, toSubscribeTopic } from '../../src/client/topics.js';

describe('TopicTable', () => {
  it('picks pre-defined, then short, then a cached normal id', () => {
    const t = new TopicTable({ 'plant/alarm': 7, ab: 8 });
    expect(t.publishTopic('plant/alarm')).toEqual({ kind: 'predefined', id: 7 });
    expect(t.publishTopic('ab')).toEqual({ kind: 'predefined', id: 8 }); // configured beats short
    expect(t.publishTopic('ns')).toEqual({ kind: 'short', name: 'ns' });
    expect(t.publishTopic('a/b')).toBeUndefined();
    t.learn(0x10, 'a/b');
    expect(t.publishTopic('a/b')).toEqual({ kind: 'normal', id: 0x10 });
  });

  it('resolves names and replaces stale mappings', () => {
    const t = new TopicTable({ 'plant/alarm': 7 });
    t.learn(1, 'x');
    t.learn(1, 'y'); // the gateway reused id 1
    expect(t.nameOf({ kind: 'normal', id: 1 })).toBe('y');
    expect(t.normalId('x')).toBeUndefined();
    expect(t.nameOf({ kind: 'predefined', id: 7 })).toBe('plant/alarm');
    expect(t.nameOf({ kind: 'predefined', id: 1 })).toBeUndefined();
    expect(t.nameOf({ kind: 'short', name: 'ns' })).toBe('ns');
    t.forget(1);
    expect(t.nameOf({ kind: 'normal', id: 1 })).toBeUndefined();
  });

  it('rejects pre-defined ids outside 1..65534', () => {
    expect(() => new TopicTable({ a: 0 })).toThrow(RangeError);
    expect(() => new TopicTable({ a: 0xffff })).toThrow(RangeError);
  });

  it('short names are exactly two one-octet characters', () => {
    expect(isShortName('ab')).toBe(true);
    expect(isShortName('a')).toBe(false);
    expect(isShortName('aé')).toBe(false);
    expect(() => toSubscribeTopic({ short: 'abc' })).toThrow(/exactly 2/);
    expect(toSubscribeTopic('a/#')).toEqual({ kind: 'name', name: 'a/#' });
  });
});
