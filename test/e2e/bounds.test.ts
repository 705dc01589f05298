import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';
import { until } from '../helpers/until.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every table and queue has a bound and a policy at it; these are the ones a device can fill. */
describe('bounds a device cannot push the gateway past', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  interface Setup {
    gateway: TestGateway;
    url: string;
    open: () => Promise<RawDevice>;
    /** A device subscribed to `filter` that then sleeps (DISCONNECT with a duration). */
    sleepingSubscriber: (clientId: string, filter: string, qos: 0 | 1) => Promise<RawDevice>;
    /** An MQTT client at the broker, closed after the test. */
    connectPublisher: () => Promise<BrokerClient>;
  }

  async function setup(overrides: Partial<GatewayConfigInput>): Promise<Setup> {
    const broker = await startEmbeddedBroker(0);
    cleanup.push(() => broker.close());
    const gateway = await startTestGateway(broker.url, overrides);
    cleanup.push(() => gateway.stop());
    const open = async () => {
      const device = await RawDevice.open(gateway.port);
      cleanup.push(async () => device.close());
      return device;
    };
    const sleepingSubscriber = async (clientId: string, filter: string, qos: 0 | 1): Promise<RawDevice> => {
      const device = await open();
      await device.connect(clientId);
      device.send({ type: 'subscribe', dup: false, qos, msgId: 1, topic: { kind: 'name', name: filter } });
      await device.expect('suback');
      device.send({ type: 'disconnect', duration: 600 });
      await device.expect('disconnect');
      return device;
    };
    const connectPublisher = async (): Promise<BrokerClient> => {
      const client = await BrokerClient.connect(broker.url);
      cleanup.push(() => client.close());
      return client;
    };
    return { gateway, url: broker.url, open, sleepingSubscriber, connectPublisher };
  }

  it('a full client table admits a new device by deleting the longest-silent lost session, never an active one', async () => {
    const { gateway, open } = await setup({ limits: { maxClients: 3 } });
    const sessions = gateway.running.gateway.sessions;
    // Two persistent sessions whose devices vanish (keep-alive 1 s: lost after 1.5 s), first "gone-1".
    const gone1 = await open();
    await gone1.connect('gone-1', { cleanSession: false, keepAlive: 1 });
    await pause(300);
    const gone2 = await open();
    await gone2.connect('gone-2', { cleanSession: false, keepAlive: 1 });
    const active = await open();
    await active.connect('active-1', { keepAlive: 60 });
    await until(() => sessions.get('gone-1')?.state === 'lost' && sessions.get('gone-2')?.state === 'lost', 'both sessions lost');

    const newcomer = await open();
    await newcomer.connect('new-1');
    expect(sessions.get('gone-1')).toBeUndefined(); // the longest silent went
    expect(sessions.get('gone-2')?.state).toBe('lost');
    expect(gateway.running.gateway.stats.sessionsEvicted).toBe(1);

    const second = await open();
    await second.connect('new-2');
    expect(sessions.get('gone-2')).toBeUndefined();
    // Now only active sessions are left: the next device is told to come back later.
    const third = await open();
    third.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'new-3' });
    expect((await third.expect('connack')).returnCode).toBe(0x01);
    expect(sessions.get('active-1')?.state).toBe('active');
  });

  it('a persistent session whose device went away expires after limits.sessionExpiry, with what was held for it', async () => {
    const { gateway, open, connectPublisher } = await setup({ limits: { sessionExpiry: 1 } });
    const device = await open();
    await device.connect('short-lived', { cleanSession: false });
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'held/#' } });
    await device.expect('suback');
    device.send({ type: 'disconnect' });
    await device.expect('disconnect');
    const publisher = await connectPublisher();
    await publisher.publish('held/one', 'kept for now', 1);
    const gw = gateway.running.gateway;
    await until(() => gw.held.count === 1, 'the message held for the absent device');
    await until(() => gw.sessions.get('short-lived') === undefined, 'the session to expire', 5000);
    expect(gw.stats.sessionsExpired).toBe(1);
    expect(gw.held.count).toBe(0);
  });

  it('wildcard filters count against limits.maxSubscriptions: beyond it SUBACK says congestion', async () => {
    const { gateway, open } = await setup({ limits: { maxSubscriptions: 3 } });
    const device = await open();
    await device.connect('greedy');
    const codes: number[] = [];
    for (const [msgId, name] of ['a/#', 'b/+/c', 'plain', 'd/#', 'e/+'].entries()) {
      device.send({ type: 'subscribe', dup: false, qos: 1, msgId: msgId + 1, topic: { kind: 'name', name } });
      codes.push((await device.expect('suback')).returnCode);
    }
    expect(codes).toEqual([0, 0, 0, 0x01, 0x01]);
    // Subscribing again to one it holds is not a new subscription.
    device.send({ type: 'subscribe', dup: false, qos: 0, msgId: 9, topic: { kind: 'name', name: 'a/#' } });
    expect((await device.expect('suback')).returnCode).toBe(0);
    expect(gateway.running.gateway.sessions.get('greedy')?.subscriptions.size).toBe(3);
  });

  it('buffer.totalMessages bounds what is held for all sleeping devices together: beyond it new messages are dropped and counted', async () => {
    // With a data directory: messages for sleeping devices go to the store (LevelDB).
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-bounds-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const { gateway, connectPublisher, sleepingSubscriber } = await setup({ buffer: { maxMessages: 100, totalMessages: 5 }, dataDir });
    for (const clientId of ['sleeper-a', 'sleeper-b']) await sleepingSubscriber(clientId, `to/${clientId}`, 1);
    const publisher = await connectPublisher();
    for (let i = 0; i < 4; i++) await publisher.publish('to/sleeper-a', `a${i}`, 1);
    for (let i = 0; i < 4; i++) await publisher.publish('to/sleeper-b', `b${i}`, 1);
    const gw = gateway.running.gateway;
    await until(() => gw.stats.queueDropped === 3, 'three drops');
    expect(gw.held.count).toBe(5);
    // At the gateway-wide bound the new message is dropped: O(1), no store work under a flood.
    // Asleep: what is held for them is in the store, listed in memory.
    const heldFor = async (clientId: string): Promise<string[]> => {
      const session = gw.sessions.get(clientId)!;
      expect(session.outbound).toEqual([]);
      return (await gw.readMessages(session, session.spilled.list())).map((m) => m.payload.toString());
    };
    expect(await heldFor('sleeper-a')).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(await heldFor('sleeper-b')).toEqual(['b0']);
  });

  it('a delivery whose REGISTER would be larger than UDP can carry is dropped and counted; the next is delivered', async () => {
    const { gateway, open, connectPublisher } = await setup({});
    const device = await open();
    await device.connect('wide');
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'long/#' } });
    await device.expect('suback');
    const publisher = await connectPublisher();
    await publisher.publish(`long/${'x'.repeat(65_500)}`, 'unreachable', 1); // a valid MQTT topic, too long for a REGISTER over UDP
    await publisher.publish('long/ok', 'fits', 1);
    const register = await device.expect('register');
    expect(register.topicName).toBe('long/ok');
    device.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    expect((await device.expect('publish')).payload.toString()).toBe('fits');
    expect(gateway.running.gateway.stats.deliveryFailed).toBe(1);
    expect(gateway.running.gateway.stats.encodeFailed).toBe(0); // not even attempted
  });

  it('buffer.memoryMessages bounds what is held in memory for connected devices that do not keep up', async () => {
    const { gateway, open, connectPublisher } = await setup({ buffer: { memoryMessages: 6 } });
    for (const clientId of ['slow-a', 'slow-b']) {
      const device = await open();
      await device.connect(clientId);
      device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: `to/${clientId}` } });
      await device.expect('suback'); // and never answers a PUBLISH
    }
    const publisher = await connectPublisher();
    for (let i = 0; i < 5; i++) await publisher.publish('to/slow-a', `a${i}`, 1);
    for (let i = 0; i < 5; i++) await publisher.publish('to/slow-b', `b${i}`, 1);
    const gw = gateway.running.gateway;
    await until(() => gw.stats.queueDropped === 4, 'four drops');
    expect(gw.heldInMemory.count).toBe(6);
    expect(gw.status().heldForDevicesInMemory).toBe(6);
    // The bound is reached: slow-b's further messages are dropped, what is held stays.
    const held = (clientId: string) => gw.sessions.get(clientId)!.outbound.map((m) => m.payload.toString());
    expect(held('slow-a')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(held('slow-b')).toEqual(['b0']);
  });

  it('sleeping subscribers fill at most half of buffer.memoryMessages with QoS 0: connected devices keep the other half', async () => {
    const { gateway, open, connectPublisher, sleepingSubscriber } = await setup({ buffer: { memoryMessages: 8 } });
    // Three sleepers subscribed to everything at QoS 0: their messages are held in memory.
    for (const clientId of ['sleeper-1', 'sleeper-2', 'sleeper-3']) await sleepingSubscriber(clientId, 'all/#', 0);
    // A connected device that is slow to acknowledge (QoS 1 held in memory until it answers).
    const here = await open();
    await here.connect('here');
    here.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'all/#' } });
    await here.expect('suback');
    const publisher = await connectPublisher();
    for (let i = 0; i < 4; i++) await publisher.publish('all/x', `m${i}`, 1);
    const gw = gateway.running.gateway;
    // 3 sleepers x 4 messages = 12 wanted. Each sleeper takes m0 (3 in memory, with 'here' 4 of 8);
    // from m1 on, memory is at half the bound: the sleepers' copies are dropped, 'here' gets all 4.
    await until(() => gw.stats.queueDropped === 9, 'nine drops for the sleepers');
    const held = (clientId: string) => gw.sessions.get(clientId)!.outbound.map((m) => m.payload.toString());
    for (const sleeper of ['sleeper-1', 'sleeper-2', 'sleeper-3']) {
      expect(held(sleeper)).toEqual(['m0']);
      // Held in memory of its own: not a view into the broker client's read buffer, nor a slice
      // of Node's shared Buffer pool, either of which one message held for hours would pin whole.
      const { payload } = gw.sessions.get(sleeper)!.outbound[0]!;
      expect(payload.byteOffset).toBe(0);
      expect(payload.buffer.byteLength).toBe(payload.length);
    }
    expect(held('here')).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(gw.stats.queueDroppedGatewayBound).toBe(9);
    expect((await here.expect('register')).topicName).toBe('all/x');
  });

  it('without a data directory, QoS 1 held for sleeping devices stays within half of buffer.memoryMessages, and is delivered at wake-up', async () => {
    // startTestGateway runs with --data-dir none: there is no disk to spill to.
    const { gateway, connectPublisher, sleepingSubscriber } = await setup({ buffer: { memoryMessages: 8 } });
    const sleepers: RawDevice[] = [];
    for (const clientId of ['sleeper-1', 'sleeper-2']) sleepers.push(await sleepingSubscriber(clientId, 'all/#', 1));
    const publisher = await connectPublisher();
    for (let i = 0; i < 10; i++) await publisher.publish('all/x', `m${i}`, 1);
    const gw = gateway.running.gateway;
    // 2 sleepers x 10 wanted; half of the 8 in memory is theirs: m0 and m1 each, 16 dropped and counted.
    await until(() => gw.stats.queueDroppedGatewayBound === 16, 'sixteen drops for the sleepers');
    expect(gw.heldInMemory.count).toBe(4);
    expect(gw.held.count).toBe(4);
    const session = gw.sessions.get('sleeper-1')!;
    expect(session.spilled.count).toBe(0);
    expect(session.outbound.map((m) => m.payload.toString())).toEqual(['m0', 'm1']);
    // Awake: what was held is delivered (PUBLISH after REGISTER), then PINGRESP.
    const device = sleepers[0]!;
    device.send({ type: 'pingreq', clientId: 'sleeper-1' });
    const register = await device.expect('register');
    device.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    for (const expected of ['m0', 'm1']) {
      const publish = await device.expect('publish');
      expect(publish.payload.toString()).toBe(expected);
      device.send({ type: 'puback', topicId: register.topicId, msgId: publish.msgId, returnCode: 0 });
    }
    await device.expect('pingresp');
    expect(gw.heldInMemory.count).toBe(2);
  });

  it('limits.maxTopicNamesLength bounds the characters of topic names one device holds: beyond it REGACK says congestion', async () => {
    const { open } = await setup({ limits: { maxTopicNamesLength: 12 } });
    const device = await open();
    await device.connect('namer');
    const codes: number[] = [];
    for (const [msgId, topicName] of ['abcdef', 'ghijkl', 'm'].entries()) {
      device.send({ type: 'register', topicId: 0, msgId: msgId + 1, topicName });
      codes.push((await device.expect('regack')).returnCode);
    }
    expect(codes).toEqual([0, 0, 0x01]);
    device.send({ type: 'register', topicId: 0, msgId: 9, topicName: 'abcdef' }); // one it holds: still answered
    expect((await device.expect('regack')).returnCode).toBe(0);
  });
  it('a gone device whose buffer is full leaves routing: later messages cost it nothing, and it is routed again when it comes back', async () => {
    const { gateway, open, connectPublisher } = await setup({ buffer: { maxMessages: 2 } });
    const device = await open();
    await device.connect('gone-full', { cleanSession: false });
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'park/#' } });
    await device.expect('suback');
    device.send({ type: 'disconnect' });
    await device.expect('disconnect');
    const publisher = await connectPublisher();
    for (let i = 0; i < 5; i++) await publisher.publish('park/x', `m${i}`, 1);
    const gw = gateway.running.gateway;
    await until(() => gw.stats.sessionsParked === 1, 'the session parked');
    // The drop that parked it is counted; the two after it never reached the session at all.
    expect(gw.stats.queueDropped).toBe(1);
    expect(gw.held.count).toBe(2);

    await device.connect('gone-full', { cleanSession: false });
    const register = await device.expect('register');
    device.send({ type: 'regack', topicId: register.topicId, msgId: register.msgId, returnCode: 0 });
    const received: string[] = [];
    for (let i = 0; i < 3; i++) {
      const publish = await device.expect('publish');
      received.push(publish.payload.toString());
      device.send({ type: 'puback', topicId: register.topicId, msgId: publish.msgId, returnCode: 0 });
      if (i === 1) await publisher.publish('park/x', 'after return', 1);
    }
    expect(received).toEqual(['m0', 'm1', 'after return']);
  });

  it('a device cycling client IDs from one address leaves lost sessions behind, which a full table evicts', async () => {
    const { gateway, open } = await setup({ limits: { maxClients: 2 } });
    const device = await open();
    const codes: number[] = [];
    for (const clientId of ['cycle-1', 'cycle-2', 'cycle-3', 'cycle-4']) {
      // Keep-alive 0: never supervised, so only the address reuse can end the previous session.
      device.send({ type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 0, clientId });
      codes.push((await device.expect('connack')).returnCode);
    }
    expect(codes).toEqual([0, 0, 0, 0]);
    const sessions = gateway.running.gateway.sessions;
    expect(sessions.get('cycle-3')?.state).toBe('lost');
    expect(sessions.get('cycle-4')?.state).toBe('active');
    expect(sessions.size).toBe(2);
    // A sleeping device's address taken by another is only detached: it may wake from anywhere.
    const sleeper = await open();
    await sleeper.connect('sleeper-x');
    sleeper.send({ type: 'disconnect', duration: 600 });
    await sleeper.expect('disconnect');
    sleeper.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'other-y' });
    await sleeper.expect('connack');
    expect(sessions.get('sleeper-x')?.state).toBe('asleep');
  });
  it('limits.sessionsPerAddress: a new client ID at an address with that many sessions left there deletes the longest silent, gone before asleep', async () => {
    const { gateway, open } = await setup({ limits: { sessionsPerAddress: 2 } });
    const sessions = gateway.running.gateway.sessions;
    const device = await open();
    const leave = async (clientId: string, duration?: number): Promise<void> => {
      await device.connect(clientId, { cleanSession: false });
      device.send({ type: 'disconnect', ...(duration === undefined ? {} : { duration }) });
      await device.expect('disconnect');
      await pause(20); // distinct lastSeen
    };
    await leave('addr-1', 600); // asleep
    await leave('addr-2'); // gone
    await leave('addr-3', 600); // two were left here: the gone one makes room
    expect(sessions.get('addr-2')).toBeUndefined();
    expect(sessions.get('addr-1')?.state).toBe('asleep');
    await device.connect('addr-4'); // both left are asleep: the longest silent goes
    expect(sessions.get('addr-1')).toBeUndefined();
    expect(sessions.get('addr-3')?.state).toBe('asleep');
    expect(gateway.running.gateway.stats.sessionsEvicted).toBe(2);
    // Another address is not affected.
    const other = await open();
    await other.connect('elsewhere');
    expect(sessions.get('addr-3')?.state).toBe('asleep');
  });
  it('a subscription takes at most buffer.maxMessages retained messages from a replay, then its window closes', async () => {
    const { gateway, open, connectPublisher } = await setup({ buffer: { maxMessages: 3 } });
    const publisher = await connectPublisher();
    for (let i = 1; i <= 5; i++) await publisher.publish(`cap/${i}`, `r${i}`, 1, true);
    const device = await open();
    await device.connect('capped');
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'cap/#' } });
    await device.expect('suback');
    const received: string[] = [];
    for (;;) {
      const next = await device.expect('register', 1000).catch(() => undefined);
      if (!next) break;
      device.send({ type: 'regack', topicId: next.topicId, msgId: next.msgId, returnCode: 0 });
      const publish = await device.expect('publish');
      received.push(publish.payload.toString());
      device.send({ type: 'puback', topicId: next.topicId, msgId: publish.msgId, returnCode: 0 });
    }
    expect(received).toHaveLength(3);
    expect(gateway.running.gateway.sessions.get('capped')?.retainedWanted.size).toBe(0);
  });
});
