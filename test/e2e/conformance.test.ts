import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';

/*
 * MQTT-SN 1.2 conformance table: every message type of the spec, exact bytes in and out.
 *
 * The rows run in order against ONE gateway (with an in-process aedes broker behind it) over a
 * real UDP socket on loopback. Each row says what a device sends (hex), or what the broker side
 * publishes, and every frame the gateway sends back, compared as exact hex. Nothing else may
 * arrive at any device while a row runs. Where the gateway picks a topic ID or a MsgId, the
 * first pick follows its documented rule (normal IDs from 0x0001 skipping predefined IDs, per
 * client; MsgIds from 0x0001 per session), and later rows take the value from the earlier frame.
 */

type DeviceName = 'dev' | 'anon' | 'fwd';
/** Hex, or hex built from the frames earlier rows received. */
type Hex = string | (() => string);

interface Row {
  /** The message type(s) the row exercises; also the key for `got`. */
  readonly type: string;
  readonly section: string;
  /** Which device sends and receives (default 'dev'). */
  readonly device?: DeviceName;
  /** Bytes the device sends. */
  readonly send?: Hex;
  /** Instead of (or before) `send`: a message published at the broker, toward the device. */
  readonly brokerPublishes?: { readonly topic: string; readonly payload: string; readonly qos: 0 | 1 | 2 };
  /** Every frame the gateway sends the device, in order, or 'nothing'. */
  readonly expect: readonly Hex[] | 'nothing';
  /**
   * A message that must have reached the broker exactly once by the end of this row, counted from
   * the start of row `since` (default: this row).
   */
  readonly atBroker?: { readonly topic: string; readonly payload: string; readonly qos: 0 | 1 | 2; readonly since?: string };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** UTF-8 text as hex. */
const txt = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
/** An MQTT-SN message in the 1-octet length form: the length octet, then the parts. */
const sn = (...parts: string[]): string => {
  const body = parts.join('');
  const length = body.length / 2 + 1;
  if (length > 255) throw new Error('use the 3-octet form');
  return length.toString(16).padStart(2, '0') + body;
};
/** Forwarder encapsulation (§5.5): 05 FE Ctrl=00 NodeId=ABCD, then the inner message. */
const NODE = 'abcd';
const enc = (inner: string): string => `05fe00${NODE}${inner}`;

/** How many messages the broker watcher had when each row started, by row type. */
const brokerMark = new Map<string, number>();
/** Frames (hex) each row received, by row type. */
const got = new Map<string, string[]>();
const frameOf = (type: string, index = 0): string => {
  const frame = got.get(type)?.[index];
  if (frame === undefined) throw new Error(`no frame ${index} recorded for row "${type}"`);
  return frame;
};
/** `count` octets at `offset` of a recorded frame, as hex. */
const octets = (type: string, index: number, offset: number, count = 2): string => frameOf(type, index).slice(offset * 2, (offset + count) * 2);
const plusOne = (hex16: string): string => ((parseInt(hex16, 16) % 0xffff) + 1).toString(16).padStart(4, '0');

const CLIENT = 'conf-dev';
const FWD_CLIENT = 'conf-fwd';

const rows: readonly Row[] = [
  // --- Discovery (§6.1) -------------------------------------------------------------------
  { type: 'SEARCHGW → GWINFO', section: '§5.4.2, §5.4.3, §6.1', send: '030100', expect: ['030201'] },
  { type: 'ADVERTISE from a device', section: '§5.4.1, §6.1', send: '0500020384', expect: 'nothing' },
  { type: 'GWINFO from a device', section: '§5.4.3, §6.1', send: sn('02', '02', '7f000001'), expect: 'nothing' },

  // --- Connect with will (§6.3) -----------------------------------------------------------
  { type: 'CONNECT (will) → WILLTOPICREQ', section: '§5.4.4, §5.4.6, §6.3', send: sn('04', '0c', '01', '003c', txt(CLIENT)), expect: ['0206'] },
  { type: 'WILLTOPIC → WILLMSGREQ', section: '§5.4.7, §5.4.8, §6.3', send: sn('07', '20', txt('conf/will')), expect: ['0208'] },
  { type: 'WILLMSG → CONNACK', section: '§5.4.9, §5.4.5, §6.3', send: sn('09', txt('gone')), expect: ['030500'] },

  // --- Register and publish (§6.5, §6.6, §6.8) ---------------------------------------------
  // First normal topic ID of this client: 0x0001 (predefined 0x0005 is skipped by the allocator).
  { type: 'REGISTER → REGACK', section: '§5.4.10, §5.4.11, §6.5', send: sn('0a', '0000', '0001', txt('conf/reg')), expect: ['070b0001000100'] },
  {
    type: 'PUBLISH QoS 0',
    section: '§5.4.12, §6.6',
    send: () => sn('0c', '00', octets('REGISTER → REGACK', 0, 2), '0000', txt('q0')),
    expect: 'nothing',
    atBroker: { topic: 'conf/reg', payload: 'q0', qos: 0 },
  },
  {
    type: 'PUBLISH QoS 1 → PUBACK',
    section: '§5.4.12, §5.4.13, §6.6',
    send: () => sn('0c', '20', octets('REGISTER → REGACK', 0, 2), '0002', txt('q1')),
    expect: [() => `070d${octets('REGISTER → REGACK', 0, 2)}000200`],
    atBroker: { topic: 'conf/reg', payload: 'q1', qos: 1 },
  },
  {
    type: 'PUBLISH QoS 2 → PUBREC',
    section: '§5.4.12, §5.4.14, §6.7',
    send: () => sn('0c', '40', octets('REGISTER → REGACK', 0, 2), '0003', txt('q2')),
    expect: ['040f0003'],
  },
  // The gateway may forward the QoS 2 message on PUBLISH or on PUBREL: counted over both rows.
  {
    type: 'PUBREL → PUBCOMP',
    section: '§5.4.14, §6.7',
    send: '04100003',
    expect: ['040e0003'],
    atBroker: { topic: 'conf/reg', payload: 'q2', qos: 2, since: 'PUBLISH QoS 2 → PUBREC' },
  },
  {
    type: 'PUBLISH QoS -1 (predefined ID, no session)',
    section: '§5.4.12, §6.8',
    device: 'anon',
    send: sn('0c', '61', '0005', '0000', txt('qm1')),
    expect: 'nothing',
    atBroker: { topic: 'conf/predef', payload: 'qm1', qos: 0 },
  },
  { type: 'PUBLISH unknown topic ID → PUBACK rc 02', section: '§5.4.13, §6.6', send: sn('0c', '20', '0999', '0004', txt('lost')), expect: ['070d0999000402'] },

  // --- Subscribe (§6.9) -------------------------------------------------------------------
  // The next normal ID of this client: 0x0002.
  { type: 'SUBSCRIBE by name → SUBACK', section: '§5.4.15, §5.4.16, §6.9', send: sn('12', '20', '0005', txt('conf/sub')), expect: ['0813200002000500'] },
  { type: 'SUBSCRIBE predefined → SUBACK', section: '§5.4.15, §5.4.16, §6.9', send: sn('12', '21', '0006', '0005'), expect: ['0813200005000600'] },
  { type: 'SUBSCRIBE short name (QoS 2) → SUBACK', section: '§5.4.15, §5.4.16, §6.9', send: sn('12', '42', '0007', txt('cs')), expect: ['0813400000000700'] },
  { type: 'SUBSCRIBE wildcard → SUBACK', section: '§5.4.15, §5.4.16, §6.9', send: sn('12', '20', '0008', txt('conf/w/+')), expect: ['0813200000000800'] },

  // --- Gateway → device: REGISTER, PUBLISH QoS 1, PUBLISH QoS 2 (§6.10, §6.6, §6.7) ---------
  // Third normal ID (0x0003), first MsgId of the session (0x0001).
  {
    type: 'REGISTER from the gateway (wildcard match)',
    section: '§5.4.10, §6.10',
    brokerPublishes: { topic: 'conf/w/a', payload: 'wild', qos: 1 },
    expect: [sn('0a', '0003', '0001', txt('conf/w/a'))],
  },
  {
    type: 'REGACK from the device → PUBLISH QoS 1',
    section: '§5.4.11, §5.4.12, §6.10',
    send: () => `070b${octets('REGISTER from the gateway (wildcard match)', 0, 2)}${octets('REGISTER from the gateway (wildcard match)', 0, 4)}00`,
    expect: [() => sn('0c', '20', octets('REGISTER from the gateway (wildcard match)', 0, 2), plusOne(octets('REGISTER from the gateway (wildcard match)', 0, 4)), txt('wild'))],
  },
  {
    type: 'PUBACK from the device',
    section: '§5.4.13, §6.6',
    send: () => `070d${octets('REGACK from the device → PUBLISH QoS 1', 0, 3)}${octets('REGACK from the device → PUBLISH QoS 1', 0, 5)}00`,
    expect: 'nothing',
  },
  {
    type: 'PUBLISH QoS 2 from the gateway',
    section: '§5.4.12, §6.7',
    brokerPublishes: { topic: 'cs', payload: 'two', qos: 2 },
    expect: [() => sn('0c', '42', txt('cs'), plusOne(octets('REGACK from the device → PUBLISH QoS 1', 0, 5)), txt('two'))],
  },
  { type: 'PUBREC from the device → PUBREL', section: '§5.4.14, §6.7', send: () => `040f${octets('PUBLISH QoS 2 from the gateway', 0, 5)}`, expect: [() => `0410${octets('PUBLISH QoS 2 from the gateway', 0, 5)}`] },
  { type: 'PUBCOMP from the device', section: '§5.4.14, §6.7', send: () => `040e${octets('PUBLISH QoS 2 from the gateway', 0, 5)}`, expect: 'nothing' },

  // --- Unsubscribe, malformed, ping, will updates ------------------------------------------
  { type: 'UNSUBSCRIBE → UNSUBACK', section: '§5.4.17, §5.4.18, §6.9', send: sn('14', '00', '0009', txt('conf/w/+')), expect: ['04150009'] },
  { type: 'reserved type 0x03', section: '§5.2.2', send: '0203', expect: 'nothing' },
  { type: 'DISCONNECT with length 3 (malformed)', section: '§5.4.21', send: '031800', expect: 'nothing' },
  { type: 'PINGREQ → PINGRESP', section: '§5.4.19, §5.4.20, §6.11', send: '0216', expect: ['0217'] },
  { type: 'WILLTOPICUPD → WILLTOPICRESP', section: '§5.4.22, §5.4.23, §6.4', send: sn('1a', '20', txt('conf/will2')), expect: ['031b00'] },
  { type: 'WILLMSGUPD → WILLMSGRESP', section: '§5.4.24, §5.4.25, §6.4', send: sn('1c', txt('bye')), expect: ['031d00'] },

  // --- Sleep and wake (§6.14) -------------------------------------------------------------
  { type: 'DISCONNECT with duration (sleep) → DISCONNECT', section: '§5.4.21, §6.14', send: '0418003c', expect: ['0218'] },
  { type: 'PUBLISH for a sleeping device (buffered)', section: '§6.14', brokerPublishes: { topic: 'conf/sub', payload: 'zz', qos: 0 }, expect: 'nothing' },
  {
    type: 'PINGREQ with client ID (wake) → PUBLISH, PINGRESP',
    section: '§5.4.19, §6.14',
    send: sn('16', txt(CLIENT)),
    expect: [() => sn('0c', '00', octets('SUBSCRIBE by name → SUBACK', 0, 3), '0000', txt('zz')), '0217'],
  },
  { type: 'DISCONNECT → DISCONNECT', section: '§5.4.21, §6.14', send: '0218', expect: ['0218'] },

  // --- Forwarder encapsulation (§5.5) -----------------------------------------------------
  { type: 'Encapsulated SEARCHGW → GWINFO', section: '§5.5', device: 'fwd', send: enc('030100'), expect: [enc('030201')] },
  { type: 'Encapsulated CONNECT → CONNACK', section: '§5.5, §6.3', device: 'fwd', send: enc(sn('04', '04', '01', '003c', txt(FWD_CLIENT))), expect: [enc('030500')] },
  { type: 'Encapsulated PINGREQ → PINGRESP', section: '§5.5, §6.11', device: 'fwd', send: enc('0216'), expect: [enc('0217')] },
  { type: 'Encapsulated DISCONNECT → DISCONNECT', section: '§5.5, §5.4.21', device: 'fwd', send: enc('0218'), expect: [enc('0218')] },
];

describe('MQTT-SN 1.2 conformance table (exact bytes, one gateway, UDP on loopback)', () => {
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>>;
  let gateway: TestGateway;
  let watcher: BrokerClient;
  const devices = new Map<DeviceName, RawDevice>();

  beforeAll(async () => {
    broker = await startEmbeddedBroker(0);
    gateway = await startTestGateway(broker.url, {
      predefined: { 5: 'conf/predef' },
      timers: { retryMs: 60_000, retries: 3, keepAliveTolerance: 1.5 },
      discovery: { advertiseSeconds: 0, gwinfoMaxDelayMs: 0 },
      gatewayId: 1,
    });
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('#', 2);
    for (const name of ['dev', 'anon', 'fwd'] as const) devices.set(name, await RawDevice.open(gateway.port));
  });

  afterAll(async () => {
    for (const device of devices.values()) device.close();
    await watcher?.close();
    await gateway?.stop();
    await broker?.close();
  });

  const hex = (value: Hex): string => (typeof value === 'function' ? value() : value);

  for (const row of rows) {
    it(`${row.type} (${row.section})`, async () => {
      const target = row.device ?? 'dev';
      const device = devices.get(target)!;
      const before = new Map([...devices].map(([name, d]) => [name, d.frames.length]));
      brokerMark.set(row.type, watcher.messages.length);

      if (row.brokerPublishes) await watcher.publish(row.brokerPublishes.topic, row.brokerPublishes.payload, row.brokerPublishes.qos);
      if (row.send !== undefined) device.sendBytes(Buffer.from(hex(row.send), 'hex'));

      const start = before.get(target)!;
      const wanted = row.expect === 'nothing' ? [] : row.expect.map(hex);
      if (wanted.length === 0) {
        await pause(400);
      } else {
        for (let waited = 0; device.frames.length < start + wanted.length && waited < 3000; waited += 10) await pause(10);
        await pause(150); // anything extra would arrive now
      }
      const received = device.frames.slice(start).map((frame) => frame.toString('hex'));
      got.set(row.type, received);
      expect(received).toEqual(wanted);
      for (const [name, other] of devices) {
        if (name !== target) expect(other.frames.length, `frames at ${name}`).toBe(before.get(name));
      }

      if (row.atBroker) {
        const { topic, payload, qos, since = row.type } = row.atBroker;
        const seenAtBroker = brokerMark.get(since) ?? 0;
        const matches = (m: { topic: string; payload: Buffer }): boolean => m.topic === topic && m.payload.toString() === payload;
        await watcher.waitFor(1, matches);
        await pause(150);
        const arrived = watcher.messages.slice(seenAtBroker).filter(matches);
        expect(arrived.map((m) => ({ topic: m.topic, payload: m.payload.toString(), qos: m.qos }))).toEqual([{ topic, payload, qos }]);
      }
    });
  }

  it('after the table: each device PUBLISH reached the broker exactly once, and no will was published (DISCONNECT is not loss, §6.3)', () => {
    const fromDevices = watcher.messages.filter((m) => m.topic === 'conf/reg' || m.topic === 'conf/predef').map((m) => `${m.topic}=${m.payload.toString()}`);
    expect(fromDevices.sort()).toEqual(['conf/predef=qm1', 'conf/reg=q0', 'conf/reg=q1', 'conf/reg=q2']);
    expect(watcher.messages.filter((m) => m.topic.startsWith('conf/will'))).toEqual([]);
  });
});
