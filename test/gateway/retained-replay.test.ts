import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_TOPICS, RETAINED_REPLAY_MS, RetainedReplay } from '../../src/gateway/retained-replay.js';
import type { Peer } from '../../src/gateway/peer.js';
import { Session } from '../../src/gateway/session.js';
import { PredefinedTopics } from '../../src/topics/predefined.js';

const session = (clientId: string): Session => new Session(clientId, { key: clientId } as Peer, new PredefinedTopics([]), 0);

describe('RetainedReplay', () => {
  it('gives a retained topic once to each session whose window matches, and none after the window', () => {
    const replay = new RetainedReplay(() => 1000);
    const [a, b, c] = [session('a'), session('b'), session('c')];
    expect(replay.subscribed(a, 'home/#', 0)).toBe(true);
    expect(replay.subscribed(b, 'home/+/temp', 0)).toBe(true);
    expect(replay.subscribed(c, 'office/#', 0)).toBe(true);
    expect(replay.subscribed(a, 'home/#', 5)).toBe(false); // repeated inside its window: no second replay
    expect(replay.wanting('home/hall/temp', 10).map((s) => s.clientId).sort()).toEqual(['a', 'b']);
    expect(replay.wanting('home/hall/temp', 20)).toEqual([]); // once each
    expect(replay.wanting('home/hall/light', RETAINED_REPLAY_MS + 1)).toEqual([]); // windows ended
  });

  it('ends a window after buffer.maxMessages topics, and the oldest windows when all remember too many', () => {
    const replay = new RetainedReplay(() => 3);
    const small = session('small');
    replay.subscribed(small, '#', 0);
    for (const topic of ['t/1', 't/2', 't/3', 't/4']) replay.wanting(topic, 1);
    expect(small.retainedWanted.size).toBe(0);

    const large = new RetainedReplay(() => Number.MAX_SAFE_INTEGER);
    const [first, second] = [session('first'), session('second')];
    large.subscribed(first, 'a/#', 0);
    large.subscribed(second, 'b/#', 0);
    for (let i = 0; i < MAX_REMEMBERED_TOPICS; i++) large.wanting(`a/${i}`, 1);
    expect(first.retainedWanted.size).toBe(1); // exactly at the bound
    expect(large.wanting('b/0', 1)).toEqual([second]); // one more: the window opened first ends
    expect(first.retainedWanted.size).toBe(0);
    expect(second.retainedWanted.size).toBe(1);
  });
});
