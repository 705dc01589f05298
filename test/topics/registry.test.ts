import { describe, expect, it } from 'vitest';
import { PredefinedTopics } from '../../src/topics/predefined.js';
import { TopicRegistry } from '../../src/topics/registry.js';

describe('TopicRegistry', () => {
  it('gives the same name the same ID and different names different IDs', () => {
    const registry = new TopicRegistry(new PredefinedTopics());
    const a = registry.register('a/b');
    const b = registry.register('a/c');
    expect(a).toEqual({ ok: true, id: 1, created: true });
    expect(b).toEqual({ ok: true, id: 2, created: true });
    expect(registry.register('a/b')).toEqual({ ok: true, id: 1, created: false });
    expect(registry.nameOf(2)).toBe('a/c');
    expect(registry.idOf('a/c')).toBe(2);
  });

  it('refuses wildcards and empty names', () => {
    const registry = new TopicRegistry(new PredefinedTopics());
    expect(registry.register('a/+')).toEqual({ ok: false, reason: 'wildcard' });
    expect(registry.register('#')).toEqual({ ok: false, reason: 'wildcard' });
    expect(registry.register('')).toEqual({ ok: false, reason: 'empty' });
  });

  it('skips IDs taken by predefined topics', () => {
    const registry = new TopicRegistry(new PredefinedTopics([[1, 'p/one'], [2, 'p/two']]));
    expect(registry.register('x')).toMatchObject({ id: 3 });
  });

  it('never hands out 0x0000 or 0xFFFF and reports exhaustion', () => {
    const registry = new TopicRegistry(new PredefinedTopics([[5, 'five']]));
    const seen = new Set<number>();
    for (let i = 0; i < 0xfffe - 1; i++) {
      const result = registry.register(`t/${i}`);
      if (!result.ok) throw new Error(`exhausted early at ${i}`);
      seen.add(result.id);
    }
    expect(seen.has(0)).toBe(false);
    expect(seen.has(0xffff)).toBe(false);
    expect(seen.has(5)).toBe(false);
    expect(seen.size).toBe(0xfffe - 1);
    expect(registry.register('one/more')).toEqual({ ok: false, reason: 'exhausted' });
    registry.release('t/0');
    expect(registry.register('one/more')).toMatchObject({ ok: true });
  });

  it('tracks which IDs the device knows in its current connection', () => {
    const registry = new TopicRegistry(new PredefinedTopics());
    const result = registry.register('k');
    if (!result.ok) throw new Error('unreachable');
    expect(registry.isKnown(result.id)).toBe(false);
    registry.markKnown(result.id);
    expect(registry.isKnown(result.id)).toBe(true);
    registry.forgetKnown();
    expect(registry.isKnown(result.id)).toBe(false);
    expect(registry.idOf('k')).toBe(result.id); // the ID itself survives a reconnect
  });
});

describe('PredefinedTopics', () => {
  it('lets a client override global entries', () => {
    const global = new PredefinedTopics([[1, 'g/one'], [2, 'g/two']]);
    const client = global.withOverrides([[2, 'c/two'], [3, 'c/three']]);
    expect([client.name(1), client.name(2), client.name(3)]).toEqual(['g/one', 'c/two', 'c/three']);
    expect(global.name(2)).toBe('g/two');
    expect(client.id('c/three')).toBe(3);
  });
});
