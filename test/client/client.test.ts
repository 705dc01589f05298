import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientError, MqttSnClient } from '../../src/client/index.js';
import type { ClientOptions, MessageInfo } from '../../src/client/index.js';
import { FakeGateway, hex } from './fake-gateway.js';

let gw: FakeGateway;
const clients: MqttSnClient[] = [];

function client(options: Partial<ClientOptions> = {}): MqttSnClient {
  const c = new MqttSnClient({ gateway: gw.url, clientId: 'dev1', retryMs: 200, ...options });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  gw = await FakeGateway.start();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw.close();
});

describe('connect', () => {
  it('sends CONNECT clean, no will, keep-alive 60, and resolves on CONNACK 0x00', async () => {
    const c = client();
    await c.connect();
    expect(hex(gw.ofType(0x04)[0]!)).toBe(
      [
        '0a', // Length 10
        '04', // MsgType CONNECT
        '04', // Flags: CleanSession
        '01', // ProtocolId
        '00 3c', // Duration 60 s
        '64 65 76 31', // ClientId "dev1"
      ].join(' '),
    );
    expect(c.state).toBe('connected');
  });

  it('rejects with the return code when CONNACK refuses', async () => {
    gw.behaviour.connackRc = 0x03;
    const c = client();
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'rejected', returnCode: 0x03 });
    expect((err as Error).message).toMatch(/CONNACK 0x03 \(rejected: not supported\)/);
    expect(c.state).toBe('disconnected');
  });

  it('answers WILLTOPICREQ and WILLMSGREQ from the will option', async () => {
    const c = client({ cleanSession: false, keepAlive: 30, will: { topic: 'dev/dead', payload: 'bye', qos: 1, retain: true } });
    await c.connect();
    expect(hex(gw.ofType(0x04)[0]!)).toBe('0a 04 08 01 00 1e 64 65 76 31'); // Flags 08: Will, persistent
    expect(hex(gw.ofType(0x07)[0]!)).toBe(
      '0b 07 30 64 65 76 2f 64 65 61 64', // Length 11, WILLTOPIC, Flags QoS1|Retain, "dev/dead"
    );
    expect(hex(gw.ofType(0x09)[0]!)).toBe('05 09 62 79 65'); // Length 5, WILLMSG, "bye"
  });

  it('retransmits CONNECT when CONNACK does not come, then fails with a timeout', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    let seen = 0;
    silent.on('message', () => seen++);
    const c = new MqttSnClient({ gateway: `udp://127.0.0.1:${port}`, clientId: 'dev1', retryMs: 50, retries: 2 });
    clients.push(c);
    await expect(c.connect()).rejects.toMatchObject({ code: 'timeout' });
    expect(seen).toBe(3);
    silent.close();
  });
});

describe('register and publish', () => {
  it('REGISTERs a long name once and publishes QoS 1 on its id', async () => {
    const c = client();
    await c.connect();
    await c.publish('sensors/temp', '21.5', { qos: 1 });
    await c.publish('sensors/temp', '21.6', { qos: 1 });
    expect(gw.ofType(0x0a)).toHaveLength(1);
    expect(hex(gw.ofType(0x0a)[0]!)).toBe(
      '12 0a 00 00 00 01 73 65 6e 73 6f 72 73 2f 74 65 6d 70', // Length 18, REGISTER, TopicId 0, MsgId 1, name
    );
    const [first, second] = gw.ofType(0x0c);
    expect(hex(first!)).toBe('0b 0c 20 00 10 00 02 32 31 2e 35'); // Flags QoS1, TopicId 0x0010, MsgId 2, "21.5"
    expect(hex(second!)).toBe('0b 0c 20 00 10 00 03 32 31 2e 36'); // next MsgId 3
  });

  it('registers a new name once for concurrent publishes and keeps one QoS 1 PUBLISH in flight', async () => {
    gw.behaviour.dropPubacks = 1; // hold the first PUBLISH until its retransmission
    const c = client({ retryMs: 150 });
    await c.connect();
    const all = Promise.all([1, 2, 3].map((n) => c.publish('a/new/name', String(n), { qos: 1 })));
    await gw.waitFor(0x0c);
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.ofType(0x0c)).toHaveLength(1); // the others wait for the first PUBACK (§6.13)
    await all;
    expect(gw.ofType(0x0a)).toHaveLength(1);
    expect(gw.ofType(0x0c).map((f) => f.subarray(2, 7).toString('hex'))).toEqual([
      '2000100002', // QoS1 id 0x10 MsgId 2
      'a000100002', // DUP retransmission
      '2000100003',
      '2000100004',
    ]);
  });

  it('register() resolves with the id from REGACK', async () => {
    const c = client();
    await c.connect();
    expect(await c.register('a/b')).toBe(0x10);
    expect(await c.register('c/d')).toBe(0x11);
  });

  it('sends QoS 0 on a short topic name without registering and retains when asked', async () => {
    const c = client();
    await c.connect();
    await c.publish('ab', Buffer.from([1, 2]), { qos: 0, retain: true });
    const frame = await gw.waitFor(0x0c);
    expect(hex(frame)).toBe('09 0c 12 61 62 00 00 01 02'); // Flags Retain|short, "ab", MsgId 0, payload
    expect(gw.ofType(0x0a)).toHaveLength(0);
  });

  it('uses the pre-defined id for a configured name', async () => {
    const c = client({ predefined: { 'plant/alarm': 7 } });
    await c.connect();
    await c.publish('plant/alarm', 'on', { qos: 1 });
    expect(hex(gw.ofType(0x0c)[0]!)).toBe('09 0c 21 00 07 00 01 6f 6e'); // Flags QoS1|predefined, id 7, MsgId 1
  });

  it('retransmits with DUP and the same MsgId after a dropped PUBACK', async () => {
    gw.behaviour.dropPubacks = 1;
    const c = client({ retryMs: 100 });
    await c.connect();
    await c.publishTo({ kind: 'predefined', id: 5 }, 'x', { qos: 1 });
    const [first, retry] = gw.ofType(0x0c);
    expect(hex(first!)).toBe('08 0c 21 00 05 00 01 78');
    expect(hex(retry!)).toBe('08 0c a1 00 05 00 01 78'); // DUP set, same MsgId 1
    expect(gw.ofType(0x0c)).toHaveLength(2);
  });

  it('gives up after the configured retries with a timeout error', async () => {
    gw.behaviour.dropPubacks = -1;
    const c = client({ retryMs: 50, retries: 2 });
    await c.connect();
    await expect(c.publish('ab', 'x', { qos: 1 })).rejects.toMatchObject({ code: 'timeout' });
    expect(gw.ofType(0x0c).map((f) => f[2])).toEqual([0x22, 0xa2, 0xa2]);
  });

  it('rejects with the return code when PUBACK refuses, and re-registers the name next time', async () => {
    const c = client();
    await c.connect();
    gw.behaviour.pubackRc = 0x02;
    await expect(c.publish('x/y', 'p', { qos: 1 })).rejects.toMatchObject({ code: 'rejected', returnCode: 0x02 });
    gw.behaviour.pubackRc = 0x00;
    await c.publish('x/y', 'p', { qos: 1 });
    expect(gw.ofType(0x0a)).toHaveLength(2);
  });

  it('refuses to publish before connect (except QoS -1) and to wildcard topics', async () => {
    const c = client();
    await expect(c.publish('ab', 'x', { qos: 1 })).rejects.toMatchObject({ code: 'not-connected' });
    await c.connect();
    await expect(c.publish('a/#', 'x')).rejects.toMatchObject({ code: 'bad-topic' });
  });
});

describe('QoS -1', () => {
  it('publishes on a pre-defined id without CONNECT', async () => {
    const c = client({ predefined: { 'meter/1': 0x0102 } });
    await c.publish('meter/1', 'kWh=3', { qos: -1 });
    const frame = await gw.waitFor(0x0c);
    expect(hex(frame)).toBe(
      [
        '0c', // Length 12
        '0c', // PUBLISH
        '61', // Flags: QoS -1 (11), TopicIdType pre-defined (01)
        '01 02', // TopicId 0x0102
        '00 00', // MsgId 0
        '6b 57 68 3d 33', // "kWh=3"
      ].join(' '),
    );
    expect(gw.ofType(0x04)).toHaveLength(0);
  });

  it('publishes on a short name without CONNECT', async () => {
    const c = client();
    await c.publish('ns', 'v', { qos: -1 });
    expect(hex(await gw.waitFor(0x0c))).toBe('08 0c 62 6e 73 00 00 76'); // Flags 62: QoS -1, short
  });

  it('refuses a long unregistered name', async () => {
    const c = client();
    await expect(c.publish('long/name', 'v', { qos: -1 })).rejects.toThrow(/QoS -1 needs a pre-defined or 2-character topic/);
    expect(gw.received).toHaveLength(0);
  });
});

describe('subscribe and incoming messages', () => {
  it('sends SUBSCRIBE by name and resolves with the SUBACK fields', async () => {
    const c = client();
    await c.connect();
    const result = await c.subscribe('room/+/temp', 1);
    expect(hex(gw.ofType(0x12)[0]!)).toBe(
      '10 12 20 00 01 72 6f 6f 6d 2f 2b 2f 74 65 6d 70', // Length 16, SUBSCRIBE, Flags QoS1 name, MsgId 1, filter
    );
    expect(result).toEqual({ topicId: 0, grantedQos: 1, returnCode: 0 });
  });

  it('subscribes by pre-defined id and short name', async () => {
    const c = client();
    await c.connect();
    expect(await c.subscribe({ predefined: 9 }, 0)).toEqual({ topicId: 9, grantedQos: 0, returnCode: 0 });
    await c.subscribe({ short: 'ns' }, 0);
    await c.unsubscribe({ short: 'ns' });
    const [pre, short] = gw.ofType(0x12);
    expect(hex(pre!)).toBe('07 12 01 00 01 00 09'); // Flags pre-defined, MsgId 1, TopicId 9
    expect(hex(short!)).toBe('07 12 02 00 02 6e 73'); // Flags short, MsgId 2, "ns"
    expect(hex(gw.ofType(0x14)[0]!)).toBe('07 14 02 00 03 6e 73'); // UNSUBSCRIBE short, MsgId 3
  });

  it('answers gateway REGISTER with REGACK, then delivers and PUBACKs the PUBLISH on that id', async () => {
    const c = client();
    await c.connect();
    await c.subscribe('room/#', 1);
    const messages: Array<[string, string, MessageInfo]> = [];
    c.on('message', (topic, payload, info) => messages.push([topic, payload.toString(), info]));

    // REGISTER TopicId 0x0042, MsgId 0x0101, "room/1/temp"
    await gw.send(Buffer.concat([Buffer.from([0x11, 0x0a, 0x00, 0x42, 0x01, 0x01]), Buffer.from('room/1/temp')]));
    expect(hex(await gw.waitFor(0x0b))).toBe('07 0b 00 42 01 01 00'); // REGACK id 0x42, MsgId 0x0101, accepted

    // PUBLISH Flags QoS1|Retain, TopicId 0x0042, MsgId 0x0202, "19"
    await gw.send([0x09, 0x0c, 0x30, 0x00, 0x42, 0x02, 0x02, 0x31, 0x39]);
    expect(hex(await gw.waitFor(0x0d))).toBe('07 0d 00 42 02 02 00'); // PUBACK accepted
    expect(messages).toEqual([['room/1/temp', '19', { qos: 1, retain: true, dup: false, topic: { kind: 'normal', id: 0x42 } }]]);
  });

  it('resolves names learnt from SUBACK, pre-defined ids and short names', async () => {
    const c = client({ predefined: { 'plant/alarm': 7 } });
    await c.connect();
    const { topicId } = await c.subscribe('a/b', 0);
    const got: string[] = [];
    c.on('message', (topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await gw.send([0x08, 0x0c, 0x00, 0x00, topicId, 0x00, 0x00, 0x31]); // QoS 0 on the SUBACK id
    await gw.send([0x08, 0x0c, 0x01, 0x00, 0x07, 0x00, 0x00, 0x32]); // QoS 0 pre-defined 7
    await gw.send([0x08, 0x0c, 0x02, 0x6e, 0x73, 0x00, 0x00, 0x33]); // QoS 0 short "ns"
    await expect.poll(() => got).toEqual(['a/b=1', 'plant/alarm=2', 'ns=3']);
  });

  it('answers PUBACK 0x02 for an unknown topic id and does not deliver', async () => {
    const c = client();
    await c.connect();
    let delivered = 0;
    c.on('message', () => delivered++);
    await gw.send([0x08, 0x0c, 0x20, 0x00, 0x99, 0x00, 0x05, 0x31]);
    expect(hex(await gw.waitFor(0x0d))).toBe('07 0d 00 99 00 05 02'); // rc 0x02 invalid topic id
    expect(delivered).toBe(0);
    expect(c.stats.unknownTopic).toBe(1);
  });
});

describe('robustness and session', () => {
  it('ignores and counts malformed datagrams, and emits every decoded packet', async () => {
    const c = client();
    const packets: string[] = [];
    c.on('packet', (p) => packets.push(p.type));
    await c.connect();
    await gw.send([0x00]); // too short
    await gw.send([0x05, 0x0d]); // length says 5, datagram has 2
    await gw.send([0x02, 0x03]); // reserved type
    await c.ping();
    expect(c.stats.malformed).toBe(3);
    expect(packets).toEqual(['connack', 'pingresp']);
  });

  it('sendRaw puts bytes on the wire unchanged', async () => {
    const c = client();
    await c.sendRaw(Buffer.from([0x03, 0x01, 0x00]));
    expect(hex(await gw.waitFor(0x01))).toBe('03 01 00');
  });

  it('a listener that throws becomes an error event, not a crash', async () => {
    const c = client();
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    c.on('message', () => {
      throw new Error('listener bug');
    });
    await c.connect();
    await gw.send([0x08, 0x0c, 0x02, 0x6e, 0x73, 0x00, 0x00, 0x33]);
    await expect.poll(() => errors.map((e) => e.message)).toEqual(['listener bug']);
    await c.ping();
  });

  it('emits disconnect when the gateway sends DISCONNECT', async () => {
    const c = client();
    await c.connect();
    const seen = new Promise((resolve) => c.once('disconnect', resolve));
    await gw.send([0x02, 0x18]);
    expect(await seen).toEqual({ type: 'disconnect' });
    expect(c.state).toBe('disconnected');
  });

  it('disconnects, sleeps with a duration, and wakes with PINGREQ carrying the client id', async () => {
    const c = client();
    await c.connect();
    await c.disconnect(60);
    expect(hex(gw.ofType(0x18)[0]!)).toBe('04 18 00 3c'); // DISCONNECT Duration 60 s
    expect(c.state).toBe('asleep');
    await c.ping();
    expect(hex(gw.ofType(0x16)[0]!)).toBe('06 16 64 65 76 31'); // PINGREQ "dev1"
    await c.connect();
    await c.disconnect();
    expect(hex(gw.ofType(0x18)[1]!)).toBe('02 18');
    expect(c.state).toBe('disconnected');
  });

  it('sends PINGREQ every keep-alive period while connected', async () => {
    const c = client({ keepAlive: 1 });
    await c.connect();
    expect(hex(await gw.waitFor(0x16, 1, 3000))).toBe('02 16');
  });

  it('close() fails outstanding requests with a closed error', async () => {
    gw.behaviour.dropPubacks = -1;
    const c = client({ retryMs: 1000 });
    await c.connect();
    const publishing = c.publish('ab', 'x', { qos: 1 });
    await gw.waitFor(0x0c);
    await c.close();
    await expect(publishing).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('IPv6', () => {
  it('talks to a udp6://[::1] gateway', async (ctx) => {
    let gw6: FakeGateway;
    try {
      gw6 = await FakeGateway.start('udp6');
    } catch {
      ctx.skip();
      return;
    }
    const c = new MqttSnClient({ gateway: `udp6://[::1]:${gw6.port}`, clientId: 'v6' });
    clients.push(c);
    try {
      await c.connect();
      expect(gw6.received[0]?.from.address).toBe('::1');
    } finally {
      await c.close();
      await gw6.close();
    }
  });
});
