import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { brokerKinds, type TestBroker } from '../helpers/brokers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retained messages both ways (MQTT-SN 1.2 §5.3.4 Retain flag, §6.9). */
describe.each(brokerKinds)('retained messages ($name)', ({ skip, start }) => {
  let broker: TestBroker;
  let gateway: TestGateway;
  let watcher: MqttClient;

  beforeAll(async () => {
    if (skip) return;
    broker = await start();
    gateway = await startTestGateway(broker.url);
    watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await watcher.publishAsync('ret/lamp', 'on', { qos: 1, retain: true });
  });
  afterAll(async () => {
    await watcher?.endAsync(true);
    await gateway?.stop();
    await broker?.stop();
  });

  it.skipIf(skip)('a SUBSCRIBE repeated while its retained replay is on (its SUBACK lost) does not bring the retained messages again', async () => {
    const device = await RawDevice.open(gateway.port);
    await device.connect('ret-repeat');
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ret/lamp' } });
    const suback = await device.expect('suback');
    const retained = await device.expect('publish');
    device.send({ type: 'puback', topicId: suback.topicId, msgId: retained.msgId, returnCode: 0 });
    device.send({ type: 'subscribe', dup: true, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ret/lamp' } });
    expect((await device.expect('suback')).returnCode).toBe(0);
    await pause(500);
    expect(device.pending().filter((packet) => packet.type === 'publish')).toEqual([]);
    device.close();
  });

  it.skipIf(skip)('every device that subscribes gets the retained message, with REGISTER first for a wildcard, and nobody gets it twice', async () => {
    const first = await RawDevice.open(gateway.port);
    await first.connect('ret-first');
    first.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ret/lamp' } });
    const suback = await first.expect('suback');
    const retained = await first.expect('publish');
    expect(retained).toMatchObject({ retain: true, qos: 1, topic: { kind: 'normal', id: suback.topicId } });
    expect(retained.payload.toString()).toBe('on');
    first.send({ type: 'puback', topicId: suback.topicId, msgId: retained.msgId, returnCode: 0 });

    // A second device subscribing to a filter the gateway already holds at the broker.
    const second = await RawDevice.open(gateway.port);
    await second.connect('ret-second');
    second.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ret/lamp' } });
    const secondSuback = await second.expect('suback');
    const replayed = await second.expect('publish');
    expect(replayed).toMatchObject({ retain: true, topic: { kind: 'normal', id: secondSuback.topicId } });
    expect(replayed.payload.toString()).toBe('on');
    second.send({ type: 'puback', topicId: secondSuback.topicId, msgId: replayed.msgId, returnCode: 0 });

    // A wildcard subscriber has no ID for the topic yet: REGISTER comes before the retained PUBLISH.
    const third = await RawDevice.open(gateway.port);
    await third.connect('ret-third');
    third.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ret/#' } });
    await third.expect('suback');
    const register = await third.next();
    expect(register).toMatchObject({ type: 'register', topicName: 'ret/lamp' });
    if (register.type !== 'register') throw new Error('unreachable');
    third.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    const wild = await third.expect('publish');
    expect(wild).toMatchObject({ retain: true, topic: { kind: 'normal', id: register.topicId } });
    third.send({ type: 'puback', topicId: register.topicId, msgId: wild.msgId, returnCode: 0 });

    await pause(500);
    expect(first.pending()).toEqual([]); // the replays for the others never reached the first device
    expect(second.pending()).toEqual([]);
    // A live publish reaches all three, not flagged retained (an established subscription).
    await watcher.publishAsync('ret/lamp', 'off', { qos: 1, retain: true });
    for (const dev of [first, second, third]) {
      const live = await dev.expect('publish');
      expect({ retain: live.retain, payload: live.payload.toString() }).toEqual({ retain: false, payload: 'off' });
      dev.close();
    }
  });

  it.skipIf(skip)('a device\'s retained PUBLISH is retained at the broker', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('ret-publisher');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: true, topic: { kind: 'short', name: 'rt' }, msgId: 4, payload: Buffer.from('kept') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    const late = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const got = new Promise<{ payload: string; retain: boolean }>((resolve) => late.on('message', (_topic, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain })));
    await late.subscribeAsync('rt', { qos: 1 });
    expect(await got).toEqual({ payload: 'kept', retain: true });
    await late.endAsync(true);
    dev.close();
  });
});
