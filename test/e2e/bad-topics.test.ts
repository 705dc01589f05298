import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { brokerKinds, type TestBroker } from '../helpers/brokers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

/**
 * One device must never cost every device the broker link: a wildcard in a topic the gateway
 * builds (will topic, client ID inside broker.topicPrefix) makes a broker drop the connection.
 */
describe.each(brokerKinds)('topics the broker could not take are refused at the device ($name)', ({ skip, start }) => {
  let broker: TestBroker;
  let gateway: TestGateway;
  let watcher: BrokerClient;

  beforeAll(async () => {
    if (skip) return;
    broker = await start();
    gateway = await startTestGateway(broker.url, { broker: { url: broker.url, reconnectMs: 200, topicPrefix: 'devices/{clientId}/' } });
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('devices/#', 1);
  });

  afterAll(async () => {
    await watcher?.close();
    await gateway?.stop();
    await broker?.stop();
  });

  it.skipIf(skip)('a client ID with a wildcard or a slash is refused when it goes into the topic prefix', async () => {
    for (const clientId of ['evil+', 'evil#', 'a/b']) {
      const dev = await RawDevice.open(gateway.port);
      dev.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId });
      expect((await dev.expect('connack')).returnCode).toBe(0x03);
      dev.close();
    }
  });

  it.skipIf(skip)('a will topic with a wildcard gets CONNACK "not supported", WILLTOPICUPD gets WILLTOPICRESP "not supported"', async () => {
    const dev = await RawDevice.open(gateway.port);
    dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: 'will-dev' });
    await dev.expect('willtopicreq');
    dev.send({ type: 'willtopic', qos: 1, retain: false, topic: 'status/#' });
    expect((await dev.expect('connack')).returnCode).toBe(0x03);
    expect(gateway.running.gateway.sessions.get('will-dev')).toBeUndefined(); // no half-open session left behind
    await dev.connect('will-dev');
    dev.send({ type: 'willtopicupd', qos: 1, retain: false, topic: 'status/+/x' });
    expect((await dev.expect('willtopicresp')).returnCode).toBe(0x03);
    // The broker link never saw any of it: a good device still gets through, with its prefix.
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'ok' }, msgId: 3, payload: Buffer.from('fine') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    const arrived = await watcher.waitFor(1);
    expect(arrived.map((m) => m.topic)).toEqual(['devices/will-dev/ok']);
    expect(gateway.running.gateway.upstream.state).toBe('connected');
    dev.close();
  });

  it.skipIf(skip)('a lost device\'s will, published by the gateway in aggregating mode, goes out under the device\'s prefix too', async () => {
    const dev = await RawDevice.open(gateway.port);
    dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 1, clientId: 'gone-dev' });
    await dev.expect('willtopicreq');
    dev.send({ type: 'willtopic', qos: 1, retain: false, topic: 'status' });
    await dev.expect('willmsgreq');
    dev.send({ type: 'willmsg', payload: Buffer.from('offline') });
    expect((await dev.expect('connack')).returnCode).toBe(0);
    dev.close(); // silent from now on: lost after 1.5 s
    const wills = await watcher.waitFor(1, (m) => m.topic.endsWith('/status'), 6000);
    expect(wills.map((m) => `${m.topic}=${m.payload.toString()}`)).toEqual(['devices/gone-dev/status=offline']);
  });
});
