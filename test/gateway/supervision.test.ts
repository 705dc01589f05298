import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startClockedGateway } from '../helpers/clocked-gateway.js';
import { MemoryRadio } from '../helpers/memory-radio.js';

/** Keep-alive, sleep and retry timers driven by a manual clock: no test here waits for them. */
describe('session supervision on a manual clock', () => {
  let broker: EmbeddedBroker;
  let watcher: BrokerClient;
  let gateway: Gateway;
  let radio: MemoryRadio;
  let clock: ManualClock;
  const DEV = '10.0.0.1:5000';

  beforeEach(async () => {
    broker = await startEmbeddedBroker(0);
    watcher = (await BrokerClient.connect(broker.url)).ignore();
    await watcher.subscribe('#');
    clock = new ManualClock(1_000_000);
    radio = new MemoryRadio();
    gateway = await startClockedGateway({ brokerUrl: broker.url, radio, clock, clientId: 'gw-under-test', config: { timers: { retryMs: 5000, retries: 2, keepAliveTolerance: 1.5 } } });
  });

  afterEach(async () => {
    await watcher.close();
    await gateway.stop();
    await broker.close();
  });

  function connectWithWill(keepAlive: number, cleanSession = true): void {
    radio.inject(DEV, { type: 'connect', will: true, cleanSession, protocolId: 1, duration: keepAlive, clientId: 'sensor-1' });
    expect(radio.take(DEV)).toEqual([{ type: 'willtopicreq' }]);
    radio.inject(DEV, { type: 'willtopic', qos: 1, retain: false, topic: 'wills/sensor-1' });
    expect(radio.take(DEV)).toEqual([{ type: 'willmsgreq' }]);
    radio.inject(DEV, { type: 'willmsg', payload: Buffer.from('sensor-1 lost') });
    expect(radio.take(DEV)).toEqual([{ type: 'connack', returnCode: 0 }]);
  }

  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

  it('keeps a device that pings within 1.5 x keep-alive and loses it after', async () => {
    connectWithWill(10);
    clock.advance(14_000);
    radio.inject(DEV, { type: 'pingreq' });
    expect(radio.take(DEV)).toEqual([{ type: 'pingresp' }]);
    clock.advance(14_000);
    await settle();
    expect(watcher.messages).toEqual([]);
    expect(gateway.sessions.get('sensor-1')?.state).toBe('active');
    clock.advance(2_000);
    const [will] = await watcher.waitFor(1);
    expect(will).toMatchObject({ topic: 'wills/sensor-1', qos: 1 });
    expect(will?.payload.toString()).toBe('sensor-1 lost');
    expect(gateway.sessions.get('sensor-1')).toBeUndefined(); // clean session: nothing kept
    expect(gateway.stats.sessionsLost).toBe(1);
  });

  it('any valid message, not only PINGREQ, restarts the keep-alive timer', async () => {
    connectWithWill(10);
    for (let i = 0; i < 5; i++) {
      clock.advance(12_000);
      radio.inject(DEV, { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'hb' }, msgId: 0, payload: Buffer.from(String(i)) });
    }
    await watcher.waitFor(5, (m) => m.topic === 'hb');
    expect(watcher.messages.filter((m) => m.topic === 'wills/sensor-1')).toEqual([]);
  });

  it('keep-alive 0 disables supervision', async () => {
    connectWithWill(0);
    clock.advance(10 * 3600_000);
    await settle();
    expect(watcher.messages).toEqual([]);
    expect(gateway.sessions.get('sensor-1')?.state).toBe('active');
  });

  it('a plain DISCONNECT publishes no will', async () => {
    connectWithWill(10);
    radio.inject(DEV, { type: 'disconnect' });
    expect(radio.take(DEV)).toEqual([{ type: 'disconnect' }]);
    clock.advance(60_000);
    await settle();
    expect(watcher.messages).toEqual([]);
  });

  it('retries an unacknowledged delivery with DUP, then gives the device up and publishes its will', async () => {
    connectWithWill(0);
    radio.inject(DEV, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'short', name: 'cm' } });
    await settle();
    expect(radio.take(DEV)).toEqual([{ type: 'suback', qos: 1, topicId: 0, msgId: 1, returnCode: 0 }]);
    await watcher.publish('cm', 'open valve', 1);
    await settle();
    const [first] = radio.take(DEV);
    expect(first).toMatchObject({ type: 'publish', dup: false, qos: 1, topic: { kind: 'short', name: 'cm' } });
    clock.advance(5_000);
    clock.advance(5_000);
    const retries = radio.take(DEV);
    expect(retries).toHaveLength(2);
    for (const retry of retries) expect(retry).toMatchObject({ type: 'publish', dup: true, msgId: first?.type === 'publish' ? first.msgId : -1 });
    clock.advance(5_000);
    const [will] = await watcher.waitFor(1, (m) => m.topic === 'wills/sensor-1');
    expect(will?.payload.toString()).toBe('sensor-1 lost');
  });

  it('buffers messages for a sleeping device and delivers them before PINGRESP when it wakes', async () => {
    connectWithWill(30);
    radio.inject(DEV, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'cmd/sensor-1' } });
    await settle();
    const [suback] = radio.take(DEV);
    if (suback?.type !== 'suback') throw new Error('expected SUBACK');
    radio.inject(DEV, { type: 'disconnect', duration: 60 });
    expect(radio.take(DEV)).toEqual([{ type: 'disconnect' }]);
    await watcher.publish('cmd/sensor-1', 'first', 1);
    await watcher.publish('cmd/sensor-1', 'second', 0);
    await settle();
    expect(radio.take(DEV)).toEqual([]); // asleep: nothing goes out
    clock.advance(50_000);
    radio.inject('10.0.0.1:6000', { type: 'pingreq', clientId: 'sensor-1' }); // wakes behind a new port
    const DEV2 = '10.0.0.1:6000';
    await new Promise((resolve) => setImmediate(resolve)); // the QoS 1 message waited in the store
    // Waking is not reconnecting: the ID learnt from SUBACK is still valid, no REGISTER needed.
    let out = radio.take(DEV2);
    expect(out.map((p) => p.type)).toEqual(['publish']);
    const first = out[0];
    if (first?.type !== 'publish') throw new Error('expected PUBLISH');
    expect(first.payload.toString()).toBe('first');
    expect(first.topic).toEqual({ kind: 'normal', id: suback.topicId });
    radio.inject(DEV2, { type: 'puback', topicId: suback.topicId, msgId: first.msgId, returnCode: 0 });
    out = radio.take(DEV2);
    expect(out.map((p) => p.type)).toEqual(['publish', 'pingresp']);
    expect(out[0]?.type === 'publish' && out[0].payload.toString()).toBe('second');
    expect(gateway.sessions.get('sensor-1')?.state).toBe('asleep');
    // Sleep supervision: silent for more than 1.5 x 60 s means lost.
    clock.advance(91_000);
    const [will] = await watcher.waitFor(1, (m) => m.topic === 'wills/sensor-1');
    expect(will?.payload.toString()).toBe('sensor-1 lost');
  });

  it('a persistent session keeps subscriptions and QoS 1 messages across a DISCONNECT', async () => {
    connectWithWill(30, false);
    radio.inject(DEV, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'keep/#' } });
    await settle();
    radio.take(DEV);
    radio.inject(DEV, { type: 'disconnect' });
    radio.take(DEV);
    await watcher.publish('keep/a', 'queued', 1);
    await watcher.publish('keep/b', 'dropped (QoS 0 while away)', 0);
    await settle();
    radio.inject(DEV, { type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 30, clientId: 'sensor-1' });
    await new Promise((resolve) => setImmediate(resolve)); // held in the store while away: read back first
    const out = radio.take(DEV);
    expect(out.map((p) => p.type)).toEqual(['connack', 'register']);
    const register = out[1];
    if (register?.type !== 'register') throw new Error('expected REGISTER');
    expect(register.topicName).toBe('keep/a');
    radio.inject(DEV, { type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    const [publish] = radio.take(DEV);
    expect(publish).toMatchObject({ type: 'publish', qos: 1, topic: { kind: 'normal', id: register.topicId } });
  });
});
