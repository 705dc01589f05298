import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { brokerKinds, type TestBroker } from '../helpers/brokers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** QoS 2 (MQTT-SN 1.2 §6.7) both ways: exactly once, across lost PUBREC, PUBREL and PUBCOMP. */
describe.each(brokerKinds)('QoS 2 end to end ($name)', ({ skip, start }) => {
  let broker: TestBroker;
  let gateway: TestGateway;
  let watcher: MqttClient;
  const atBroker: Array<{ topic: string; payload: string; qos: number }> = [];

  beforeAll(async () => {
    if (skip) return;
    broker = await start();
    gateway = await startTestGateway(broker.url, { timers: { retryMs: 300, retries: 5, keepAliveTolerance: 1.5 } });
    watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    watcher.on('message', (topic, payload, packet) => atBroker.push({ topic, payload: payload.toString(), qos: packet.qos }));
    await watcher.subscribeAsync('q2/#', { qos: 2 });
  });
  afterAll(async () => {
    await watcher?.endAsync(true);
    await gateway?.stop();
    await broker?.stop();
  });

  it.skipIf(skip)('device to broker: forwarded once though PUBLISH and PUBREL are repeated, PUBCOMP always answered', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('q2-publisher');
    const publish = { type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'short', name: 'q2' }, msgId: 5, payload: Buffer.from('exactly once') } as const;
    dev.send(publish);
    expect(await dev.expect('pubrec')).toEqual({ type: 'pubrec', msgId: 5 });
    // Our PUBREC "was lost": the device sends the PUBLISH again with DUP. Answered, not forwarded.
    dev.send({ ...publish, dup: true });
    expect(await dev.expect('pubrec')).toEqual({ type: 'pubrec', msgId: 5 });
    dev.send({ type: 'pubrel', msgId: 5 });
    expect(await dev.expect('pubcomp')).toEqual({ type: 'pubcomp', msgId: 5 });
    // The PUBCOMP "was lost": PUBREL again is answered again.
    dev.send({ type: 'pubrel', msgId: 5 });
    expect(await dev.expect('pubcomp')).toEqual({ type: 'pubcomp', msgId: 5 });
    await pause(300);
    expect(atBroker.filter((m) => m.topic === 'q2')).toEqual([{ topic: 'q2', payload: 'exactly once', qos: 2 }]);
    // The MsgId is free again: a new message with it is a new message.
    dev.send({ ...publish, payload: Buffer.from('second') });
    await dev.expect('pubrec');
    dev.send({ type: 'pubrel', msgId: 5 });
    await dev.expect('pubcomp');
    await pause(200);
    expect(atBroker.filter((m) => m.topic === 'q2').map((m) => m.payload)).toEqual(['exactly once', 'second']);
    dev.close();
  });

  it.skipIf(skip)('broker to device: granted QoS 2, PUBLISH retried until PUBREC, PUBREL retried until PUBCOMP, delivered once', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('q2-subscriber');
    dev.send({ type: 'subscribe', dup: false, qos: 2, msgId: 1, topic: { kind: 'short', name: 'q3' } });
    expect(await dev.expect('suback')).toMatchObject({ qos: 2, returnCode: 0 });
    await watcher.publishAsync('q3', 'to the device', { qos: 2 });

    const first = await dev.expect('publish');
    expect(first).toMatchObject({ qos: 2, dup: false });
    expect(first.payload.toString()).toBe('to the device');
    // No PUBREC (lost): the gateway sends the same PUBLISH again, flagged DUP, same MsgId.
    const again = await dev.expect('publish', 2000);
    expect(again).toMatchObject({ qos: 2, dup: true, msgId: first.msgId });
    dev.send({ type: 'pubrec', msgId: first.msgId });
    expect(await dev.expect('pubrel')).toEqual({ type: 'pubrel', msgId: first.msgId });
    // No PUBCOMP (lost): PUBREL again, never the PUBLISH (the device already has the message).
    expect(await dev.expect('pubrel', 2000)).toEqual({ type: 'pubrel', msgId: first.msgId });
    dev.send({ type: 'pubcomp', msgId: first.msgId });
    await pause(800);
    expect(dev.pending()).toEqual([]);
    const publishes = dev.frames.filter((frame) => frame[1] === 0x0c);
    expect(publishes).toHaveLength(2); // the first and its one DUP retry, nothing after PUBREC

    // The queue moves on: the next message is delivered normally.
    await watcher.publishAsync('q3', 'next', { qos: 2 });
    const next = await dev.expect('publish');
    expect(next.payload.toString()).toBe('next');
    dev.send({ type: 'pubrec', msgId: next.msgId });
    await dev.expect('pubrel');
    dev.send({ type: 'pubcomp', msgId: next.msgId });
    dev.close();
  });
});

describe('QoS 2 across a gateway restart', () => {
  it('a PUBLISH repeated after the restart (its PUBREC was lost) is answered, not forwarded again', async () => {
    const { startEmbeddedBroker } = await import('../../src/upstream/embedded-broker.js');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const broker = await startEmbeddedBroker(0);
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-q2-'));
    const watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const seen: string[] = [];
    watcher.on('message', (_topic, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync('q4', { qos: 2 });
    let gateway = await startTestGateway(broker.url, { dataDir });
    try {
      let dev = await RawDevice.open(gateway.port);
      await dev.connect('q2-restart', { cleanSession: false });
      const publish = { type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'short', name: 'q4' }, msgId: 9, payload: Buffer.from('once') } as const;
      dev.send(publish);
      await dev.expect('pubrec'); // ... which the device "never got"
      await pause(100);
      await gateway.stop();
      dev.close();

      gateway = await startTestGateway(broker.url, { dataDir });
      dev = await RawDevice.open(gateway.port);
      await dev.connect('q2-restart', { cleanSession: false });
      dev.send({ ...publish, dup: true });
      expect(await dev.expect('pubrec')).toEqual({ type: 'pubrec', msgId: 9 });
      dev.send({ type: 'pubrel', msgId: 9 });
      expect(await dev.expect('pubcomp')).toEqual({ type: 'pubcomp', msgId: 9 });
      await pause(300);
      expect(seen).toEqual(['once']);
      dev.close();
    } finally {
      await gateway.stop();
      await watcher.endAsync(true);
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
