import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Packet } from '../../src/codec/index.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startClockedGateway } from '../helpers/clocked-gateway.js';
import { MemoryRadio } from '../helpers/memory-radio.js';

/**
 * Every client state transition of MQTT-SN 1.2 §6.14 as the gateway sees it, on a manual clock:
 * active, asleep, awake, lost, disconnected (and back to active by CONNECT from each).
 */
describe('client state machine (MQTT-SN 1.2 §6.14)', () => {
  let broker: EmbeddedBroker;
  let watcher: BrokerClient;
  let gateway: Gateway;
  let radio: MemoryRadio;
  let clock: ManualClock;
  const DEV = 'dev:1';
  const ID = 'state-dev';

  beforeAll(async () => {
    broker = await startEmbeddedBroker(0);
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('#');
  });

  afterAll(async () => {
    await watcher.close();
    await broker.close();
  });

  beforeEach(async () => {
    clock = new ManualClock(0);
    radio = new MemoryRadio();
    gateway = await startClockedGateway({ brokerUrl: broker.url, radio, clock, clientId: `gw-states-${Math.random()}`, config: { dataDir: 'none', timers: { retryMs: 1000, retries: 1, keepAliveTolerance: 1.5 } } });
    watcher.messages.splice(0);
  });

  afterEach(async () => {
    await gateway.stop();
  });

  const state = (): string | undefined => gateway.sessions.get(ID)?.state;
  const send = (packet: Packet, from = DEV): Packet[] => {
    radio.inject(from, packet);
    return radio.take(from);
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));
  /** Like send, for a wake-up: what was held for a sleeping device is read back from the store first. */
  const exchange = async (packet: Packet, from = DEV): Promise<Packet[]> => {
    radio.inject(from, packet);
    await new Promise((resolve) => setImmediate(resolve));
    return radio.take(from);
  };

  function connect(keepAlive = 10, cleanSession = true, from = DEV): void {
    const out = send({ type: 'connect', will: true, cleanSession, protocolId: 1, duration: keepAlive, clientId: ID }, from);
    expect(out).toEqual([{ type: 'willtopicreq' }]);
    send({ type: 'willtopic', qos: 0, retain: false, topic: `wills/${ID}` }, from);
    expect(send({ type: 'willmsg', payload: Buffer.from('lost') }, from)).toEqual([{ type: 'connack', returnCode: 0 }]);
  }

  async function subscribe(): Promise<void> {
    radio.inject(DEV, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'short', name: 'st' } });
    await settle();
    expect(radio.take(DEV)).toMatchObject([{ type: 'suback', returnCode: 0 }]);
  }

  const wills = (): number => watcher.messages.filter((m) => m.topic === `wills/${ID}`).length;

  it('(none) -> active on CONNECT', () => {
    expect(state()).toBeUndefined();
    connect();
    expect(state()).toBe('active');
  });

  it('active -> asleep on DISCONNECT with a duration, answered by DISCONNECT without one', () => {
    connect();
    expect(send({ type: 'disconnect', duration: 30 })).toEqual([{ type: 'disconnect' }]);
    expect(state()).toBe('asleep');
  });

  it('active -> disconnected on DISCONNECT (persistent session kept, no will)', async () => {
    connect(10, false);
    expect(send({ type: 'disconnect' })).toEqual([{ type: 'disconnect' }]);
    expect(state()).toBe('disconnected');
    clock.advance(120_000);
    await settle();
    expect(wills()).toBe(0);
  });

  it('active -> lost after 1.5 x keep-alive of silence, will published', async () => {
    connect(10);
    clock.advance(15_000);
    expect(state()).toBe('active');
    clock.advance(1_000);
    await watcher.waitFor(1, (m) => m.topic === `wills/${ID}`);
    expect(gateway.sessions.get(ID)).toBeUndefined(); // clean session: gone entirely
  });

  it('active -> lost when deliveries stay unacknowledged after the retries', async () => {
    connect(0, false);
    await subscribe();
    await watcher.publish('st', 'x', 1);
    await settle();
    expect(radio.take(DEV).map((p) => p.type)).toEqual(['publish']);
    clock.advance(1_000); // retry 1 (DUP)
    clock.advance(1_000); // retries exhausted
    expect(state()).toBe('lost');
    await watcher.waitFor(1, (m) => m.topic === `wills/${ID}`);
  });

  it('asleep -> awake on PINGREQ with the client ID, then -> asleep after the flush and PINGRESP', async () => {
    connect();
    await subscribe();
    send({ type: 'disconnect', duration: 30 });
    await watcher.publish('st', 'queued', 1);
    await settle();
    expect(radio.take(DEV)).toEqual([]);
    const out = await exchange({ type: 'pingreq', clientId: ID });
    expect(out.map((p) => p.type)).toEqual(['publish']);
    expect(state()).toBe('awake');
    const publish = out[0] as Extract<Packet, { type: 'publish' }>;
    expect(send({ type: 'puback', topicId: 0, msgId: publish.msgId, returnCode: 0 })).toEqual([{ type: 'pingresp' }]);
    expect(state()).toBe('asleep');
  });

  it('asleep -> asleep: a new DISCONNECT with a duration restarts the sleep timer with the new value', async () => {
    connect();
    send({ type: 'disconnect', duration: 10 });
    clock.advance(14_000);
    send({ type: 'disconnect', duration: 100 });
    clock.advance(100_000);
    await settle();
    expect(state()).toBe('asleep');
    expect(wills()).toBe(0);
  });

  it('asleep -> lost after 1.5 x the sleep duration, will published', async () => {
    connect();
    send({ type: 'disconnect', duration: 20 });
    clock.advance(30_000);
    expect(state()).toBe('asleep');
    clock.advance(1_000);
    await watcher.waitFor(1, (m) => m.topic === `wills/${ID}`);
  });

  it('asleep -> disconnected on DISCONNECT', () => {
    connect(10, false);
    send({ type: 'disconnect', duration: 20 });
    expect(send({ type: 'disconnect' })).toEqual([{ type: 'disconnect' }]);
    expect(state()).toBe('disconnected');
  });

  it('asleep -> active on CONNECT, delivering what was buffered', async () => {
    connect(10, false);
    await subscribe();
    send({ type: 'disconnect', duration: 20 });
    await watcher.publish('st', 'while asleep', 1);
    await settle();
    const out = await exchange({ type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 10, clientId: ID });
    expect(out.map((p) => p.type)).toEqual(['connack', 'publish']);
    expect(state()).toBe('active');
  });

  it('awake -> asleep again mid-flush: the rest is kept for the next wake-up', async () => {
    connect();
    await subscribe();
    send({ type: 'disconnect', duration: 30 });
    await watcher.publish('st', 'one', 1);
    await watcher.publish('st', 'two', 1);
    await settle();
    const first = await exchange({ type: 'pingreq', clientId: ID });
    expect(first.map((p) => p.type)).toEqual(['publish']);
    // No PUBACK: the device goes back to sleep.
    expect(send({ type: 'disconnect', duration: 30 })).toEqual([{ type: 'disconnect' }]);
    expect(state()).toBe('asleep');
    const again = await exchange({ type: 'pingreq', clientId: ID });
    const publish = again[0] as Extract<Packet, { type: 'publish' }>;
    expect(publish.payload.toString()).toBe('one');
    const next = send({ type: 'puback', topicId: 0, msgId: publish.msgId, returnCode: 0 });
    expect(next.map((p) => p.type)).toEqual(['publish']);
    const second = next[0] as Extract<Packet, { type: 'publish' }>;
    expect(second.payload.toString()).toBe('two');
    expect(send({ type: 'puback', topicId: 0, msgId: second.msgId, returnCode: 0 })).toEqual([{ type: 'pingresp' }]);
  });

  it('awake -> lost when the device stops answering during the flush', async () => {
    connect();
    await subscribe();
    send({ type: 'disconnect', duration: 30 });
    await watcher.publish('st', 'unanswered', 1);
    await settle();
    await exchange({ type: 'pingreq', clientId: ID });
    clock.advance(2_000);
    expect(state()).toBeUndefined(); // clean session: lost and gone
    await watcher.waitFor(1, (m) => m.topic === `wills/${ID}`);
  });

  it('awake -> disconnected on DISCONNECT, and awake -> active on CONNECT', async () => {
    connect(10, false);
    await subscribe();
    send({ type: 'disconnect', duration: 30 });
    await watcher.publish('st', 'a', 1);
    await watcher.publish('st', 'b', 1);
    await settle();
    await exchange({ type: 'pingreq', clientId: ID });
    expect(state()).toBe('awake'); // waiting for the PUBACK of the first message
    expect(send({ type: 'disconnect' })).toEqual([{ type: 'disconnect' }]);
    expect(state()).toBe('disconnected');
    send({ type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 10, clientId: ID });
    expect(state()).toBe('active');
    send({ type: 'disconnect', duration: 30 });
    await exchange({ type: 'pingreq', clientId: ID });
    expect(state()).toBe('awake');
    const out = await exchange({ type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 10, clientId: ID });
    expect(out.map((p) => p.type)).toEqual(['connack', 'publish']); // the unacknowledged one again
    expect(state()).toBe('active');
  });

  it('lost -> active and disconnected -> active on CONNECT', () => {
    connect(10, false);
    clock.advance(16_000);
    expect(state()).toBe('lost');
    connect(10, false);
    expect(state()).toBe('active');
    send({ type: 'disconnect' });
    expect(state()).toBe('disconnected');
    connect(10, false);
    expect(state()).toBe('active');
  });

  it('an empty WILLTOPICUPD deletes the will: a device lost afterwards publishes nothing', async () => {
    connect(10);
    expect(send({ type: 'willtopicupd', qos: 0, retain: false, topic: '' })).toEqual([{ type: 'willtopicresp', returnCode: 0 }]);
    clock.advance(16_000);
    await settle();
    expect(state()).toBeUndefined(); // lost (clean session: gone)
    expect(wills()).toBe(0);
  });

  it('a will with QoS 1 and retain is published that way when the device is lost', async () => {
    send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 10, clientId: ID });
    send({ type: 'willtopic', qos: 1, retain: true, topic: `wills/${ID}` });
    send({ type: 'willmsg', payload: Buffer.from('retained will') });
    clock.advance(16_000);
    const [will] = await watcher.waitFor(1, (m) => m.topic === `wills/${ID}`);
    expect(will).toMatchObject({ qos: 1, retain: false }); // retain is cleared on live delivery (MQTT 3.1.1 §3.3.1.3)
    const late = await BrokerClient.connect(broker.url); // a later subscriber gets the retained copy
    await late.subscribe(`wills/${ID}`);
    const [retained] = await late.waitFor(1);
    expect(retained).toMatchObject({ retain: true });
    expect(retained?.payload.toString()).toBe('retained will');
    await late.publish(`wills/${ID}`, '', 1, true); // clear it for the other tests
    await late.close();
  });

  it('a PINGREQ with the wrong client ID leaves a sleeping device asleep', () => {
    connect();
    send({ type: 'disconnect', duration: 30 });
    expect(send({ type: 'pingreq', clientId: 'someone-else' })).toEqual([]);
    expect(state()).toBe('asleep');
  });
});
