/**
 * Frames the gateway must drop (or answer), each with its exact error code and offset, and values
 * the encoder must refuse. Rules: shared/mqtt-sn-reference.md (a), (b), (j), (k).
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, EncodeError, rejectionFor } from '../../src/codec/index.js';
import type { DecodeErrorCode, Packet } from '../../src/codec/index.js';

interface Bad {
  readonly name: string;
  readonly bytes: readonly number[];
  readonly code: DecodeErrorCode;
  readonly offset: number;
}

const bad: readonly Bad[] = [
  // framing (reference (a))
  { name: 'empty datagram', bytes: [], code: 'too-short', offset: 0 },
  { name: 'one octet', bytes: [0x02], code: 'too-short', offset: 0 },
  { name: '0x01 alone', bytes: [0x01], code: 'too-short', offset: 0 },
  { name: 'length 0', bytes: [0x00, 0x16], code: 'length-zero', offset: 0 },
  { name: '0x01 without its two length octets', bytes: [0x01, 0x00], code: 'length-incomplete', offset: 0 },
  { name: '3-octet length 2 < header 4', bytes: [0x01, 0x00, 0x02, 0x16], code: 'length-below-header', offset: 0 },
  { name: '3-octet length 0', bytes: [0x01, 0x00, 0x00, 0x16], code: 'length-below-header', offset: 0 },
  { name: 'truncated PUBACK (length 7, 6 received)', bytes: [0x07, 0x0d, 0x00, 0x05, 0x00, 0x07], code: 'length-exceeds-datagram', offset: 0 },
  { name: '3-octet length, no MsgType', bytes: [0x01, 0x00, 0x04], code: 'length-exceeds-datagram', offset: 0 },
  { name: 'truncated 3-octet CONNECT', bytes: [0x01, 0x00, 0x09, 0x04, 0x0c], code: 'length-exceeds-datagram', offset: 0 },
  { name: 'trailing octet after PINGREQ', bytes: [0x02, 0x16, 0x00], code: 'length-below-datagram', offset: 2 },
  { name: 'trailing octets after 3-octet PINGRESP', bytes: [0x01, 0x00, 0x04, 0x17, 0xaa, 0xbb], code: 'length-below-datagram', offset: 4 },
  // reserved message types (reference (b))
  ...[0x03, 0x11, 0x19, 0x1e, 0xfd, 0xff].map((t): Bad => ({
    name: `unknown type 0x${t.toString(16)}`, bytes: [0x02, t], code: 'unknown-type', offset: 1,
  })),
  { name: 'unknown type in 3-octet form', bytes: [0x01, 0x00, 0x04, 0x03], code: 'unknown-type', offset: 3 },
  // per-type lengths (reference (b), (k))
  { name: 'PUBACK of 6', bytes: [0x06, 0x0d, 0x00, 0x05, 0x00, 0x07], code: 'bad-length', offset: 0 },
  { name: 'DISCONNECT of 3', bytes: [0x03, 0x18, 0x00], code: 'bad-length', offset: 0 },
  { name: 'DISCONNECT of 5', bytes: [0x05, 0x18, 0x00, 0x3c, 0x00], code: 'bad-length', offset: 0 },
  { name: 'ADVERTISE of 4', bytes: [0x04, 0x00, 0x01, 0x03], code: 'bad-length', offset: 0 },
  { name: 'CONNECT without Duration', bytes: [0x05, 0x04, 0x04, 0x01, 0x00], code: 'bad-length', offset: 0 },
  { name: 'CONNACK of 2', bytes: [0x02, 0x05], code: 'bad-length', offset: 0 },
  { name: 'PINGRESP of 3', bytes: [0x03, 0x17, 0x00], code: 'bad-length', offset: 0 },
  { name: 'REGISTER with empty name', bytes: [0x06, 0x0a, 0x00, 0x00, 0x00, 0x01], code: 'bad-length', offset: 0 },
  { name: 'PUBLISH of 6', bytes: [0x06, 0x0c, 0x00, 0x00, 0x05, 0x00], code: 'bad-length', offset: 0 },
  { name: 'PUBREL of 5', bytes: [0x05, 0x10, 0x00, 0x07, 0x00], code: 'bad-length', offset: 0 },
  { name: 'SUBACK of 7', bytes: [0x07, 0x13, 0x00, 0x00, 0x05, 0x00, 0x03], code: 'bad-length', offset: 0 },
  { name: 'SUBSCRIBE without MsgId', bytes: [0x04, 0x12, 0x00, 0x00], code: 'bad-length', offset: 0 },
  { name: 'SUBSCRIBE type 00 with empty name', bytes: [0x05, 0x12, 0x20, 0x00, 0x03], code: 'bad-length', offset: 0 },
  { name: 'SUBSCRIBE predefined of 8', bytes: [0x08, 0x12, 0x21, 0x00, 0x03, 0x00, 0x09, 0x00], code: 'bad-length', offset: 0 },
  { name: 'SUBSCRIBE short name of 3 octets', bytes: [0x08, 0x12, 0x22, 0x00, 0x03, 0x61, 0x62, 0x63], code: 'bad-length', offset: 0 },
  { name: 'UNSUBSCRIBE short name of 1 octet', bytes: [0x06, 0x14, 0x02, 0x00, 0x03, 0x61], code: 'bad-length', offset: 0 },
  { name: 'bad length in 3-octet form', bytes: [0x01, 0x00, 0x08, 0x0d, 0x00, 0x05, 0x00, 0x07], code: 'bad-length', offset: 0 },
  // reserved TopicIdType 11 (reference (c), (k))
  { name: 'PUBLISH TopicIdType 11', bytes: [0x07, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07], code: 'reserved-topic-id-type', offset: 2 },
  { name: 'SUBSCRIBE TopicIdType 11', bytes: [0x07, 0x12, 0x23, 0x00, 0x08, 0x00, 0x09], code: 'reserved-topic-id-type', offset: 2 },
  { name: 'SUBSCRIBE TopicIdType 11, no topic', bytes: [0x05, 0x12, 0x03, 0x00, 0x08], code: 'reserved-topic-id-type', offset: 2 },
  { name: 'UNSUBSCRIBE TopicIdType 11', bytes: [0x07, 0x14, 0x03, 0x00, 0x08, 0x00, 0x09], code: 'reserved-topic-id-type', offset: 2 },
  { name: '3-octet PUBLISH TopicIdType 11', bytes: [0x01, 0x00, 0x09, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07], code: 'reserved-topic-id-type', offset: 4 },
  // forwarder encapsulation (reference (j)); inner offsets are relative to the outer frame
  { name: 'nested encapsulation', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x05, 0xfe, 0x00, 0xab, 0xcd, 0x02, 0x16], code: 'nested-encapsulation', offset: 6 },
  { name: 'encapsulation header length 2', bytes: [0x02, 0xfe, 0x02, 0x16], code: 'bad-encapsulation', offset: 0 },
  { name: 'encapsulation without inner message', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd], code: 'bad-encapsulation', offset: 0 },
  { name: 'encapsulation header past the datagram', bytes: [0x09, 0xfe, 0x00, 0xab, 0xcd], code: 'bad-encapsulation', offset: 0 },
  { name: 'encapsulation with a 3-octet header length', bytes: [0x01, 0x00, 0x07, 0xfe, 0x00, 0xab, 0x02, 0x16], code: 'bad-encapsulation', offset: 0 },
  { name: 'encapsulated inner too short', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x02], code: 'too-short', offset: 5 },
  { name: 'encapsulated inner truncated', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x03, 0x16], code: 'length-exceeds-datagram', offset: 5 },
  { name: 'encapsulated inner with trailing octet', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x02, 0x16, 0x00], code: 'length-below-datagram', offset: 7 },
  { name: 'encapsulated inner unknown type', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x02, 0x03], code: 'unknown-type', offset: 6 },
  { name: 'encapsulated inner DISCONNECT of 3', bytes: [0x05, 0xfe, 0x00, 0xab, 0xcd, 0x03, 0x18, 0x00], code: 'bad-length', offset: 5 },
  { name: 'encapsulated PUBLISH TopicIdType 11', bytes: [0x04, 0xfe, 0x00, 0x42, 0x07, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07], code: 'reserved-topic-id-type', offset: 6 },
];

describe('malformed frames', () => {
  it.each(bad)('$name -> $code at $offset', ({ bytes, code, offset }) => {
    const r = decode(Buffer.from(bytes));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect({ code: r.error.code, offset: r.error.offset }).toEqual({ code, offset });
    expect(r.error.message).not.toBe('');
  });

  it('reports the MsgType once the frame has one', () => {
    const r = decode(Buffer.from([0x06, 0x0d, 0x00, 0x05, 0x00, 0x07]));
    expect(r.ok ? undefined : r.error.msgType).toBe(0x0d);
    const short = decode(Buffer.from([0x00, 0x16]));
    expect(short.ok ? 'ok' : 'msgType' in short.error).toBe(false);
  });
});

describe('rejectionFor', () => {
  const answer = (bytes: number[]): number[] | undefined => {
    const frame = Buffer.from(bytes);
    const r = decode(frame);
    if (r.ok) throw new Error('expected a decode error');
    const p = rejectionFor(frame, r.error);
    return p === undefined ? undefined : [...encode(p)];
  };

  it('answers a QoS 1 PUBLISH with TopicIdType 11 with PUBACK rc 0x03', () => {
    expect(answer([0x07, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07])).toEqual([
      0x07, 0x0d, // length, PUBACK
      0x00, 0x05, // TopicId echoed
      0x00, 0x07, // MsgId echoed
      0x03, // rc not supported
    ]);
  });
  it('answers a QoS 0 PUBLISH too, but not a QoS -1 one (nobody to answer, reference (h))', () => {
    expect(answer([0x07, 0x0c, 0x03, 0x00, 0x05, 0x00, 0x00])).toEqual([0x07, 0x0d, 0x00, 0x05, 0x00, 0x00, 0x03]);
    expect(answer([0x07, 0x0c, 0x63, 0x00, 0x05, 0x00, 0x00])).toBeUndefined();
  });
  it('answers a SUBSCRIBE with TopicIdType 11 with SUBACK rc 0x03 (EMQX bytes)', () => {
    expect(answer([0x07, 0x12, 0x23, 0x00, 0x08, 0x00, 0x09])).toEqual([
      0x08, 0x13, // length, SUBACK
      0x00, // granted QoS 0
      0x00, 0x00, // TopicId 0
      0x00, 0x08, // MsgId echoed
      0x03, // rc not supported
    ]);
  });
  it('answers through the same encapsulation', () => {
    expect(answer([0x04, 0xfe, 0x00, 0x42, 0x07, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07])).toEqual([
      0x04, 0xfe, 0x00, 0x42, // forwarder header, node 0x42
      0x07, 0x0d, 0x00, 0x05, 0x00, 0x07, 0x03, // PUBACK rc 0x03
    ]);
  });
  it('drops everything else silently', () => {
    expect(answer([0x07, 0x14, 0x03, 0x00, 0x08, 0x00, 0x09])).toBeUndefined(); // UNSUBSCRIBE
    expect(answer([0x06, 0x0d, 0x00, 0x05, 0x00, 0x07])).toBeUndefined(); // bad length
    expect(answer([0x02, 0x03])).toBeUndefined(); // unknown type
  });
});

describe('encode refuses values that cannot be put on the wire', () => {
  const payload = Buffer.alloc(0);
  const cases: readonly { name: string; packet: Packet; code: EncodeError['code']; field: string }[] = [
    { name: 'topicId 70000', packet: { type: 'puback', topicId: 70000, msgId: 1, returnCode: 0 }, code: 'out-of-range', field: 'topicId' },
    { name: 'PUBLISH topic id 70000', packet: { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: 70000 }, msgId: 1, payload }, code: 'out-of-range', field: 'topic.id' },
    { name: 'short name of 3 chars', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'abc' }, msgId: 0, payload }, code: 'bad-short-name', field: 'topic.name' },
    { name: 'short name of 1 char', packet: { type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'short', name: 'a' } }, code: 'bad-short-name', field: 'topic.name' },
    { name: 'short name of 2 chars but 4 octets', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'éé' }, msgId: 0, payload }, code: 'bad-short-name', field: 'topic.name' },
    { name: 'msgId -1', packet: { type: 'pubrel', msgId: -1 }, code: 'out-of-range', field: 'msgId' },
    { name: 'msgId 1.5', packet: { type: 'regack', topicId: 1, msgId: 1.5, returnCode: 0 }, code: 'out-of-range', field: 'msgId' },
    { name: 'msgId NaN', packet: { type: 'unsuback', msgId: Number.NaN }, code: 'out-of-range', field: 'msgId' },
    { name: 'returnCode 256', packet: { type: 'connack', returnCode: 256 }, code: 'out-of-range', field: 'returnCode' },
    { name: 'gwId -1', packet: { type: 'advertise', gwId: -1, duration: 1 }, code: 'out-of-range', field: 'gwId' },
    { name: 'duration 65536', packet: { type: 'disconnect', duration: 65536 }, code: 'out-of-range', field: 'duration' },
    { name: 'QoS 3', packet: { type: 'suback', qos: 3 as unknown as 0, topicId: 1, msgId: 1, returnCode: 0 }, code: 'bad-value', field: 'qos' },
    { name: 'empty ClientId in PINGREQ', packet: { type: 'pingreq', clientId: '' }, code: 'bad-value', field: 'clientId' },
    { name: 'empty REGISTER name', packet: { type: 'register', topicId: 0, msgId: 1, topicName: '' }, code: 'bad-value', field: 'topicName' },
    { name: 'empty SUBSCRIBE name', packet: { type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'name', name: '' } }, code: 'bad-value', field: 'topic.name' },
    { name: 'empty will topic with QoS 1', packet: { type: 'willtopic', qos: 1, retain: false, topic: '' }, code: 'bad-value', field: 'topic' },
    { name: 'total > 65535', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 1 }, msgId: 0, payload: Buffer.alloc(65527) }, code: 'too-long', field: 'length' },
    { name: 'radius 4', packet: { type: 'encapsulated', radius: 4, wirelessNodeId: payload, packet: { type: 'pingreq' } }, code: 'out-of-range', field: 'radius' },
    { name: 'node id of 253 octets', packet: { type: 'encapsulated', radius: 0, wirelessNodeId: Buffer.alloc(253), packet: { type: 'pingreq' } }, code: 'too-long', field: 'wirelessNodeId' },
    {
      name: 'nested encapsulation',
      packet: { type: 'encapsulated', radius: 0, wirelessNodeId: payload, packet: { type: 'encapsulated', radius: 0, wirelessNodeId: payload, packet: { type: 'pingreq' } } as unknown as { type: 'pingreq' } },
      code: 'bad-value',
      field: 'packet',
    },
  ];

  it.each(cases)('$name -> $code on $field', ({ packet, code, field }) => {
    let caught: unknown;
    try {
      encode(packet);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EncodeError);
    expect(caught).toMatchObject({ code, field });
  });

  it('encodes the largest message, total 65535', () => {
    const p: Packet = { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 1 }, msgId: 0, payload: Buffer.alloc(65526) };
    const frame = encode(p);
    expect(frame.length).toBe(65535);
    expect([...frame.subarray(0, 4)]).toEqual([0x01, 0xff, 0xff, 0x0c]);
    const r = decode(frame);
    // Compare the 64 KiB payload with Buffer#equals: deep-equal walks it element by element.
    expect(r.ok && r.packet.type === 'publish' && r.packet.payload.equals(p.payload)).toBe(true);
  });
});
