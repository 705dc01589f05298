import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttSnClient } from '../../src/client/index.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import type { Upstream } from '../../src/upstream/upstream.js';
import { BrokerClient, type ReceivedMessage } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { publishAll, type Gate } from '../helpers/publishers.js';
import { RawDevice } from '../helpers/raw-device.js';
import { answer, wakeAndCollect } from '../helpers/sleepers.js';

/**
 * Transparent mode (one broker connection per device) where durability is at stake: a broker
 * outage (each device's own link holds its messages in the data directory), a sleeping device
 * (its link stays open and fills its buffer), a persistent session at the broker across a device
 * DISCONNECT, and a gateway restart while a device sleeps.
 */

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const PREFIX = 'sn-';

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

/**
 * Every broker connection of a gateway: its shared one and each device's own, read only to time
 * the broker's restart (all of them must be waiting for their next attempt).
 */
function allLinks(gateway: TestGateway): Upstream[] {
  return [gateway.running.gateway.upstream, ...gateway.running.gateway.deviceLinks()];
}

/** Per topic: how many distinct messages arrived, how many twice, and whether first arrivals are in order. */
function tally(messages: readonly ReceivedMessage[], topics: readonly string[], perTopic: number): { unique: number[]; duplicates: number[]; outOfOrder: string[] } {
  const unique: number[] = [];
  const duplicates: number[] = [];
  const outOfOrder: string[] = [];
  for (const topic of topics) {
    const seen = new Set<number>();
    let last = -1;
    let dups = 0;
    for (const message of messages.filter((m) => m.topic === topic)) {
      const i = Number(message.payload.toString());
      if (seen.has(i)) {
        dups++;
        continue;
      }
      seen.add(i);
      if (i !== last + 1) outOfOrder.push(`${topic}: ${i} after ${last}`);
      last = i;
    }
    unique.push([...seen].filter((i) => i >= 0 && i < perTopic).length);
    duplicates.push(dups);
  }
  return { unique, duplicates, outOfOrder };
}

/** Subscribes the (connected) device to `topic` at QoS 1. */
async function subscribe1(dev: RawDevice, topic: string, msgId = 1): Promise<void> {
  dev.send({ type: 'subscribe', dup: false, qos: 1, msgId, topic: { kind: 'name', name: topic } });
  const suback = await dev.expect('suback');
  expect(suback.msgId).toBe(msgId);
  expect(suback.returnCode).toBe(0);
}

async function sleep(dev: RawDevice, seconds = 600): Promise<void> {
  dev.send({ type: 'disconnect', duration: seconds });
  expect(await dev.expect('disconnect')).toEqual({ type: 'disconnect' });
}

/** Acknowledges everything until `count` PUBLISHes arrived, then a little longer for any extra one. */
async function collect(dev: RawDevice, count: number): Promise<string[]> {
  const payloads: string[] = [];
  while (payloads.length < count) answer(dev, await dev.next(5000), payloads);
  const settleUntil = Date.now() + 300;
  for (;;) {
    const left = settleUntil - Date.now();
    if (left <= 0) return payloads;
    const packet = await dev.next(left).catch(() => undefined);
    if (!packet) return payloads;
    answer(dev, packet, payloads);
  }
}

describe.skipIf(skip)('transparent mode: durability of each device\'s own broker connection', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-transparent-durable-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function broker(extraConfig = '', port?: number): Promise<Mosquitto> {
    const started = await startMosquitto(extraConfig, port);
    // The helper's stop() waits for an exit that already happened after kill() (exitCode stays
    // null for a signalled process): a killed broker is not stopped again.
    let killed = false;
    cleanup.push(() => (killed ? Promise.resolve() : started.stop()));
    return {
      url: started.url,
      port: started.port,
      pid: started.pid,
      stop: () => started.stop(),
      kill: () => {
        killed = true;
        return started.kill();
      },
    };
  }

  async function brokerClient(url: string): Promise<BrokerClient> {
    const client = await BrokerClient.connect(url);
    cleanup.push(() => client.close());
    return client;
  }

  /** A transparent gateway with a data directory; stop() may be called by the test and again by the cleanup. */
  async function gateway(brokerUrl: string, dataDir: string, overrides: Partial<GatewayConfigInput> = {}, brokerOptions: Partial<NonNullable<Exclude<GatewayConfigInput['broker'], string>>> = {}): Promise<TestGateway> {
    const started = await startTestGateway(brokerUrl, { dataDir, broker: { url: brokerUrl, mode: 'transparent', clientIdPrefix: PREFIX, reconnectMs: 200, ...brokerOptions }, ...overrides });
    let stopped: Promise<void> | undefined;
    const wrapped: TestGateway = { running: started.running, port: started.port, stop: () => (stopped ??= started.stop()) };
    cleanup.push(() => wrapped.stop());
    return wrapped;
  }

  async function rawDevice(port: number): Promise<RawDevice> {
    const dev = await RawDevice.open(port);
    cleanup.push(async () => dev.close());
    return dev;
  }

  it('broker killed mid-stream and restarted 5 s later: 3 devices x 100 QoS 1 messages all arrive, in order per device, through each device\'s own store', async () => {
    const DEVICES = 3;
    const PER_DEVICE = 100;
    let mosquitto = await broker();
    const dataDir = await tempDir();
    const gw = await gateway(mosquitto.url, dataDir, {}, { reconnectMs: 1500, reconnectMaxMs: 3000 });
    const before = await brokerClient(mosquitto.url);
    await before.subscribe('durable/#', 1);

    const ids = Array.from({ length: DEVICES }, (_, d) => `outage-${d}`);
    const topics = ids.map((id) => `durable/${id}`);
    const clients = await Promise.all(
      ids.map(async (clientId) => {
        const client = new MqttSnClient({ gateway: `udp://127.0.0.1:${gw.port}`, clientId, keepAlive: 0, retryMs: 1000, retries: 20 });
        cleanup.push(() => client.close());
        await client.connect();
        return client;
      }),
    );
    expect(gw.running.gateway.status().upstream.deviceLinks).toBe(DEVICES);
    const links = allLinks(gw);
    expect(links).toHaveLength(DEVICES + 1);

    // Devices 1 and 2 stream on regardless, at different paces: the kill may catch one of their
    // messages on its way to the broker (MQTT.js sends it again after the reconnect, and the device
    // waits for it). Device 0 stops at message 40 until the broker is gone and its link knows it,
    // so the rest of its messages certainly go through its store.
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    let open!: () => void;
    const gate: Gate = { at: 40, reached, open: new Promise<void>((resolve) => (open = resolve)) };
    const publishing = Promise.all(clients.map((client, d) => publishAll(client, topics[d]!, PER_DEVICE, 8 + 3 * d, d === 0 ? gate : undefined)));
    await atGate; // about 40 messages per device in: kill the broker mid-stream
    const atKill = before.messages.length;
    await mosquitto.kill();
    const killedAt = Date.now();
    await until(() => links.every((link) => link.state !== 'connected'), 'every link to notice the broker is gone', 2000);
    open();
    await pause(5000);
    // Restart while every link (shared and per device) still waits for its next attempt, so the
    // watcher below is subscribed before the first held message can reach the broker.
    await until(() => links.every((link) => link.state === 'offline' && (link.nextAttemptAt ?? 0) - Date.now() > 600), 'a moment all links wait > 600 ms', 10_000);
    mosquitto = await broker('', mosquitto.port);
    const after = await brokerClient(mosquitto.url);
    await after.subscribe('durable/#', 1);
    expect(
      links.map((link) => link.state),
      'the watcher must be subscribed before any link reconnects',
    ).not.toContain('connected');
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(5000);

    const results = await publishing;
    for (const topic of topics) await after.waitFor(1, (m) => m.topic === topic && m.payload.toString() === String(PER_DEVICE - 1), 10_000);
    await until(() => gw.running.gateway.status().upstream.held === 0, 'the held messages to drain', 5000);
    await pause(300); // any late duplicate would show now

    const all = [...before.messages, ...after.messages];
    const { unique, duplicates, outOfOrder } = tally(all, topics, PER_DEVICE);
    const stats = gw.running.gateway.stats;
    console.log(
      `transparent outage: distinct ${unique.join('/')} of ${PER_DEVICE} per device, duplicates ${duplicates.join('/')}, ` +
        `${atKill} before the kill, ${before.messages.length} before the restart, ${after.messages.length} after; ` +
        `${stats.forwardStored} stored, ${stats.forwardDelivered} delivered from the store; device retries ${results.map((r) => r.retried).join('/')}`,
    );
    expect(atKill, 'the broker must be killed mid-stream').toBeGreaterThan(0);
    expect(atKill).toBeLessThan(DEVICES * PER_DEVICE);
    expect(unique).toEqual(ids.map(() => PER_DEVICE));
    expect(outOfOrder).toEqual([]);
    // QoS 1 allows a duplicate only for a message in flight when the link broke: at most one per device, plus the drain window.
    for (const dups of duplicates) expect(dups).toBeLessThanOrEqual(1 + 64);
    expect(stats.forwardStored).toBeGreaterThanOrEqual(PER_DEVICE - gate.at);
    expect(stats.forwardDelivered).toBe(stats.forwardStored);
    expect(stats.forwardDropped + stats.forwardRefused).toBe(0);
    // Every device message went out under the device's own connection: nothing on the shared one.
    expect(gw.running.gateway.upstream.held).toBe(0);
    expect(gw.running.gateway.status().upstream.deviceLinks).toBe(DEVICES);
  }, 30_000);

  it('a sleeping device\'s own connection stays open: 10 QoS 1 messages published at the broker are delivered in order before PINGRESP', async () => {
    const mosquitto = await broker();
    const dataDir = await tempDir();
    const gw = await gateway(mosquitto.url, dataDir);
    const publisher = await brokerClient(mosquitto.url);
    const id = 'sleepy-t';
    const dev = await rawDevice(gw.port);
    await dev.connect(id, { keepAlive: 60 });
    await subscribe1(dev, `cmd/${id}`);
    await sleep(dev);
    expect(gw.running.gateway.status().upstream.deviceLinks).toBe(1);

    const ten = Array.from({ length: 10 }, (_, i) => `command ${i}`);
    for (const payload of ten) await publisher.publish(`cmd/${id}`, payload, 1);
    const session = gw.running.gateway.sessions.get(id)!;
    await until(() => session.heldCount === ten.length, 'the 10 messages in the sleeping device\'s buffer');
    expect(dev.pending()).toEqual([]); // asleep: nothing sent

    const { payloads, sequence } = await wakeAndCollect(dev, id);
    expect(payloads).toEqual(ten);
    expect(sequence.at(-1)).toBe('pingresp');
    expect(sequence.filter((type) => type === 'pingresp')).toHaveLength(1);
    expect(session.heldCount).toBe(0);
  });

  it('clean session off: after a plain DISCONNECT the broker keeps the device\'s session and queues 5 QoS 1 messages, delivered when it connects again', async () => {
    const mosquitto = await broker('sys_interval 1\n');
    const dataDir = await tempDir();
    const gw = await gateway(mosquitto.url, dataDir);
    const publisher = await brokerClient(mosquitto.url);
    await publisher.subscribe('$SYS/broker/clients/#', 0);
    /** The broker's own latest report on `topic` equals `expected` (polled; $SYS is published every second). */
    const sysReaches = async (topic: string, expected: (value: number) => boolean): Promise<number> => {
      let last = Number.NaN;
      for (let i = 0; i < 40; i++) {
        last = Number(publisher.messages.filter((m) => m.topic === topic).at(-1)?.payload.toString() ?? Number.NaN);
        if (expected(last)) return last;
        await pause(100);
      }
      return last;
    };

    const id = 'persistent-t';
    const dev = await rawDevice(gw.port);
    await dev.connect(id, { cleanSession: false, keepAlive: 60 });
    await subscribe1(dev, `cmd/${id}`);
    dev.send({ type: 'disconnect' });
    expect(await dev.expect('disconnect')).toEqual({ type: 'disconnect' });
    await until(() => gw.running.gateway.status().upstream.deviceLinks === 0, 'the device\'s link to close');
    // The broker holds the device's session, disconnected: a persistent client it knows, not connected.
    expect(await sysReaches('$SYS/broker/clients/disconnected', (n) => n === 1)).toBe(1);

    const five = Array.from({ length: 5 }, (_, i) => `queued ${i}`);
    for (const payload of five) await publisher.publish(`cmd/${id}`, payload, 1);
    // Acknowledged by the broker, which queues them for the device's session; the gateway has no
    // connection for the device and holds nothing for it.
    await pause(200);
    expect(gw.running.gateway.status().upstream.deviceLinks).toBe(0);
    const session = gw.running.gateway.sessions.get(id)!;
    expect(session.state).toBe('disconnected');
    expect(session.heldCount).toBe(0);
    expect(gw.running.gateway.stats.publishesOut).toBe(0);
    expect(dev.pending()).toEqual([]);

    await dev.connect(id, { cleanSession: false, keepAlive: 60 });
    expect(await collect(dev, five.length)).toEqual(five);
    expect(await sysReaches('$SYS/broker/clients/disconnected', (n) => n === 0)).toBe(0);
    // The subscription is still the device's: a message published now arrives too.
    await publisher.publish(`cmd/${id}`, 'live', 1);
    expect(await collect(dev, 1)).toEqual(['live']);
  });

  it('gateway restart while a device sleeps with a subscription (clean session off): messages published before, during and after the restart reach it when it wakes', async () => {
    const mosquitto = await broker();
    const dataDir = await tempDir();
    let gw = await gateway(mosquitto.url, dataDir);
    const port = gw.port;
    const publisher = await brokerClient(mosquitto.url);
    const id = 'restart-t';
    const topic = `cmd/${id}`;
    const dev = await rawDevice(port);
    await dev.connect(id, { cleanSession: false, keepAlive: 60 });
    await subscribe1(dev, topic);
    await sleep(dev);

    await publisher.publish(topic, 'before', 1);
    await until(() => gw.running.gateway.sessions.get(id)?.heldCount === 1, 'the first message in the buffer');
    // At once: stop() lets the store write and the broker's PUBACK finish before DISCONNECT, so
    // the broker has no reason to send it again after the restart (no QoS 1 duplicate).
    await gw.stop();
    await publisher.publish(topic, 'during 1', 1);
    await publisher.publish(topic, 'during 2', 1);

    gw = await gateway(mosquitto.url, dataDir, { radios: [`udp://127.0.0.1:${port}`] });
    expect(gw.port).toBe(port);
    const session = gw.running.gateway.sessions.get(id);
    expect(session?.state).toBe('asleep');
    // Its connection is opened again at start: what the broker kept for it comes into the buffer.
    await until(() => gw.running.gateway.status().upstream.deviceLinks === 1 && session?.heldCount === 3, 'the restored link to bring the held messages', 5000).catch((error: Error) => {
      throw new Error(`${error.message}: links ${gw.running.gateway.status().upstream.deviceLinks}, held ${session?.heldCount}`);
    });
    await publisher.publish(topic, 'after', 1);
    await until(() => session?.heldCount === 4, 'the message published after the restart');
    expect(dev.pending()).toEqual([]); // still asleep

    const { payloads, sequence } = await wakeAndCollect(dev, id);
    expect(payloads).toEqual(['before', 'during 1', 'during 2', 'after']);
    expect(sequence.at(-1)).toBe('pingresp');
  });
});
