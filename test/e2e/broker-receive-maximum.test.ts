import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway } from '../helpers/gateway.js';
import { mosquittoSkipReason, startMosquitto } from '../helpers/mosquitto.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = mosquittoSkipReason();

/** A TCP relay that delays what the broker sends by `delayMs`: a broker across a slow link. */
async function slowLink(brokerPort: number, delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect(brokerPort, '127.0.0.1');
    sockets.add(client).add(broker);
    client.on('data', (chunk) => broker.write(chunk));
    broker.on('data', (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
    const end = (): void => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', end).on('close', end);
    broker.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * mosquitto (3.1.1) holds each incoming QoS 2 message until PUBREL; at max_inflight_messages (20)
 * held, it answers every further QoS 1 PUBLISH with PUBACK and drops it. Over a slow broker link a
 * burst of QoS 2 from devices reaches that: the gateway must keep its QoS 2 in flight below it, or
 * another device's acknowledged QoS 1 message is lost.
 */
describe.skipIf(skip)("the broker's receive maximum (mosquitto, 150 ms away)", () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('a burst of 40 QoS 2 publishes does not cost a QoS 1 message from another device that the gateway acknowledged', async () => {
    const mosquitto = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const link = await slowLink(Number(new URL(mosquitto.url).port), 150);
    cleanup.push(() => link.close());
    const gateway = await startTestGateway(link.url);
    cleanup.push(() => gateway.stop());
    const watcher = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => watcher.close());
    await watcher.subscribe('+', 1);

    const devices = await Promise.all([0, 1, 2, 3].map(() => RawDevice.open(gateway.port)));
    cleanup.push(async () => devices.forEach((device) => device.close()));
    for (const [i, device] of devices.entries()) await device.connect(`burst-${i}`, { keepAlive: 60 });
    const meter = await RawDevice.open(gateway.port);
    cleanup.push(async () => meter.close());
    await meter.connect('meter', { keepAlive: 60 });
    meter.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'meter' });
    const { topicId } = await meter.expect('regack');

    // 4 devices x 10 QoS 2 (within limits.maxInflight each), then the meter's QoS 1 right behind.
    for (const [i, device] of devices.entries()) {
      for (let msgId = 1; msgId <= 10; msgId++) device.send({ type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'short', name: `b${i}` }, msgId, payload: Buffer.from(`${i}-${msgId}`) });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    meter.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: topicId }, msgId: 2, payload: Buffer.from('reading-1') });
    expect(await meter.expect('puback', 10_000)).toMatchObject({ msgId: 2, returnCode: 0 });

    // Acknowledged means at the broker: the watcher gets it, and all 40 QoS 2 messages too.
    expect((await watcher.waitFor(1, (m) => m.topic === 'meter', 5000)).map((m) => m.payload.toString())).toEqual(['reading-1']);
    await watcher.waitFor(40, (m) => m.topic.startsWith('b'), 20_000).catch(() => undefined);
    expect(watcher.messages.filter((m) => /^b\d$/.test(m.topic))).toHaveLength(40);
  }, 60_000);
});
