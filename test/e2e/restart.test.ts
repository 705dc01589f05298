import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { mosquittoSkipReason, startMosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = mosquittoSkipReason();

/**
 * A gateway restart (upgrade, crash, power cut) must go unnoticed by a connected device that only
 * retries: same address, same topic IDs, no CONNECT again. Many device firmwares never reconnect.
 */
describe.skipIf(skip)('a restarted gateway keeps connected devices connected', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('after %s the device publishes on its topic ID and receives its subscription, without reconnecting', async (signal) => {
    const mosquitto = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-restart-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freeUdpPort();
    const start = async () => {
      const gateway = spawnBin('mqttsn-gateway', ['--broker', mosquitto.url, '--radio', `udp://127.0.0.1:${port}`, '--data-dir', dataDir, '--log-format', 'json']);
      cleanup.push(() => stop(gateway));
      await output(gateway).waitFor(/mqttsn-gateway ready/);
      return gateway;
    };
    const broker = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => broker.close());
    await broker.subscribe('plant/#');

    const first = await start();
    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    await device.connect('field-unit', { keepAlive: 60 });
    device.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'plant/level' });
    const { topicId } = await device.expect('regack');
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 2, topic: { kind: 'name', name: 'plant/valve' } });
    const suback = await device.expect('suback');
    expect(suback.returnCode).toBe(0);

    // Session changes reach the OS a few milliseconds after the answer (the store batches writes):
    // a kill in that window would lose the last one, as it would lose an unanswered one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    first.kill(signal);
    await new Promise<void>((resolve) => first.once('exit', () => resolve()));
    await start();

    // The same socket, the same topic ID: no CONNECT, no REGISTER.
    device.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: topicId }, msgId: 3, payload: Buffer.from('42') });
    expect(await device.expect('puback')).toMatchObject({ msgId: 3, topicId, returnCode: 0 });
    expect((await broker.waitFor(1, (m) => m.topic === 'plant/level')).map((m) => m.payload.toString())).toEqual(['42']);

    await broker.publish('plant/valve', 'open', 1);
    const delivered = await device.expect('publish', 5000);
    expect(delivered.payload.toString()).toBe('open');
    expect(delivered.topic).toEqual({ kind: 'normal', id: suback.topicId });
    device.send({ type: 'puback', topicId: suback.topicId, msgId: delivered.msgId, returnCode: 0 });
    device.send({ type: 'pingreq' });
    await device.expect('pingresp');
    expect(device.pending().filter((packet) => packet.type === 'disconnect')).toEqual([]);
  }, 30_000);
});
