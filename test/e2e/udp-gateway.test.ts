import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { brokerKinds, type TestBroker } from '../helpers/brokers.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

const PREDEFINED = { '7': 'plant/pump/state', '8': 'devices/cmd' };

describe.each(brokerKinds)('UDP gateway end to end with $name', ({ skip, start }) => {
  let broker: TestBroker;
  let gateway: TestGateway;
  let watcher: BrokerClient;
  const devices: RawDevice[] = [];

  const device = async (): Promise<RawDevice> => {
    const opened = await RawDevice.open(gateway.port);
    devices.push(opened);
    return opened;
  };

  beforeAll(async () => {
    if (skip) return;
    broker = await start();
    gateway = await startTestGateway(broker.url, { predefined: PREDEFINED, timers: { retryMs: 300, retries: 2, keepAliveTolerance: 1.5 } });
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('#');
  });

  afterEach(() => {
    for (const opened of devices.splice(0)) opened.close();
    watcher?.messages.splice(0);
  });

  afterAll(async () => {
    if (skip) return;
    await watcher.close();
    await gateway.stop();
    await broker.stop();
  });

  it.skipIf(skip)('QoS -1 on a predefined and on a short topic reaches the broker without CONNECT', async () => {
    const dev = await device();
    // 0C PUBLISH, flags 0x61 = QoS -1 | predefined, topic 7, MsgId 0
    dev.sendBytes(Buffer.from([0x0a, 0x0c, 0x61, 0x00, 0x07, 0x00, 0x00, 0x6f, 0x6e, 0x21]));
    // flags 0x62 = QoS -1 | short name "sh"
    dev.sendBytes(Buffer.from([0x09, 0x0c, 0x62, 0x73, 0x68, 0x00, 0x00, 0x68, 0x69]));
    const got = await watcher.waitFor(2, (m) => m.topic === 'plant/pump/state' || m.topic === 'sh');
    expect(got.map((m) => [m.topic, m.payload.toString()]).sort()).toEqual([
      ['plant/pump/state', 'on!'],
      ['sh', 'hi'],
    ]);
    expect(dev.pending()).toEqual([]); // QoS -1 is never answered
  });

  it.skipIf(skip)('QoS 0 on a registered, a predefined and a short topic reaches the broker', async () => {
    const dev = await device();
    await dev.connect('qos0-dev');
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'home/kitchen/temp' });
    const regack = await dev.expect('regack');
    expect(regack).toMatchObject({ msgId: 1, returnCode: 0 });
    expect(regack.topicId).not.toBe(0);
    expect(regack.topicId).not.toBe(0xffff);
    dev.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: regack.topicId }, msgId: 0, payload: Buffer.from('21.5') });
    dev.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'predefined', id: 7 }, msgId: 0, payload: Buffer.from('off') });
    dev.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'ab' }, msgId: 0, payload: Buffer.from('x') });
    const got = await watcher.waitFor(3);
    expect(got.map((m) => [m.topic, m.payload.toString(), m.qos])).toEqual(
      expect.arrayContaining([
        ['home/kitchen/temp', '21.5', 0],
        ['plant/pump/state', 'off', 0],
        ['ab', 'x', 0],
      ]),
    );
  });

  it.skipIf(skip)('QoS 1 is acknowledged with PUBACK only once the broker has it, for each topic-ID type', async () => {
    const dev = await device();
    await dev.connect('qos1-dev');
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'farm/silo/level' });
    const { topicId } = await dev.expect('regack');
    const cases = [
      { topic: { kind: 'normal', id: topicId } as const, name: 'farm/silo/level', idBytes: [topicId >> 8, topicId & 0xff] },
      { topic: { kind: 'predefined', id: 7 } as const, name: 'plant/pump/state', idBytes: [0x00, 0x07] },
      { topic: { kind: 'short', name: 'zz' } as const, name: 'zz', idBytes: [0x7a, 0x7a] },
    ];
    let msgId = 10;
    for (const { topic, name, idBytes } of cases) {
      msgId++;
      dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic, msgId, payload: Buffer.from(`v${msgId}`) });
      await dev.expect('puback');
      // PUBACK on the wire: length 7, type 0D, topic ID, MsgId, return code accepted.
      expect(dev.frames.at(-1)).toEqual(Buffer.from([0x07, 0x0d, ...idBytes, 0x00, msgId, 0x00]));
      const [message] = await watcher.waitFor(1, (m) => m.topic === name && m.payload.toString() === `v${msgId}`);
      expect(message?.qos).toBe(1);
    }
  });

  it.skipIf(skip)('a device that reconnects and starts its MsgIds over is never answered "duplicate": its retransmitted new message reaches the broker', async () => {
    const dev = await device();
    await dev.connect('msgid-restart', { cleanSession: false });
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'mr' }, msgId: 1, payload: Buffer.from('before') });
    await dev.expect('puback');
    await dev.connect('msgid-restart', { cleanSession: false }); // rebooted: MsgIds start at 1 again
    // Its first try was lost on the air; this is the retransmission, with DUP.
    dev.send({ type: 'publish', dup: true, qos: 1, retain: false, topic: { kind: 'short', name: 'mr' }, msgId: 1, payload: Buffer.from('after') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    const [message] = await watcher.waitFor(1, (m) => m.topic === 'mr' && m.payload.toString() === 'after');
    expect(message?.qos).toBe(1);
  });

  it.skipIf(skip)('an unknown topic ID gets PUBACK "invalid topic ID" and nothing reaches the broker', async () => {
    const dev = await device();
    await dev.connect('bad-topic-dev');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: 0x0999 }, msgId: 5, payload: Buffer.from('lost?') });
    await dev.expect('puback');
    expect(dev.frames.at(-1)).toEqual(Buffer.from([0x07, 0x0d, 0x09, 0x99, 0x00, 0x05, 0x02]));
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'predefined', id: 99 }, msgId: 6, payload: Buffer.from('lost?') });
    expect((await dev.expect('puback')).returnCode).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(watcher.messages.filter((m) => m.payload.toString() === 'lost?')).toEqual([]);
  });

  it.skipIf(skip)('broker to device through a wildcard subscription: SUBACK, then REGISTER, then PUBLISH', async () => {
    const dev = await device();
    await dev.connect('wild-dev');
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { kind: 'name', name: 'alerts/+/fire' } });
    const suback = await dev.expect('suback');
    // SUBACK for a wildcard filter carries topic ID 0x0000 (§6.9), granted QoS 1.
    expect(dev.frames.at(-1)).toEqual(Buffer.from([0x08, 0x13, 0x20, 0x00, 0x00, 0x00, 0x03, 0x00]));
    expect(suback.returnCode).toBe(0);
    await watcher.publish('alerts/barn/fire', 'evacuate', 1);
    const register = await dev.next();
    expect(register).toMatchObject({ type: 'register', topicName: 'alerts/barn/fire' });
    if (register.type !== 'register') throw new Error('unreachable');
    expect(dev.pending()).toEqual([]); // no PUBLISH before the REGACK
    dev.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    const publish = await dev.expect('publish');
    expect(publish).toMatchObject({ qos: 1, topic: { kind: 'normal', id: register.topicId }, dup: false });
    expect(publish.payload.toString()).toBe('evacuate');
    dev.send({ type: 'puback', topicId: register.topicId, msgId: publish.msgId, returnCode: 0 });
    // A second message on the same topic reuses the ID without a new REGISTER.
    await watcher.publish('alerts/barn/fire', 'still', 0);
    const second = await dev.next();
    expect(second).toMatchObject({ type: 'publish', qos: 0, topic: { kind: 'normal', id: register.topicId } });
  });

  it.skipIf(skip)('a plain-name subscription returns its topic ID in SUBACK and delivers on it', async () => {
    const dev = await device();
    await dev.connect('plain-dev');
    dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 4, topic: { kind: 'name', name: 'lights/porch' } });
    const suback = await dev.expect('suback');
    expect(suback.topicId).not.toBe(0);
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 5, topic: { kind: 'predefined', id: 8 } });
    expect(await dev.expect('suback')).toMatchObject({ topicId: 8, returnCode: 0, qos: 1 });
    await watcher.publish('lights/porch', 'on', 0);
    await watcher.publish('devices/cmd', 'reboot', 1);
    const first = await dev.expect('publish');
    expect(first).toMatchObject({ topic: { kind: 'normal', id: suback.topicId }, qos: 0 });
    const second = await dev.expect('publish');
    expect(second).toMatchObject({ topic: { kind: 'predefined', id: 8 }, qos: 1 });
    expect(second.payload.toString()).toBe('reboot');
  });

  it.skipIf(skip)('QoS 1 delivery is retried with DUP until the device acknowledges', async () => {
    const dev = await device();
    await dev.connect('retry-dev');
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'short', name: 'rt' } });
    await dev.expect('suback');
    await watcher.publish('rt', 'again', 1);
    const first = await dev.expect('publish');
    expect(first.dup).toBe(false);
    const retry = await dev.expect('publish', 2000); // no PUBACK: T_RETRY is 300 ms here
    expect(retry).toMatchObject({ dup: true, msgId: first.msgId, topic: { kind: 'short', name: 'rt' } });
    dev.send({ type: 'puback', topicId: 0, msgId: first.msgId, returnCode: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(dev.pending().filter((p) => p.type === 'publish')).toEqual([]);
  });

  it.skipIf(skip)('a device that reconnects from a new port keeps its subscriptions', async () => {
    const before = await device();
    await before.connect('roaming-dev', { cleanSession: false });
    before.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'roam/#' } });
    await before.expect('suback');
    before.close();
    const after = await device();
    expect(after.port).not.toBe(before.port);
    await after.connect('roaming-dev', { cleanSession: false });
    await watcher.publish('roam/here', 'found you', 1);
    const register = await after.expect('register');
    expect(register.topicName).toBe('roam/here');
    after.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    const publish = await after.expect('publish');
    expect(publish.payload.toString()).toBe('found you');
  });

  it.skipIf(skip)('a datagram of random bytes is dropped and counted, and other devices are still served', async () => {
    const stats = gateway.running.gateway.stats;
    const malformedBefore = stats.malformed;
    const noisy = await device();
    const garbage = [Buffer.from([0x00]), Buffer.from([0x05, 0x0c, 0x00]), Buffer.from([0xff, 0x99, 0x01]), randomBytes(64)];
    for (const frame of garbage) noisy.sendBytes(frame);
    const dev = await device();
    await dev.connect('after-noise');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'ok' }, msgId: 1, payload: Buffer.from('alive') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    await watcher.waitFor(1, (m) => m.topic === 'ok');
    expect(stats.malformed - malformedBefore).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(skip)('a silent device is lost after 1.5 x keep-alive and its will reaches the broker', async () => {
    const dev = await device();
    dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 1, clientId: 'will-dev' });
    await dev.expect('willtopicreq');
    dev.send({ type: 'willtopic', qos: 1, retain: false, topic: 'status/will-dev' });
    await dev.expect('willmsgreq');
    dev.send({ type: 'willmsg', payload: Buffer.from('gone') });
    expect((await dev.expect('connack')).returnCode).toBe(0);
    const [will] = await watcher.waitFor(1, (m) => m.topic === 'status/will-dev', 5000);
    expect(will?.payload.toString()).toBe('gone');
  });
});
