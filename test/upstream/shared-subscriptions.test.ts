import { describe, expect, it } from 'vitest';
import type { MqttQos, Upstream } from '../../src/upstream/upstream.js';
import { SharedSubscriptions } from '../../src/upstream/shared-subscriptions.js';

/** Records SUBSCRIBEs; each waits for `ack()` as a broker's SUBACK would. */
function fakeUpstream(): { upstream: Upstream; subscribes: Array<[string, MqttQos]>; ack: () => Promise<void> } {
  const subscribes: Array<[string, MqttQos]> = [];
  const waiting: Array<() => void> = [];
  const upstream = {
    subscribe: (filter: string, qos: MqttQos) => {
      subscribes.push([filter, qos]);
      return new Promise<MqttQos>((resolve) => waiting.push(() => resolve(qos)));
    },
    unsubscribe: () => Promise.resolve(),
  } as unknown as Upstream;
  const ack = async (): Promise<void> => {
    for (let i = 0; i < 200 && waiting.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    waiting.shift()?.();
  };
  return { upstream, subscribes, ack };
}

describe('SharedSubscriptions', () => {
  it('replays asked for while one for the same filter waits its turn join it: one SUBSCRIBE, each owner its own QoS', async () => {
    const { upstream, subscribes, ack } = fakeUpstream();
    const shared = new SharedSubscriptions(upstream, 0);
    const first = shared.subscribe('a', '#', 1, true);
    // The first SUBSCRIBE is on its way: these wait behind it, and share one replay.
    await new Promise((resolve) => setImmediate(resolve));
    const joined = Array.from({ length: 100 }, (_, i) => shared.subscribe(`d${i}`, '#', i % 2 === 0 ? 0 : 2, true));
    await ack();
    expect(await first).toBe(1);
    await ack();
    const granted = await Promise.all(joined);
    expect(subscribes).toEqual([['#', 1], ['#', 2]]);
    expect(granted.slice(0, 2)).toEqual([0, 2]);
    // A device after that replay was sent gets one of its own.
    const later = shared.subscribe('z', '#', 1, true);
    await ack();
    expect(await later).toBe(1);
    expect(subscribes).toHaveLength(3);
  });

  it('without a replay a filter held at a sufficient QoS costs no SUBSCRIBE', async () => {
    const { upstream, subscribes, ack } = fakeUpstream();
    const shared = new SharedSubscriptions(upstream);
    const first = shared.subscribe('a', 'x/+', 2);
    await ack();
    await first;
    expect(await shared.subscribe('b', 'x/+', 1)).toBe(1);
    expect(subscribes).toEqual([['x/+', 2]]);
  });
  it('a filter held at the QoS asked for is granted at once; its replays come at most once per interval', async () => {
    const { upstream, subscribes, ack } = fakeUpstream();
    const shared = new SharedSubscriptions(upstream, 300);
    const first = shared.subscribe('a', 'cmd/#', 1, true);
    await ack();
    await first;
    const started = Date.now();
    // A device looping SUBSCRIBE: each is answered at once, and the broker replays once more, later.
    for (let i = 0; i < 50; i++) expect(await shared.subscribe('looper', 'cmd/#', 1, true)).toBe(1);
    expect(subscribes).toHaveLength(1);
    await ack();
    expect(subscribes).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
