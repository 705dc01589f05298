import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway } from '../helpers/gateway.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';
import { wakeAndCollect } from '../helpers/sleepers.js';

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes `clientId` to `topic` at QoS 1 and puts it to sleep; returns the SUBACK topic ID. */
async function subscribeAndSleep(dev: RawDevice, clientId: string, topic: string, sleepSeconds = 600): Promise<number> {
  await dev.connect(clientId, { keepAlive: 60 });
  dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: topic } });
  const suback = await dev.expect('suback');
  expect(suback.returnCode).toBe(0);
  dev.send({ type: 'disconnect', duration: sleepSeconds });
  expect(await dev.expect('disconnect')).toEqual({ type: 'disconnect' });
  return suback.topicId;
}

const fifty = Array.from({ length: 50 }, (_, i) => `reading ${i}`);

describe.skipIf(skip)('sleeping devices with a real mosquitto', () => {
  let broker: Mosquitto;
  let publisher: BrokerClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    publisher = await BrokerClient.connect(broker.url);
  });

  afterAll(async () => {
    await publisher?.close();
    await broker?.stop();
  });

  it('buffers 50 messages while the device sleeps and delivers all, in order, before PINGRESP', async () => {
    const gateway = await startTestGateway(broker.url);
    try {
      const dev = await RawDevice.open(gateway.port);
      await subscribeAndSleep(dev, 'sleepy-1', 'cmd/sleepy-1');
      for (const payload of fifty) await publisher.publish('cmd/sleepy-1', payload, 1);
      await pause(300);
      expect(dev.pending()).toEqual([]); // asleep: nothing sent
      const { payloads, sequence } = await wakeAndCollect(dev, 'sleepy-1');
      expect(payloads).toEqual(fifty);
      expect(sequence.at(-1)).toBe('pingresp');
      expect(sequence.filter((type) => type === 'pingresp')).toHaveLength(1);
      dev.close();
    } finally {
      await gateway.stop();
    }
  });

  it('keeps all 50 across a SIGKILL of the gateway while the device sleeps', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-sleep-data-'));
    const udpPort = await freeUdpPort();
    const args = ['--broker', broker.url, '--radio', `udp://127.0.0.1:${udpPort}`, '--data-dir', dataDir, '--log-level', 'warn'];
    let gateway = spawnBin('mqttsn-gateway', args);
    await output(gateway).waitFor(/ready/);
    const dev = await RawDevice.open(udpPort);
    await subscribeAndSleep(dev, 'sleepy-kill', 'cmd/sleepy-kill');
    for (const payload of fifty) await publisher.publish('cmd/sleepy-kill', payload, 1);
    await pause(1000); // the gateway stores each one before acknowledging it to the broker
    gateway.kill('SIGKILL');
    await new Promise((resolve) => gateway.once('exit', resolve));
    gateway = spawnBin('mqttsn-gateway', args);
    try {
      await output(gateway).waitFor(/ready/);
      const { payloads, sequence } = await wakeAndCollect(dev, 'sleepy-kill');
      expect(payloads).toEqual(fifty);
      expect(sequence.at(-1)).toBe('pingresp');
      // The subscription survived too: a message published now reaches the device when it wakes.
      dev.send({ type: 'disconnect', duration: 600 });
      await dev.expect('disconnect');
      await publisher.publish('cmd/sleepy-kill', 'after restart', 1);
      await pause(300);
      expect((await wakeAndCollect(dev, 'sleepy-kill')).payloads).toEqual(['after restart']);
    } finally {
      dev.close();
      await stop(gateway);
    }
  }, 30_000);

  it.each([
    ['drop-oldest', ['m5', 'm6', 'm7', 'm8', 'm9']],
    ['drop-newest', ['m0', 'm1', 'm2', 'm3', 'm4']],
  ] as const)('at the buffer limit, overflow policy %s decides which messages are kept, and counts the drops', async (overflow, kept) => {
    const gateway = await startTestGateway(broker.url, { buffer: { maxMessages: 5, maxBytes: 1 << 20, overflow, qos0: 'keep' } });
    try {
      const dev = await RawDevice.open(gateway.port);
      await subscribeAndSleep(dev, `overflow-${overflow}`, `cmd/overflow-${overflow}`);
      for (let i = 0; i < 10; i++) await publisher.publish(`cmd/overflow-${overflow}`, `m${i}`, 1);
      await pause(300);
      expect((await wakeAndCollect(dev, `overflow-${overflow}`)).payloads).toEqual(kept);
      expect(gateway.running.gateway.stats.queueDropped).toBe(5);
      dev.close();
    } finally {
      await gateway.stop();
    }
  });

  it('with buffer.qos0 "drop", QoS 0 messages are not kept for a sleeping device (QoS 1 are)', async () => {
    const gateway = await startTestGateway(broker.url, { buffer: { maxMessages: 100, maxBytes: 1 << 20, overflow: 'drop-oldest', qos0: 'drop' } });
    try {
      const dev = await RawDevice.open(gateway.port);
      await subscribeAndSleep(dev, 'qos0-policy', 'cmd/qos0-policy');
      await publisher.publish('cmd/qos0-policy', 'fire and forget', 0);
      await publisher.publish('cmd/qos0-policy', 'must arrive', 1);
      await pause(300);
      expect((await wakeAndCollect(dev, 'qos0-policy')).payloads).toEqual(['must arrive']);
      expect(gateway.running.gateway.stats.queueDropped).toBe(1);
      dev.close();
    } finally {
      await gateway.stop();
    }
  });

  it('a will updated with WILLTOPICUPD and WILLMSGUPD is what the broker gets when the device goes silent', async () => {
    const gateway = await startTestGateway(broker.url);
    const watcher = await BrokerClient.connect(broker.url);
    try {
      await watcher.subscribe('wills/#');
      const dev = await RawDevice.open(gateway.port);
      dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 1, clientId: 'will-upd' });
      await dev.expect('willtopicreq');
      dev.send({ type: 'willtopic', qos: 1, retain: false, topic: 'wills/old' });
      await dev.expect('willmsgreq');
      dev.send({ type: 'willmsg', payload: Buffer.from('old will') });
      await dev.expect('connack');
      dev.send({ type: 'willtopicupd', qos: 1, retain: false, topic: 'wills/new' });
      expect(await dev.expect('willtopicresp')).toEqual({ type: 'willtopicresp', returnCode: 0 });
      dev.send({ type: 'willmsgupd', payload: Buffer.from('new will') });
      expect(await dev.expect('willmsgresp')).toEqual({ type: 'willmsgresp', returnCode: 0 });
      const [will] = await watcher.waitFor(1, () => true, 6000);
      expect(will?.topic).toBe('wills/new');
      expect(will?.payload.toString()).toBe('new will');
      await pause(300);
      expect(watcher.messages.filter((m) => m.topic === 'wills/old')).toEqual([]);
      dev.close();
    } finally {
      await watcher.close();
      await gateway.stop();
    }
  });
});
