import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Limits answer with "rejected: congestion" (or drop and count), never a silent loss or a crash. */
describe('limits', () => {
  let broker: EmbeddedBroker;
  let gateway: TestGateway;
  let watcher: BrokerClient;

  beforeAll(async () => {
    broker = await startEmbeddedBroker(0);
    gateway = await startTestGateway(broker.url, { limits: { maxClients: 2, maxInflight: 64, maxMessageSize: 400, maxTopics: 1000 } });
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('big/#', 1);
  });
  afterAll(async () => {
    await watcher?.close();
    await gateway?.stop();
    await broker?.close();
  });

  it('a client beyond maxClients gets CONNACK "rejected: congestion"; a known one still reconnects', async () => {
    const devices = await Promise.all([1, 2, 3].map(() => RawDevice.open(gateway.port)));
    await devices[0]!.connect('limit-1');
    await devices[1]!.connect('limit-2');
    devices[2]!.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'limit-3' });
    expect(await devices[2]!.expect('connack')).toEqual({ type: 'connack', returnCode: 0x01 });
    devices[0]!.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'limit-1' });
    expect((await devices[0]!.expect('connack')).returnCode).toBe(0);
    for (const dev of devices) dev.close();
  });

  it('payloads up to maxMessageSize use the 3-octet length form; a larger datagram is dropped and counted', async () => {
    const dev = await RawDevice.open(gateway.port);
    // maxClients is 2: make room by reusing a known client ID.
    await dev.connect('limit-2');
    const fits = Buffer.alloc(390 - 9, 0x61); // 3-octet length form: total 390 octets
    const frame = encode({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'bg' }, msgId: 1, payload: fits });
    expect(frame[0]).toBe(0x01); // the 3-octet length form
    expect(frame.length).toBe(390);
    dev.sendBytes(frame);
    expect((await dev.expect('puback')).returnCode).toBe(0);
    const oversized = gateway.running.gateway.stats.oversized;
    dev.sendBytes(encode({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'bg' }, msgId: 2, payload: Buffer.alloc(500) }));
    await pause(300);
    expect(gateway.running.gateway.stats.oversized).toBe(oversized + 1);
    expect(dev.pending()).toEqual([]);
    dev.close();
  });
});
