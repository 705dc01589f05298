import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterCovers } from '../../src/gateway/access.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('topic filter coverage for subscribe rules', () => {
  it.each([
    ['cmd/sensor-1/#', 'cmd/sensor-1/#', true],
    ['cmd/sensor-1/#', 'cmd/sensor-1/valve', true],
    ['cmd/sensor-1/#', 'cmd/#', false],
    ['cmd/+/valve', 'cmd/a/valve', true],
    ['cmd/+/valve', 'cmd/+/valve', true],
    ['cmd/a/valve', 'cmd/+/valve', false],
    ['#', 'anything/+/#', true],
    ['a/b', 'a/b/c', false],
  ])('%s covers %s: %s', (allowed, requested, covers) => {
    expect(filterCovers(allowed, requested)).toBe(covers);
  });
});

describe('access control (config access)', () => {
  let broker: EmbeddedBroker;
  let gateway: TestGateway;
  let watcher: BrokerClient;

  beforeAll(async () => {
    broker = await startEmbeddedBroker(0);
    gateway = await startTestGateway(broker.url, {
      predefined: { 7: 'sensors/sensor-1/alarm' },
      access: {
        clients: ['sensor-1', 'good-*'],
        acl: { 'sensor-1': { publish: ['sensors/sensor-1/#'], subscribe: ['cmd/sensor-1/#'] } },
        qosMinusOneFrom: ['10.0.0.*'],
      },
    });
    watcher = (await BrokerClient.connect(broker.url)).ignore();
    await watcher.subscribe('#', 1);
  });
  afterAll(async () => {
    await watcher?.close();
    await gateway?.stop();
    await broker?.close();
  });

  it('a client ID not on the allow-list gets CONNACK "rejected: not supported"; patterns work', async () => {
    const intruder = await RawDevice.open(gateway.port);
    intruder.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'intruder' });
    expect(await intruder.expect('connack')).toEqual({ type: 'connack', returnCode: 0x03 });
    expect(gateway.running.gateway.sessions.get('intruder')).toBeUndefined();
    intruder.close();
    const good = await RawDevice.open(gateway.port);
    await good.connect('good-42');
    good.close();
  });

  it('publishes outside the client\'s rules get PUBACK "not supported" and never reach the broker', async () => {
    const before = gateway.running.gateway.stats.accessDenied;
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('sensor-1');
    for (const [msgId, name] of [[1, 'sensors/sensor-1/temp'], [2, 'sensors/sensor-2/temp']] as const) {
      dev.send({ type: 'register', topicId: 0, msgId, topicName: name });
      const regack = await dev.expect('regack');
      dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: regack.topicId }, msgId: 10 + msgId, payload: Buffer.from(name) });
      expect((await dev.expect('puback')).returnCode).toBe(name.includes('sensor-1') ? 0 : 0x03);
    }
    // QoS 0 outside the rules: no answer exists, so it is dropped and counted.
    dev.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'zz' }, msgId: 0, payload: Buffer.from('nope') });
    await pause(300);
    expect(watcher.messages.map((m) => m.topic)).toEqual(['sensors/sensor-1/temp']);
    expect(gateway.running.gateway.stats.accessDenied - before).toBe(2);
    dev.close();
  });

  it('subscriptions outside the client\'s rules get SUBACK "not supported"', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('sensor-1');
    const subscribe = async (msgId: number, name: string): Promise<number> => {
      dev.send({ type: 'subscribe', dup: false, qos: 1, msgId, topic: { kind: 'name', name } });
      return (await dev.expect('suback')).returnCode;
    };
    expect(await subscribe(1, 'cmd/sensor-1/#')).toBe(0);
    expect(await subscribe(2, 'cmd/sensor-1/valve')).toBe(0);
    expect(await subscribe(3, 'cmd/#')).toBe(0x03); // wider than allowed
    expect(await subscribe(4, 'cmd/+/valve')).toBe(0x03);
    dev.close();
  });

  it('a will on a topic outside the client\'s publish rules is refused at CONNECT and at WILLTOPICUPD', async () => {
    const dev = await RawDevice.open(gateway.port);
    dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: 'sensor-1' });
    await dev.expect('willtopicreq');
    dev.send({ type: 'willtopic', qos: 1, retain: false, topic: 'alarms/everyone' });
    expect((await dev.expect('connack')).returnCode).toBe(0x03);
    await dev.connect('sensor-1');
    dev.send({ type: 'willtopicupd', qos: 1, retain: false, topic: 'alarms/everyone' });
    expect((await dev.expect('willtopicresp')).returnCode).toBe(0x03);
    dev.send({ type: 'willtopicupd', qos: 1, retain: false, topic: 'sensors/sensor-1/gone' });
    expect((await dev.expect('willtopicresp')).returnCode).toBe(0);
    dev.close();
  });

  it('QoS -1 only from the allowed addresses: from loopback it is dropped and counted', async () => {
    const dev = await RawDevice.open(gateway.port);
    const dropped = gateway.running.gateway.stats.qosMinusOneDropped;
    dev.send({ type: 'publish', dup: false, qos: -1, retain: false, topic: { kind: 'predefined', id: 7 }, msgId: 0, payload: Buffer.from('fire') });
    await pause(300);
    expect(gateway.running.gateway.stats.qosMinusOneDropped).toBe(dropped + 1);
    expect(watcher.messages.filter((m) => m.topic === 'sensors/sensor-1/alarm')).toEqual([]);
    dev.close();
  });

  it('a device address not allowed on its radio is refused at CONNECT', async () => {
    const other = await startTestGateway(broker.url, { access: { addresses: { 'udp://127.0.0.1:0': ['10.0.0.*'] } } });
    try {
      const dev = await RawDevice.open(other.port);
      dev.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'anyone' });
      expect((await dev.expect('connack')).returnCode).toBe(0x03);
      dev.close();
    } finally {
      await other.stop();
    }
  });
});

describe('limits: topic names per device', () => {
  it('beyond limits.maxTopics, REGISTER and SUBSCRIBE get "rejected: congestion"; UNSUBSCRIBE frees a name', async () => {
    const broker = await startEmbeddedBroker(0);
    const gateway = await startTestGateway(broker.url, { limits: { maxTopics: 2 } });
    try {
      const dev = await RawDevice.open(gateway.port);
      await dev.connect('topic-hoarder');
      dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'a/1' });
      expect((await dev.expect('regack')).returnCode).toBe(0);
      dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 2, topic: { kind: 'name', name: 'a/2' } });
      expect((await dev.expect('suback')).returnCode).toBe(0);
      dev.send({ type: 'register', topicId: 0, msgId: 3, topicName: 'a/3' });
      expect(await dev.expect('regack')).toMatchObject({ topicId: 0, returnCode: 0x01 });
      dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 4, topic: { kind: 'name', name: 'a/4' } });
      expect((await dev.expect('suback')).returnCode).toBe(0x01);
      // A name it already holds is fine, and a wildcard needs no ID.
      dev.send({ type: 'register', topicId: 0, msgId: 5, topicName: 'a/1' });
      expect((await dev.expect('regack')).returnCode).toBe(0);
      dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 6, topic: { kind: 'name', name: 'b/#' } });
      expect((await dev.expect('suback')).returnCode).toBe(0);
      // Unsubscribing releases the subscription's name: room for another.
      dev.send({ type: 'unsubscribe', msgId: 7, topic: { kind: 'name', name: 'a/2' } });
      await dev.expect('unsuback');
      dev.send({ type: 'register', topicId: 0, msgId: 8, topicName: 'a/3' });
      expect((await dev.expect('regack')).returnCode).toBe(0);
      // A name it REGISTERed to publish keeps its ID through an UNSUBSCRIBE of the same name.
      dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 9, topic: { kind: 'name', name: 'a/1' } });
      const subscribed = await dev.expect('suback');
      dev.send({ type: 'unsubscribe', msgId: 10, topic: { kind: 'name', name: 'a/1' } });
      await dev.expect('unsuback');
      dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: subscribed.topicId }, msgId: 11, payload: Buffer.from('still mine') });
      expect((await dev.expect('puback')).returnCode).toBe(0);
      dev.close();
    } finally {
      await gateway.stop();
      await broker.close();
    }
  });
});
