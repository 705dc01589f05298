import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerClient, type ReceivedMessage } from '../helpers/broker-client.js';
import { brokerKinds } from '../helpers/brokers.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

const deviceState = (messages: readonly ReceivedMessage[], topic: string): Array<Record<string, unknown>> =>
  messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);

/**
 * Retained state topics at the broker, so Home Assistant and dashboards see devices come and go
 * without asking the gateway: the shipped gateway, real brokers, a device on real UDP.
 */
describe.each(brokerKinds)('device state at the broker ($name)', ({ skip, start }) => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function gatewayOn(brokerUrl: string, extra: string[] = []) {
    const port = await freeUdpPort();
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-state-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const child = spawnBin('mqttsn-gateway', ['--broker', brokerUrl, '--radio', `udp://127.0.0.1:${port}`, '--data-dir', dataDir, '--gateway-id', '7', '--log-format', 'json', ...extra]);
    cleanup.push(() => stop(child));
    await output(child).waitFor(/mqttsn-gateway ready/);
    return { child, port };
  }

  async function configFile(yaml: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-state-config-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'config.yaml'), yaml);
    return join(dir, 'config.yaml');
  }

  async function watch(brokerUrl: string, filter: string): Promise<BrokerClient> {
    const watcher = await BrokerClient.connect(brokerUrl);
    cleanup.push(() => watcher.close());
    await watcher.subscribe(filter);
    return watcher;
  }

  it.skipIf(skip)('online, asleep, offline as retained JSON per device; the gateway online, and offline when it is killed', async () => {
    const broker = await start();
    cleanup.push(() => broker.stop());
    const watcher = await watch(broker.url, 'mqttsn-gateway/#');
    const { child, port } = await gatewayOn(broker.url);
    await watcher.waitFor(1, (m) => m.topic === 'mqttsn-gateway/7/state' && m.payload.toString() === 'online');

    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    const topic = 'mqttsn-gateway/7/device/kitchen-sensor/state';
    await device.connect('kitchen-sensor', { keepAlive: 60 });
    const [online] = await watcher.waitFor(1, (m) => m.topic === topic);
    expect(JSON.parse(online!.payload.toString())).toEqual({ state: 'online', radio: `udp://127.0.0.1:${port}`, address: `127.0.0.1:${device.port}`, lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    // Asleep; a wake-up to collect messages is not a change (it goes back to sleep at once).
    device.send({ type: 'disconnect', duration: 300 });
    await device.expect('disconnect');
    await watcher.waitFor(2, (m) => m.topic === topic);
    device.send({ type: 'pingreq', clientId: 'kitchen-sensor' });
    await device.expect('pingresp');
    // Back awake and gone for good with a plain DISCONNECT after a new CONNECT.
    await device.connect('kitchen-sensor', { keepAlive: 60 });
    device.send({ type: 'disconnect' });
    await device.expect('disconnect');
    await watcher.waitFor(4, (m) => m.topic === topic);
    expect(deviceState(watcher.messages, topic).map((s) => s.state)).toEqual(['online', 'asleep', 'online', 'offline']);

    // What a dashboard starting now sees: the retained latest.
    const late = await BrokerClient.connect(broker.url);
    cleanup.push(() => late.close());
    await late.subscribe('mqttsn-gateway/#');
    const retained = await late.waitFor(2);
    expect(retained.every((m) => m.retain)).toBe(true);
    expect(retained.find((m) => m.topic === 'mqttsn-gateway/7/state')?.payload.toString()).toBe('online');
    expect(deviceState(retained, topic)).toMatchObject([{ state: 'offline' }]);

    // Killed without a word: the broker publishes the gateway's will.
    child.kill('SIGKILL');
    await watcher.waitFor(1, (m) => m.topic === 'mqttsn-gateway/7/state' && m.payload.toString() === 'offline', 10_000);
  }, 30_000);

  it.skipIf(skip)('a client ID with / + # gets one topic level; a clean stop says offline; a device that never got in is never announced', async () => {
    const broker = await start();
    cleanup.push(() => broker.stop());
    const watcher = await watch(broker.url, 'mqttsn-gateway/#');
    const { child, port } = await gatewayOn(broker.url, ['--predefined', '1=x']);
    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    await device.connect('plant/a+b#1', { keepAlive: 60 });
    const [state] = await watcher.waitFor(1, (m) => m.topic.includes('/device/'));
    expect(state!.topic).toBe('mqttsn-gateway/7/device/plant%2Fa%2Bb%231/state');

    // Refused (a will topic with a wildcard): never online, so nothing is said about it.
    const refused = await RawDevice.open(port);
    cleanup.push(async () => refused.close());
    refused.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: 'refused-one' });
    await refused.expect('willtopicreq');
    refused.send({ type: 'willtopic', qos: 0, retain: false, topic: 'bad/#' });
    expect((await refused.expect('connack')).returnCode).not.toBe(0);

    await stop(child);
    await watcher.waitFor(1, (m) => m.topic === 'mqttsn-gateway/7/state' && m.payload.toString() === 'offline');
    expect(watcher.messages.filter((m) => m.topic.includes('refused-one'))).toEqual([]);
  }, 30_000);

  it.skipIf(skip)('a device subscribed to # never receives them (they are for dashboards)', async () => {
    const broker = await start();
    cleanup.push(() => broker.stop());
    const watcher = await watch(broker.url, 'mqttsn-gateway/#');
    const { port } = await gatewayOn(broker.url);
    const everything = await RawDevice.open(port);
    cleanup.push(async () => everything.close());
    await everything.connect('listens-to-all', { keepAlive: 60 });
    everything.send({ type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'name', name: '#' } });
    await everything.expect('suback');
    const other = await RawDevice.open(port);
    cleanup.push(async () => other.close());
    await other.connect('comes-and-goes', { keepAlive: 60 });
    other.send({ type: 'disconnect' });
    await watcher.waitFor(2, (m) => m.topic.endsWith('/comes-and-goes/state'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(everything.pending().filter((packet) => packet.type === 'register' || packet.type === 'publish')).toEqual([]);
  }, 30_000);

  it.skipIf(skip)('in transparent mode too (each device on its own broker connection)', async () => {
    const broker = await start();
    cleanup.push(() => broker.stop());
    const watcher = await watch(broker.url, 'mqttsn-gateway/#');
    const { port } = await gatewayOn(broker.url, ['--config', await configFile('broker:\n  mode: transparent\n')]);
    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    const topic = 'mqttsn-gateway/7/device/own-link/state';
    await device.connect('own-link', { keepAlive: 60 });
    await watcher.waitFor(1, (m) => m.topic === topic);
    device.send({ type: 'disconnect', duration: 120 });
    await device.expect('disconnect');
    await watcher.waitFor(2, (m) => m.topic === topic);
    expect(deviceState(watcher.messages, topic).map((s) => s.state)).toEqual(['online', 'asleep']);
  }, 30_000);

  it.skipIf(skip)('status.enabled false publishes nothing of it', async () => {
    const broker = await start();
    cleanup.push(() => broker.stop());
    const watcher = await watch(broker.url, '#');
    const { port } = await gatewayOn(broker.url, ['--config', await configFile('status:\n  enabled: false\n')]);
    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    await device.connect('quiet-one', { keepAlive: 60 });
    device.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'hi' }, msgId: 0, payload: Buffer.from('1') });
    await watcher.waitFor(1, (m) => m.topic === 'hi');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a state publish would have come first
    expect(watcher.messages.map((m) => m.topic)).toEqual(['hi']);
  }, 30_000);
});
