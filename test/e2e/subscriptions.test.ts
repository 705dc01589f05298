import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamMessage } from '../../src/upstream/upstream.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)('shared subscriptions and broker restarts (mosquitto)', () => {
  let broker: Mosquitto;
  let gateway: TestGateway;
  let publisher: BrokerClient;
  /** Every message the broker sent to the gateway's one upstream connection. */
  const upstreamSeen: UpstreamMessage[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    gateway = await startTestGateway(broker.url);
    gateway.running.gateway.upstream.on('message', (message) => upstreamSeen.push(message));
    publisher = await BrokerClient.connect(broker.url);
  });

  afterAll(async () => {
    await publisher.close();
    await gateway.stop();
    await broker.stop();
  });

  it('one broker subscription serves two devices, and is released when the last one unsubscribes', async () => {
    const [a, b] = [await RawDevice.open(gateway.port), await RawDevice.open(gateway.port)];
    await a.connect('share-a');
    await b.connect('share-b');
    for (const dev of [a, b]) {
      dev.send({ type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'short', name: 'sh' } });
      await dev.expect('suback');
    }
    expect(gateway.running.gateway.status().filters).toBe(1);
    await publisher.publish('sh', 'to both', 0);
    for (const dev of [a, b]) expect((await dev.expect('publish')).payload.toString()).toBe('to both');
    expect(upstreamSeen.filter((m) => m.topic === 'sh')).toHaveLength(1); // one copy upstream, fanned out here

    a.send({ type: 'unsubscribe', msgId: 2, topic: { kind: 'short', name: 'sh' } });
    expect(await a.expect('unsuback')).toEqual({ type: 'unsuback', msgId: 2 });
    await publisher.publish('sh', 'only b', 0);
    expect((await b.expect('publish')).payload.toString()).toBe('only b');
    await pause(200);
    expect(a.pending()).toEqual([]);

    b.send({ type: 'unsubscribe', msgId: 3, topic: { kind: 'short', name: 'sh' } });
    await b.expect('unsuback');
    await pause(200); // the broker processes the UNSUBSCRIBE
    const before = upstreamSeen.length;
    await publisher.publish('sh', 'nobody', 0);
    await pause(300);
    expect(upstreamSeen.length).toBe(before); // the broker no longer sends it to the gateway
    expect(gateway.running.gateway.status().filters).toBe(0);
    a.close();
    b.close();
  });

  it('after the broker restarts, the gateway reconnects, resubscribes and forwards both ways', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('restart-dev', { keepAlive: 0 });
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'short', name: 'rs' } });
    await dev.expect('suback');
    const port = broker.port;
    await broker.stop();
    await pause(500);
    broker = await startMosquitto('', port);
    const watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('up/#');
    // Device to broker: a QoS 1 publish is acknowledged once the reconnected broker has it.
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'up' }, msgId: 7, payload: Buffer.from('after restart') });
    expect((await dev.expect('puback', 10_000)).returnCode).toBe(0);
    expect((await watcher.waitFor(1))[0]?.payload.toString()).toBe('after restart');
    // Broker to device: the subscription was restored at the new broker.
    for (let i = 0; i < 50 && gateway.running.gateway.upstream.state !== 'connected'; i++) await pause(100);
    await pause(300);
    await watcher.publish('rs', 'resubscribed', 1);
    expect((await dev.expect('publish', 5000)).payload.toString()).toBe('resubscribed');
    await watcher.close();
    dev.close();
  }, 30_000);
});
