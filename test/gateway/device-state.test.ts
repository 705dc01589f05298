import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Session, type SessionState } from '../../src/gateway/session.js';
import { makePeer } from '../../src/gateway/peer.js';
import { DeviceStatePublisher, statusTopics, topicLevel } from '../../src/monitor/device-state.js';
import { PredefinedTopics } from '../../src/topics/predefined.js';
import type { UpstreamEvents, UpstreamMessage, UpstreamState } from '../../src/upstream/upstream.js';
import { MemoryRadio } from '../helpers/memory-radio.js';
import { silentLogger } from '../../src/log.js';

/** The broker link as the publisher sees it: a state and a publish whose acknowledgements the test releases. */
class HeldLink extends EventEmitter<UpstreamEvents> {
  state: UpstreamState = 'offline';
  readonly sent: Array<{ message: UpstreamMessage; ack: (error?: Error) => void }> = [];
  publish(message: UpstreamMessage, done?: (error?: Error) => void): void {
    this.sent.push({ message, ack: (error) => done?.(error) });
  }
  connect(): void {
    this.state = 'connected';
    this.emit('state', 'connected');
  }
  ackAll(): void {
    for (const { ack } of this.sent.splice(0)) ack();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const radio = new MemoryRadio();

function session(clientId: string, state: SessionState): Session {
  const s = new Session(clientId, makePeer(radio, '10.0.0.9:1000'), new PredefinedTopics([]), 1_700_000_000_000);
  s.state = state;
  return s;
}

function publisher(link: HeldLink, maxOfflineDevices = 100): DeviceStatePublisher {
  return new DeviceStatePublisher({ link: link as never, topics: statusTopics('gw', 3), maxOfflineDevices, logger: silentLogger() });
}

const devicePublishes = (link: HeldLink) => link.sent.filter(({ message }) => message.topic.includes('/device/')).map(({ message }) => [message.topic, message.payload.length === 0 ? '' : (JSON.parse(message.payload.toString()) as { state: string }).state]);

describe('device state publisher', () => {
  it('a device flapping while the broker is away costs one entry: only its latest state goes out', async () => {
    const link = new HeldLink();
    const states = publisher(link);
    const flapper = session('flapper', 'active');
    for (let i = 0; i < 1000; i++) {
      flapper.state = i % 2 === 0 ? 'asleep' : 'active';
      states.changed(flapper, true);
    }
    expect(states.waiting).toBe(1);
    link.connect();
    await turn();
    expect(link.sent.map(({ message }) => message.topic)).toEqual(['gw/3/state', 'gw/3/device/flapper/state']);
    expect(devicePublishes(link)).toEqual([['gw/3/device/flapper/state', 'active' === flapper.state ? 'online' : 'asleep']]);
    expect(link.sent.every(({ message }) => message.retain && message.qos === 1)).toBe(true);
  });

  it('never more than 64 state publishes in flight; the rest go as acknowledgements come', async () => {
    const link = new HeldLink();
    link.connect();
    const states = publisher(link);
    link.ackAll(); // the gateway's own "online"
    for (let i = 0; i < 200; i++) states.changed(session(`d${i}`, 'active'), true);
    await turn();
    expect(link.sent).toHaveLength(64);
    link.ackAll();
    await turn();
    expect(link.sent).toHaveLength(64);
    link.ackAll();
    link.ackAll();
    await turn();
    link.ackAll();
    await turn();
    expect(states.waiting).toBe(0);
  });

  it('keeps maxOfflineDevices gone devices retained as offline; the longest gone is cleared beyond it', async () => {
    const link = new HeldLink();
    link.connect();
    const states = publisher(link, 2);
    for (const id of ['a', 'b', 'c']) {
      const s = session(id, 'active');
      states.changed(s, true);
      s.state = 'disconnected';
      states.changed(s, false);
    }
    await turn();
    // Every change goes out while the link keeps up; a's retained state is cleared as c leaves.
    expect(devicePublishes(link)).toEqual([
      ['gw/3/device/a/state', 'online'],
      ['gw/3/device/a/state', 'offline'],
      ['gw/3/device/b/state', 'online'],
      ['gw/3/device/b/state', 'offline'],
      ['gw/3/device/c/state', 'online'],
      ['gw/3/device/a/state', ''], // an empty retained message deletes it at the broker
      ['gw/3/device/c/state', 'offline'],
    ]);
  });

  it('an evicted session is cleared at once; a lost one with a persistent session stays offline', async () => {
    const link = new HeldLink();
    link.connect();
    const states = publisher(link);
    const lost = session('lost-one', 'active');
    states.changed(lost, true);
    lost.state = 'lost';
    states.changed(lost, true);
    await turn();
    expect(devicePublishes(link)).toEqual([
      ['gw/3/device/lost-one/state', 'online'],
      ['gw/3/device/lost-one/state', 'offline'],
    ]);
    link.ackAll();
    states.forget('lost-one');
    await turn();
    expect(devicePublishes(link)).toEqual([['gw/3/device/lost-one/state', '']]);
  });

  it('a publish lost with the connection is sent again after the reconnect', async () => {
    const link = new HeldLink();
    link.connect();
    const states = publisher(link);
    states.changed(session('dev', 'active'), true);
    await turn();
    const [lost] = link.sent.splice(0);
    link.state = 'offline';
    lost!.ack(new Error('connection closed'));
    await turn();
    expect(states.waiting).toBe(1);
    link.connect();
    await turn();
    expect(devicePublishes(link)).toEqual([['gw/3/device/dev/state', 'online']]);
  });

  it('percent-encodes what would add topic levels or wildcards', () => {
    expect(topicLevel('a/b+c#d%e')).toBe('a%2Fb%2Bc%23d%25e');
    expect(topicLevel('plain-id_1')).toBe('plain-id_1');
  });
});
