import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

/**
 * A broker that is slow to acknowledge: aedes holding every publish from the gateway until the
 * test releases it. The gateway must answer extra QoS 1 publishes with "rejected: congestion"
 * instead of queueing without bound, and lose nothing it accepted.
 */
describe('congestion toward a slow broker', () => {
  let broker: Aedes;
  let server: net.Server;
  let url: string;
  let gateway: TestGateway;
  let watcher: BrokerClient;
  const held: Array<() => void> = [];
  let holding = true;

  beforeAll(async () => {
    broker = await Aedes.createBroker({
      authorizePublish: (client, _packet, callback) => {
        if (holding && client?.id.startsWith('gw-slow')) held.push(() => callback(null));
        else callback(null);
      },
    });
    server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    gateway = await startTestGateway(url, { broker: { url, clientId: 'gw-slow-1' }, limits: { maxInflight: 3 } });
    watcher = await BrokerClient.connect(url);
    await watcher.subscribe('slow/#');
  });

  afterAll(async () => {
    await watcher.close();
    await gateway.stop();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers PUBACK "rejected: congestion" beyond maxInflight, and delivers every accepted message', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('busy-dev');
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'slow/data' });
    const { topicId } = await dev.expect('regack');
    for (let msgId = 10; msgId < 15; msgId++) {
      dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: topicId }, msgId, payload: Buffer.from(`m${msgId}`) });
    }
    // Three are in flight at the broker; the fourth and fifth are refused at once.
    const refused = [await dev.expect('puback'), await dev.expect('puback')];
    expect(refused.map((p) => [p.msgId, p.returnCode])).toEqual([
      [13, 1],
      [14, 1],
    ]);
    expect(dev.frames.at(-1)).toEqual(Buffer.from([0x07, 0x0d, topicId >> 8, topicId & 0xff, 0x00, 14, 0x01]));
    expect(gateway.running.gateway.stats.congestion).toBe(2);
    holding = false;
    for (const release of held.splice(0)) release();
    const accepted = [await dev.expect('puback'), await dev.expect('puback'), await dev.expect('puback')];
    expect(accepted.map((p) => [p.msgId, p.returnCode])).toEqual([
      [10, 0],
      [11, 0],
      [12, 0],
    ]);
    const got = await watcher.waitFor(3);
    expect(got.map((m) => m.payload.toString())).toEqual(['m10', 'm11', 'm12']);
    dev.close();
  });
});
