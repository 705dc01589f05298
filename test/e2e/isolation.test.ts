import { afterEach, describe, expect, it } from 'vitest';
import { UdpRadio } from '../../radios/udp.js';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { silentLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoredMessage } from '../../src/store/durable-store.js';
import { MqttUpstream } from '../../src/upstream/mqtt-upstream.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { mosquittoSkipReason, startMosquitto } from '../helpers/mosquitto.js';
import { startTestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';
import { until } from '../helpers/until.js';

const skip = mosquittoSkipReason();

/** A store whose disk fails for one device only. */
class StoreFailingFor extends MemoryStore {
  constructor(private readonly clientId: string) {
    super();
  }
  override async putMessage(clientId: string, message: StoredMessage): Promise<void> {
    if (clientId === this.clientId) throw new Error('disk full');
    return super.putMessage(clientId, message);
  }
}

/** A store whose disk is slow for one device: its writes wait until `release()`. */
class StoreSlowFor extends MemoryStore {
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly clientId: string) {
    super();
  }
  override async putMessage(clientId: string, message: StoredMessage): Promise<void> {
    if (clientId === this.clientId) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.putMessage(clientId, message);
  }
  get pending(): number {
    return this.waiting.length;
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** One device's trouble stays with that device: nothing it causes may hold back the others. */
describe.skipIf(skip)('isolation on the shared broker connection (mosquitto, in-flight window 20)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('a store that fails for one sleeping device does not stall QoS 1 messages for another', async () => {
    const mosquitto = await startMosquitto('max_inflight_messages 20\n');
    cleanup.push(() => mosquitto.stop());
    const config = parseConfig({ radios: ['udp://127.0.0.1:0'], broker: mosquitto.url, dataDir: 'none', logLevel: 'silent', discovery: { advertiseSeconds: 0 } });
    const radio = new UdpRadio({ url: 'udp://127.0.0.1:0' });
    const upstream = new MqttUpstream({ url: mosquitto.url, clientId: 'isolation-gw', persistentSession: true, keepAlive: 30, reconnectMs: 200, logger: silentLogger() });
    const gateway = new Gateway({ config, radios: [radio], upstream, logger: silentLogger(), store: new StoreFailingFor('broken') });
    await gateway.start();
    cleanup.push(() => gateway.stop());

    for (const [clientId, filter] of [['broken', 'x/#'], ['healthy', 'y/#']] as const) {
      const device = await RawDevice.open(radio.port);
      cleanup.push(async () => device.close());
      await device.connect(clientId, { cleanSession: false });
      device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: filter } });
      expect((await device.expect('suback')).returnCode).toBe(0);
      device.send({ type: 'disconnect', duration: 3600 });
      await device.expect('disconnect');
    }
    const publisher = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => publisher.close());
    for (let i = 0; i < 30; i++) await publisher.publish(`x/${i}`, `for broken ${i}`, 1);
    for (let i = 0; i < 10; i++) await publisher.publish(`y/${i}`, `for healthy ${i}`, 1);

    const heldFor = (clientId: string): number => gateway.sessions.get(clientId)?.heldCount ?? 0;
    await until(() => heldFor('healthy') === 10, () => `10 messages for the healthy device, got ${heldFor('healthy')} (broken: ${heldFor('broken')})`, 8000);
    // The broken device's messages were not lost either: kept in memory (not listed as stored), and counted.
    expect(heldFor('broken')).toBe(30);
    await until(() => gateway.sessions.get('broken')!.outbound.length === 30, () => 'the 30 messages moved to memory', 8000);
    expect(gateway.sessions.get('broken')!.spilled.count).toBe(0);
    expect(gateway.stats.storeFailed).toBe(30);
  });

  it('a message the broker drops the connection over is taken out after the second drop, not sent again in a loop', async () => {
    const mosquitto = await startMosquitto('max_packet_size 1000\n');
    cleanup.push(() => mosquitto.stop());
    const gateway = await startTestGateway(mosquitto.url);
    cleanup.push(() => gateway.stop());
    const states: string[] = [];
    gateway.running.gateway.upstream.on('state', (state) => states.push(state));
    const watcher = (await BrokerClient.connect(mosquitto.url)).ignore();
    cleanup.push(() => watcher.close());
    await watcher.subscribe('#', 1);

    const heavy = await RawDevice.open(gateway.port);
    cleanup.push(async () => heavy.close());
    await heavy.connect('heavy');
    // Fine for the gateway (limits.maxMessageSize 65507), too large for this broker.
    heavy.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'hv' }, msgId: 1, payload: Buffer.alloc(1500, 0x61) });
    expect(await heavy.expect('puback', 8000)).toMatchObject({ msgId: 1, returnCode: 0x03 });
    await until(() => states.at(-1) === 'connected', () => `the link back up, states ${states.join(',')}`, 8000);
    expect(gateway.running.gateway.stats.brokerRefused).toBe(1);

    // The link stays up: no third drop, and other devices' messages get through.
    const light = await RawDevice.open(gateway.port);
    cleanup.push(async () => light.close());
    await light.connect('light');
    light.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'lt' }, msgId: 2, payload: Buffer.from('small') });
    expect((await light.expect('puback')).returnCode).toBe(0);
    expect((await watcher.waitFor(1)).map((m) => m.topic)).toEqual(['lt']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(states.filter((state) => state === 'offline')).toHaveLength(2);
  });
  it('a message waiting for a slow disk holds nothing else on the connection: other deliveries and acknowledgements go on', async () => {
    const mosquitto = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const config = parseConfig({ radios: ['udp://127.0.0.1:0'], broker: mosquitto.url, dataDir: 'none', logLevel: 'silent', discovery: { advertiseSeconds: 0 } });
    const radio = new UdpRadio({ url: 'udp://127.0.0.1:0' });
    const upstream = new MqttUpstream({ url: mosquitto.url, clientId: 'slow-disk-gw', persistentSession: true, keepAlive: 30, reconnectMs: 200, logger: silentLogger() });
    const store = new StoreSlowFor('slow');
    const gateway = new Gateway({ config, radios: [radio], upstream, logger: silentLogger(), store });
    await gateway.start();
    cleanup.push(async () => {
      store.release();
      await gateway.stop();
    });
    const slow = await RawDevice.open(radio.port);
    cleanup.push(async () => slow.close());
    await slow.connect('slow', { cleanSession: false });
    slow.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'x/#' } });
    await slow.expect('suback');
    slow.send({ type: 'disconnect', duration: 3600 });
    await slow.expect('disconnect');
    const live = await RawDevice.open(radio.port);
    cleanup.push(async () => live.close());
    await live.connect('live');
    live.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'short', name: 'yy' } });
    await live.expect('suback');

    const publisher = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => publisher.close());
    await publisher.publish('x/1', 'for the sleeper', 1);
    await until(() => store.pending === 1, 'the write for the sleeper waiting on the disk');
    await publisher.publish('yy', 'for the live device', 1);
    const delivered = await live.expect('publish', 3000);
    expect(delivered.payload.toString()).toBe('for the live device');
    live.send({ type: 'puback', topicId: 0, msgId: delivered.msgId, returnCode: 0 });
    // Its own QoS 1 publish is acknowledged by the broker, and so to it, meanwhile too.
    live.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'zz' }, msgId: 7, payload: Buffer.from('up') });
    expect(await live.expect('puback', 3000)).toMatchObject({ msgId: 7, returnCode: 0 });
    expect(store.pending).toBe(1);

    store.release();
    await until(() => gateway.sessions.get('slow')?.heldCount === 1, 'the message for the sleeper held');
  });
});
