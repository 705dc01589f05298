import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = mosquittoSkipReason();

/**
 * Text mosquitto refuses in a topic or client ID: it drops the whole connection as a "malformed
 * packet", so forwarding one would cut every device off. Each must be refused at the device.
 */
const HOSTILE: ReadonlyArray<[string, string]> = [
  ['U+0001', 'a/\u0001'],
  ['TAB', 'a/\tb'],
  ['U+007F', 'a/\u007f'],
  ['U+0085', 'a/\u0085'],
  ['U+FFFE', 'a/\ufffe'],
  ['U+0000', 'a/\u0000b'],
];

/** The same in short topic names, which are exactly two octets. */
const SHORT: ReadonlyArray<[string, string]> = [
  ['U+0001', 'x\u0001'],
  ['TAB', 'x\t'],
  ['U+007F', 'x\u007f'],
  ['U+0085', '\u0085'],
  ['U+0000', 'x\u0000'],
];

/** Bytes that are not UTF-8 (a lone continuation byte; an encoded surrogate, ED A0 80). */
const INVALID_UTF8: ReadonlyArray<[string, Buffer]> = [
  ['lone continuation byte', Buffer.from([0x61, 0x2f, 0x80])],
  ['encoded surrogate', Buffer.from([0x61, 0x2f, 0xed, 0xa0, 0x80])],
];

const frame = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([2 + body.length, type]), body]);
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

describe.skipIf(skip)('names a broker would refuse are refused at the device, and the broker link stays up (mosquitto)', () => {
  let mosquitto: Mosquitto;
  let gateway: TestGateway;
  let watcher: BrokerClient;
  const states: string[] = [];

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    gateway = await startTestGateway(mosquitto.url);
    gateway.running.gateway.upstream.on('state', (state) => states.push(state));
    watcher = (await BrokerClient.connect(mosquitto.url)).ignore();
    await watcher.subscribe('#', 1);
  });

  afterAll(async () => {
    await watcher?.close();
    await gateway?.stop();
    await mosquitto?.stop();
  });

  it.each(HOSTILE)('%s: REGISTER, SUBSCRIBE, will topics and client IDs get "not supported"', async (_what, name) => {
    const dev = await RawDevice.open(gateway.port);
    dev.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: `id${name}` });
    expect((await dev.expect('connack')).returnCode).toBe(0x03);

    dev.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: 'will-dev' });
    await dev.expect('willtopicreq');
    dev.send({ type: 'willtopic', qos: 1, retain: false, topic: name });
    expect((await dev.expect('connack')).returnCode).toBe(0x03);

    await dev.connect('names-dev');
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: name });
    expect(await dev.expect('regack')).toMatchObject({ topicId: 0, returnCode: 0x03 });
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 2, topic: { kind: 'name', name: `${name}/#` } });
    expect((await dev.expect('suback')).returnCode).toBe(0x03);
    dev.send({ type: 'willtopicupd', qos: 1, retain: false, topic: name });
    expect((await dev.expect('willtopicresp')).returnCode).toBe(0x03);
    dev.close();
  });

  it.each(SHORT)('%s in a two-octet short name: PUBLISH QoS 1 gets "not supported", QoS -1 is dropped', async (_what, short) => {
    const dev = await RawDevice.open(gateway.port);
    dev.send({ type: 'publish', dup: false, qos: -1, retain: false, topic: { kind: 'short', name: short }, msgId: 0, payload: Buffer.from('q-1') });
    await dev.connect('short-dev');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: short }, msgId: 5, payload: Buffer.from('q1') });
    expect((await dev.expect('puback')).returnCode).toBe(0x03);
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 6, topic: { kind: 'short', name: short } });
    expect((await dev.expect('suback')).returnCode).toBe(0x03);
    dev.close();
  });

  it.each(INVALID_UTF8)('invalid UTF-8 (%s) in REGISTER, SUBSCRIBE and CONNECT is refused, not repaired into another name', async (_what, bytes) => {
    const dev = await RawDevice.open(gateway.port);
    // CONNECT: flags (clean session), protocol 0x01, duration 60, client ID.
    dev.sendBytes(frame(0x04, Buffer.concat([Buffer.from([0x04, 0x01]), u16(60), bytes])));
    expect((await dev.expect('connack')).returnCode).toBe(0x03);
    await dev.connect('utf8-dev');
    dev.sendBytes(frame(0x0a, Buffer.concat([u16(0), u16(7), bytes]))); // REGISTER: topic ID 0, msg ID 7
    expect(await dev.expect('regack')).toMatchObject({ msgId: 7, returnCode: 0x03 });
    dev.sendBytes(frame(0x12, Buffer.concat([Buffer.from([0x20]), u16(8), bytes]))); // SUBSCRIBE QoS 1 by name
    expect(await dev.expect('suback')).toMatchObject({ msgId: 8, returnCode: 0x03 });
    dev.close();
  });

  it('topics deeper than 100 levels: REGISTER and SUBSCRIBE get "not supported" (mosquitto drops the link past 200 levels; found by the fuzzer)', async () => {
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('deep-dev');
    dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'a/'.repeat(201) + 'z' });
    expect((await dev.expect('regack')).returnCode).toBe(0x03);
    dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 2, topic: { kind: 'name', name: 'a/'.repeat(150) + '#' } });
    expect((await dev.expect('suback')).returnCode).toBe(0x03);
    dev.close();
  });

  it('all of it was counted, and the broker link never dropped: a good device gets through', async () => {
    const counters = gateway.running.gateway.status().stats;
    expect(counters.refusedNames).toBeGreaterThanOrEqual(HOSTILE.length * 5 + INVALID_UTF8.length * 3 + 2);
    const dev = await RawDevice.open(gateway.port);
    await dev.connect('good-dev');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'ok' }, msgId: 9, payload: Buffer.from('fine') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    expect((await watcher.waitFor(1)).map((m) => `${m.topic}=${m.payload.toString()}`)).toEqual(['ok=fine']);
    expect(states).toEqual([]); // connected throughout: not one reconnect
    dev.close();
  });
});
