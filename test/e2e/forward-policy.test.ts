import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import type { MqttUpstream } from '../../src/upstream/mqtt-upstream.js';
import { BrokerClient, type ReceivedMessage } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freeTcpPort, mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { RawDevice } from '../helpers/raw-device.js';

/**
 * The store-and-forward bound and policies as a user sees them: return codes on the wire while the
 * broker is unreachable, and what reaches the broker once it is back. Every test starts its own
 * gateway against a port where nothing listens yet, then brings mosquitto up on that port with a
 * watcher subscribed before the gateway's next connection attempt.
 */

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reconnect delays 200-400 ms at first, then 400-800 ms: room to start mosquitto (~60 ms) and subscribe (~5-100 ms) in between. */
const RECONNECT_MS = 400;
const RECONNECT_MAX_MS = 800;
/** Time that must be left before the gateway's next attempt when the broker is started. */
const MARGIN_MS = 350;

const ACCEPTED = 0x00;
const CONGESTION = 0x01;

const payloads = (msgs: readonly ReceivedMessage[]): string[] => msgs.map((m) => m.payload.toString());

describe.skipIf(skip)('store-and-forward policies: bound, overflow, QoS 0, restart', () => {
  const devices: RawDevice[] = [];
  const gateways: TestGateway[] = [];
  const watchers: BrokerClient[] = [];
  const brokers: Mosquitto[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const dev of devices.splice(0)) dev.close();
    for (const gateway of gateways.splice(0).reverse()) await gateway.stop().catch(() => undefined);
    for (const watcher of watchers.splice(0)) await watcher.close().catch(() => undefined);
    for (const broker of brokers.splice(0)) await broker.stop().catch(() => undefined);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  });

  /** A gateway with a data directory (a new one unless given), against `brokerPort` where no broker listens (unless `brokerDown` is false). */
  async function gatewayFor(brokerPort: number, forward: GatewayConfigInput['forward'], dataDir?: string, brokerDown = true): Promise<{ gateway: TestGateway; dataDir: string }> {
    if (dataDir === undefined) {
      dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-forward-'));
      dirs.push(dataDir);
    }
    const url = `mqtt://127.0.0.1:${brokerPort}`;
    const started = await startTestGateway(url, { dataDir, broker: { url, reconnectMs: RECONNECT_MS, reconnectMaxMs: RECONNECT_MAX_MS }, forward });
    let stopped: Promise<void> | undefined;
    const gateway: TestGateway = { running: started.running, port: started.port, stop: () => (stopped ??= started.stop()) };
    gateways.push(gateway);
    if (brokerDown) expect(gateway.running.gateway.upstream.state, 'the broker must be unreachable at the start').toBe('offline');
    return { gateway, dataDir };
  }

  /** A connected device with `forward/t` registered. */
  async function deviceOn(gateway: TestGateway, clientId: string): Promise<{ dev: RawDevice; topicId: number }> {
    const dev = await RawDevice.open(gateway.port);
    devices.push(dev);
    await dev.connect(clientId);
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'forward/t' });
    const regack = await dev.expect('regack');
    expect(regack.returnCode).toBe(ACCEPTED);
    return { dev, topicId: regack.topicId };
  }

  /** QoS 1 PUBLISH; resolves with the PUBACK's return code after checking the frame byte for byte. */
  async function publish1(dev: RawDevice, topicId: number, msgId: number, payload: string): Promise<number> {
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: topicId }, msgId, payload: Buffer.from(payload) });
    const puback = await dev.expect('puback');
    expect(puback.msgId).toBe(msgId);
    // Length 7, PUBACK 0x0d, topic ID, msg ID, return code (MQTT-SN 1.2 §5.4.13).
    expect(dev.frames.at(-1)).toEqual(Buffer.from([0x07, 0x0d, topicId >> 8, topicId & 0xff, msgId >> 8, msgId & 0xff, puback.returnCode]));
    return puback.returnCode;
  }

  /** QoS 0 PUBLISH: no answer on the wire. */
  function publish0(dev: RawDevice, topicId: number, payload: string): void {
    dev.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: topicId }, msgId: 0, payload: Buffer.from(payload) });
  }

  async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await pause(10);
    }
  }

  /**
   * Starts mosquitto on `port` and subscribes a watcher to `forward/#` while the gateway is still
   * waiting for its next attempt, so nothing the gateway delivers can miss the watcher.
   */
  async function brokerUp(gateway: TestGateway, port: number): Promise<BrokerClient> {
    const inner = gateway.running.gateway.upstream.inner as MqttUpstream;
    await until(() => inner.state === 'offline' && (inner.nextAttemptAt ?? 0) - Date.now() > MARGIN_MS, 'a reconnect window', 5000);
    const broker = await startMosquitto('', port);
    brokers.push(broker);
    const watcher = await BrokerClient.connect(broker.url);
    watchers.push(watcher);
    await watcher.subscribe('forward/#', 1);
    // The gateway publishes only once connected: not yet connected here means the subscription came first.
    expect(inner.state, 'the watcher must be subscribed before the gateway reconnects').not.toBe('connected');
    return watcher;
  }

  /** Waits until the gateway holds nothing more and no late message (e.g. a duplicate) shows up. */
  async function drained(gateway: TestGateway): Promise<void> {
    await until(() => gateway.running.gateway.upstream.state === 'connected' && gateway.running.gateway.upstream.held === 0, 'the held messages to drain');
    await pause(200);
  }

  it('overflow refuse, maxMessages 5: the 6th and 7th QoS 1 publishes get "rejected: congestion"; the first 5 arrive in order, then the retried 2', async () => {
    const port = await freeTcpPort();
    const { gateway } = await gatewayFor(port, { maxMessages: 5, overflow: 'refuse' });
    const { dev, topicId } = await deviceOn(gateway, 'refuse-dev');
    const stats = gateway.running.gateway.stats;

    const codes: number[] = [];
    for (let i = 1; i <= 7; i++) codes.push(await publish1(dev, topicId, 100 + i, `m${i}`));
    expect(codes).toEqual([ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED, CONGESTION, CONGESTION]);
    expect(stats.forwardRefused).toBe(2);
    expect(stats.congestion).toBe(2);
    expect(stats.forwardStored).toBe(5);
    expect(stats.forwardDropped).toBe(0);
    expect(gateway.running.gateway.upstream.held).toBe(5);

    const watcher = await brokerUp(gateway, port);
    expect(payloads(await watcher.waitFor(5, () => true, 5000))).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    await drained(gateway);
    expect(payloads(watcher.messages)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(stats.forwardDelivered).toBe(5);

    // The device kept the two refused messages and sends them again: now the broker takes them.
    expect(await publish1(dev, topicId, 201, 'm6')).toBe(ACCEPTED);
    expect(await publish1(dev, topicId, 202, 'm7')).toBe(ACCEPTED);
    await watcher.waitFor(7, () => true, 3000);
    await pause(200);
    expect(payloads(watcher.messages)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(watcher.messages.every((m) => m.topic === 'forward/t' && m.qos === 1)).toBe(true);
    expect(stats.forwardRefused).toBe(2);
  });

  it('overflow drop-oldest, maxMessages 5: all 7 QoS 1 publishes are accepted; the broker gets 3..7 in order, 2 counted dropped', async () => {
    const port = await freeTcpPort();
    const { gateway } = await gatewayFor(port, { maxMessages: 5, overflow: 'drop-oldest' });
    const { dev, topicId } = await deviceOn(gateway, 'drop-dev');
    const stats = gateway.running.gateway.stats;

    const codes: number[] = [];
    for (let i = 1; i <= 7; i++) codes.push(await publish1(dev, topicId, 100 + i, `m${i}`));
    expect(codes).toEqual(Array(7).fill(ACCEPTED));
    expect(stats.forwardDropped).toBe(2);
    expect(stats.forwardRefused).toBe(0);
    expect(stats.congestion).toBe(0);
    expect(gateway.running.gateway.upstream.held).toBe(5);

    const watcher = await brokerUp(gateway, port);
    await watcher.waitFor(5, () => true, 5000);
    await drained(gateway);
    expect(payloads(watcher.messages)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(stats.forwardDropped).toBe(2);
    expect(stats.forwardDelivered).toBe(5);
  });

  it('maxBytes 100 under refuse: two 40-byte payloads are kept, the third gets "rejected: congestion"; a 20-byte one still fits exactly', async () => {
    const port = await freeTcpPort();
    const { gateway } = await gatewayFor(port, { maxBytes: 100, overflow: 'refuse' });
    const { dev, topicId } = await deviceOn(gateway, 'bytes-dev');
    const stats = gateway.running.gateway.stats;
    const of = (char: string, length: number): string => char.repeat(length);

    expect(await publish1(dev, topicId, 1, of('a', 40))).toBe(ACCEPTED);
    expect(await publish1(dev, topicId, 2, of('b', 40))).toBe(ACCEPTED);
    expect(await publish1(dev, topicId, 3, of('c', 40))).toBe(CONGESTION); // 120 > 100 bytes
    expect(stats.forwardRefused).toBe(1);
    expect(stats.congestion).toBe(1);
    // The bound is on bytes, not on the count: 80 + 20 = 100 is at the bound and allowed, one byte more is not.
    expect(await publish1(dev, topicId, 4, of('d', 20))).toBe(ACCEPTED);
    expect(await publish1(dev, topicId, 5, of('e', 1))).toBe(CONGESTION);
    expect(stats.forwardRefused).toBe(2);
    expect(gateway.running.gateway.upstream.held).toBe(3);

    const watcher = await brokerUp(gateway, port);
    await watcher.waitFor(3, () => true, 5000);
    await drained(gateway);
    expect(payloads(watcher.messages)).toEqual([of('a', 40), of('b', 40), of('d', 20)]);
  });

  it('qos0 keep: QoS 0 publishes during the outage arrive after it, interleaved in order with QoS 1 ones', async () => {
    const port = await freeTcpPort();
    const { gateway } = await gatewayFor(port, { qos0: 'keep' });
    const { dev, topicId } = await deviceOn(gateway, 'keep-dev');
    const stats = gateway.running.gateway.stats;

    publish0(dev, topicId, 'a');
    expect(await publish1(dev, topicId, 10, 'b')).toBe(ACCEPTED);
    publish0(dev, topicId, 'c');
    expect(await publish1(dev, topicId, 11, 'd')).toBe(ACCEPTED);
    publish0(dev, topicId, 'e');
    await until(() => gateway.running.gateway.upstream.held === 5, 'five held messages');
    expect(stats.forwardStored).toBe(2); // only QoS 1 goes to the data directory
    expect(stats.forwardDropped).toBe(0);

    const watcher = await brokerUp(gateway, port);
    await watcher.waitFor(5, () => true, 5000);
    await drained(gateway);
    expect(watcher.messages.map((m) => [m.payload.toString(), m.qos])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 0],
      ['d', 1],
      ['e', 0],
    ]);
    expect(stats.forwardDropped).toBe(0);
    expect(stats.forwardDelivered).toBe(5);
  });

  it('qos0 drop: QoS 0 publishes during the outage never arrive and are counted dropped; QoS 1 ones arrive', async () => {
    const port = await freeTcpPort();
    const { gateway } = await gatewayFor(port, { qos0: 'drop' });
    const { dev, topicId } = await deviceOn(gateway, 'q0drop-dev');
    const stats = gateway.running.gateway.stats;

    publish0(dev, topicId, 'a');
    expect(await publish1(dev, topicId, 10, 'b')).toBe(ACCEPTED);
    publish0(dev, topicId, 'c');
    expect(await publish1(dev, topicId, 11, 'd')).toBe(ACCEPTED);
    publish0(dev, topicId, 'e');
    await until(() => stats.forwardDropped === 3, 'three QoS 0 messages counted dropped');
    expect(gateway.running.gateway.upstream.held).toBe(2);
    expect(stats.forwardRefused).toBe(0);

    const watcher = await brokerUp(gateway, port);
    await watcher.waitFor(2, () => true, 5000);
    await drained(gateway);
    await pause(200);
    expect(watcher.messages.map((m) => [m.payload.toString(), m.qos])).toEqual([
      ['b', 1],
      ['d', 1],
    ]);
    expect(stats.forwardDropped).toBe(3);

    // With the broker back, QoS 0 goes straight through again.
    publish0(dev, topicId, 'f');
    await watcher.waitFor(1, (m) => m.payload.toString() === 'f', 3000);
    expect(stats.forwardDropped).toBe(3);
  });

  it('held messages survive a stop and start of the gateway on the same data directory: each arrives once, in order', async () => {
    const port = await freeTcpPort();
    const first = await gatewayFor(port, {});
    const { dev, topicId } = await deviceOn(first.gateway, 'restart-dev');
    const sent = Array.from({ length: 10 }, (_, i) => `held ${i}`);
    for (const [i, payload] of sent.entries()) expect(await publish1(dev, topicId, 1 + i, payload)).toBe(ACCEPTED);
    expect(first.gateway.running.gateway.upstream.held).toBe(sent.length);
    expect(first.gateway.running.gateway.stats.forwardStored).toBe(sent.length);
    dev.close();
    await first.gateway.stop();

    const { gateway } = await gatewayFor(port, {}, first.dataDir);
    expect(gateway.running.gateway.upstream.held, 'restored from the data directory').toBe(sent.length);
    const watcher = await brokerUp(gateway, port);
    await watcher.waitFor(sent.length, () => true, 5000);
    await drained(gateway);
    expect(payloads(watcher.messages)).toEqual(sent);
    expect(watcher.messages.every((m) => m.topic === 'forward/t' && m.qos === 1)).toBe(true);
    expect(gateway.running.gateway.stats.forwardDelivered).toBe(sent.length);

    // Delivered messages left the data directory: a later start has nothing to send again.
    await gateway.stop();
    const third = await gatewayFor(port, {}, first.dataDir, false);
    expect(third.gateway.running.gateway.upstream.state).toBe('connected');
    expect(third.gateway.running.gateway.upstream.held).toBe(0);
    await pause(200);
    expect(payloads(watcher.messages)).toEqual(sent);
  });
});
