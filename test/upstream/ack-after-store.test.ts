import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { MqttUpstream } from '../../src/upstream/mqtt-upstream.js';
import type { UpstreamMessage } from '../../src/upstream/upstream.js';
import { BrokerClient } from '../helpers/broker-client.js';

/**
 * A QoS 1 message for a sleeping device must be acknowledged to the broker only once the gateway
 * has stored it: the broker keeps it (and would redeliver it) until then.
 */
describe('upstream acknowledgement waits for the message handler', () => {
  let broker: Aedes;
  let server: net.Server;
  let url: string;
  const acks: string[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    // aedes reports each acknowledgement a client sends for a QoS 1 message it delivered.
    broker.on('ack', (_packet, client) => {
      if (client?.id === 'gw-ack-test') acks.push(client.id);
    });
    server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends PUBACK to the broker only after the promise returned by the handler settles', async () => {
    const upstream = new MqttUpstream({ url, clientId: 'gw-ack-test', keepAlive: 30, reconnectMs: 200, logger: silentLogger() });
    let store: () => void = () => undefined;
    const received: UpstreamMessage[] = [];
    upstream.setMessageHandler((message) => {
      received.push(message);
      return message.topic === 'held/one' ? new Promise<void>((resolve) => (store = resolve)) : undefined;
    });
    await upstream.start();
    await upstream.subscribe('held/#', 1);
    const publisher = await BrokerClient.connect(url);
    await publisher.publish('held/one', 'keep me', 1);
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.map((m) => m.topic)).toEqual(['held/one']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(acks).toEqual([]); // not stored yet: the broker still holds it unacknowledged
    store();
    for (let i = 0; i < 50 && acks.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acks).toEqual(['gw-ack-test']);
    await publisher.close();
    await upstream.close();
  });
});
