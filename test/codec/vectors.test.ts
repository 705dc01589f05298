/**
 * Byte vectors for every MQTT-SN v1.2 message type, each checked three ways: decode, encode and
 * round trip. Layouts: shared/mqtt-sn-reference.md (b); every field is commented once.
 */
import { describe as suite, expect, it } from 'vitest';
import { decode, describe, encode } from '../../src/codec/index.js';
import type { Packet } from '../../src/codec/index.js';

interface Vector {
  readonly name: string;
  readonly bytes: readonly number[];
  readonly packet: Packet;
  /** What `encode` produces when it differs from `bytes` (input in a non-canonical form). */
  readonly encoded?: readonly number[];
}

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const filler = (n: number): number[] => Array.from({ length: n }, (_, i) => i & 0xff);

export const vectors: readonly Vector[] = [
  // ---- discovery (§5.4.2-§5.4.4) ----
  { name: 'ADVERTISE', packet: { type: 'advertise', gwId: 1, duration: 900 }, bytes: [
    0x05, // length
    0x00, // MsgType ADVERTISE
    0x01, // GwId
    0x03, 0x84, // Duration 900 s
  ] },
  { name: 'SEARCHGW', packet: { type: 'searchgw', radius: 0 }, bytes: [
    0x03, // length
    0x01, // MsgType SEARCHGW
    0x00, // Radius: whole network
  ] },
  { name: 'GWINFO from a gateway', packet: { type: 'gwinfo', gwId: 7, gwAdd: Buffer.alloc(0) }, bytes: [
    0x03, // length
    0x02, // MsgType GWINFO
    0x07, // GwId; no GwAdd when the gateway answers for itself
  ] },
  { name: 'GWINFO from a client', packet: { type: 'gwinfo', gwId: 7, gwAdd: Buffer.from([192, 168, 0, 1]) }, bytes: [
    0x07, // length
    0x02, // MsgType GWINFO
    0x07, // GwId
    0xc0, 0xa8, 0x00, 0x01, // GwAdd 192.168.0.1
  ] },
  // ---- connection and will (§5.4.5-§5.4.10) ----
  { name: 'CONNECT clean, no will', packet: { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'dev1' }, bytes: [
    0x0a, // length
    0x04, // MsgType CONNECT
    0x04, // Flags: CleanSession
    0x01, // ProtocolId
    0x00, 0x3c, // Duration 60 s
    ...ascii('dev1'), // ClientId
  ] },
  // An empty ClientId is a layout the gateway must still read, to refuse it with CONNACK (0x03).
  { name: 'CONNECT with an empty ClientId', packet: { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: '' }, bytes: [
    0x06, // length
    0x04, // MsgType CONNECT
    0x04, // Flags: CleanSession
    0x01, // ProtocolId
    0x00, 0x3c, // Duration 60 s
  ] },
  { name: 'CONNECT in the 3-octet length form', packet: { type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 10, clientId: 'c' }, bytes: [
    0x01, 0x00, 0x09, // length, 3-octet form (legal for short messages, reference (a))
    0x04, // MsgType CONNECT
    0x0c, // Flags: Will, CleanSession
    0x01, // ProtocolId
    0x00, 0x0a, // Duration 10 s
    0x63, // ClientId "c"
  ], encoded: [0x07, 0x04, 0x0c, 0x01, 0x00, 0x0a, 0x63] },
  { name: 'CONNACK', packet: { type: 'connack', returnCode: 0 }, bytes: [
    0x03, // length
    0x05, // MsgType CONNACK
    0x00, // ReturnCode accepted
  ] },
  { name: 'WILLTOPICREQ', packet: { type: 'willtopicreq' }, bytes: [
    0x02, // length
    0x06, // MsgType WILLTOPICREQ
  ] },
  { name: 'WILLTOPIC', packet: { type: 'willtopic', qos: 1, retain: true, topic: 'w/1' }, bytes: [
    0x06, // length
    0x07, // MsgType WILLTOPIC
    0x30, // Flags: QoS 1, Retain
    ...ascii('w/1'), // WillTopic
  ] },
  { name: 'WILLTOPIC empty form', packet: { type: 'willtopic', qos: 0, retain: false, topic: '' }, bytes: [
    0x02, // length
    0x07, // MsgType WILLTOPIC, no flags and no topic: "no will"
  ] },
  { name: 'WILLTOPIC flags without topic = empty form', packet: { type: 'willtopic', qos: 0, retain: false, topic: '' }, bytes: [
    0x03, // length
    0x07, // MsgType WILLTOPIC
    0x30, // Flags, ignored: there is no topic (reference (i))
  ], encoded: [0x02, 0x07] },
  { name: 'WILLMSGREQ', packet: { type: 'willmsgreq' }, bytes: [
    0x02, // length
    0x08, // MsgType WILLMSGREQ
  ] },
  { name: 'WILLMSG', packet: { type: 'willmsg', payload: Buffer.from('bye') }, bytes: [
    0x05, // length
    0x09, // MsgType WILLMSG
    ...ascii('bye'), // WillMsg
  ] },
  { name: 'WILLMSG empty', packet: { type: 'willmsg', payload: Buffer.alloc(0) }, bytes: [
    0x02, // length
    0x09, // MsgType WILLMSG, empty will payload
  ] },
  // ---- registration (§5.4.10-§5.4.11) ----
  { name: 'REGISTER', packet: { type: 'register', topicId: 0, msgId: 1, topicName: 'a/b/c' }, bytes: [
    0x0b, // length
    0x0a, // MsgType REGISTER
    0x00, 0x00, // TopicId (0 from a client)
    0x00, 0x01, // MsgId
    ...ascii('a/b/c'), // TopicName
  ] },
  { name: 'REGACK', packet: { type: 'regack', topicId: 5, msgId: 1, returnCode: 0 }, bytes: [
    0x07, // length
    0x0b, // MsgType REGACK
    0x00, 0x05, // TopicId
    0x00, 0x01, // MsgId
    0x00, // ReturnCode accepted
  ] },
  // ---- publish family (§5.4.12-§5.4.14) ----
  { name: 'PUBLISH QoS 0 normal id', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 5 }, msgId: 0, payload: Buffer.from('hi') }, bytes: [
    0x09, // length
    0x0c, // MsgType PUBLISH
    0x00, // Flags: QoS 0, TopicIdType normal
    0x00, 0x05, // TopicId
    0x00, 0x00, // MsgId (0 for QoS 0)
    ...ascii('hi'), // Data
  ] },
  { name: 'PUBLISH QoS 1 predefined id', packet: { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'predefined', id: 7 }, msgId: 1, payload: Buffer.from('abc') }, bytes: [
    0x0a, // length
    0x0c, // MsgType PUBLISH
    0x21, // Flags: QoS 1, TopicIdType predefined
    0x00, 0x07, // TopicId
    0x00, 0x01, // MsgId
    ...ascii('abc'), // Data
  ] },
  { name: 'PUBLISH QoS 2 short name, DUP, retain, empty data', packet: { type: 'publish', dup: true, qos: 2, retain: true, topic: { kind: 'short', name: 'ns' }, msgId: 2, payload: Buffer.alloc(0) }, bytes: [
    0x07, // length
    0x0c, // MsgType PUBLISH
    0xd2, // Flags: DUP, QoS 2, Retain, TopicIdType short
    0x6e, 0x73, // short topic name "ns"
    0x00, 0x02, // MsgId; no Data
  ] },
  { name: 'PUBLISH QoS -1 short name', packet: { type: 'publish', dup: false, qos: -1, retain: false, topic: { kind: 'short', name: 'ns' }, msgId: 0, payload: Buffer.from('x') }, bytes: [
    0x08, // length
    0x0c, // MsgType PUBLISH
    0x62, // Flags: QoS -1 (bits 11), TopicIdType short
    0x6e, 0x73, // short topic name "ns"
    0x00, 0x00, // MsgId
    0x78, // Data
  ] },
  { name: 'PUBLISH 248-octet payload: total 255, last 1-octet form', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 1 }, msgId: 0, payload: Buffer.from(filler(248)) }, bytes: [
    0xff, // length 255
    0x0c, // MsgType PUBLISH
    0x00, // Flags: QoS 0, normal
    0x00, 0x01, // TopicId
    0x00, 0x00, // MsgId
    ...filler(248), // Data
  ] },
  { name: 'PUBLISH 249-octet payload: total 258, 3-octet form', packet: { type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 1 }, msgId: 0, payload: Buffer.from(filler(249)) }, bytes: [
    0x01, 0x01, 0x02, // length 258, 3-octet form
    0x0c, // MsgType PUBLISH
    0x00, // Flags: QoS 0, normal
    0x00, 0x01, // TopicId
    0x00, 0x00, // MsgId
    ...filler(249), // Data
  ] },
  { name: 'PUBACK', packet: { type: 'puback', topicId: 5, msgId: 7, returnCode: 2 }, bytes: [
    0x07, // length
    0x0d, // MsgType PUBACK
    0x00, 0x05, // TopicId
    0x00, 0x07, // MsgId
    0x02, // ReturnCode invalid topic id
  ] },
  { name: 'PUBCOMP', packet: { type: 'pubcomp', msgId: 7 }, bytes: [
    0x04, // length
    0x0e, // MsgType PUBCOMP
    0x00, 0x07, // MsgId
  ] },
  { name: 'PUBREC', packet: { type: 'pubrec', msgId: 0xfffe }, bytes: [
    0x04, // length
    0x0f, // MsgType PUBREC
    0xff, 0xfe, // MsgId
  ] },
  { name: 'PUBREL', packet: { type: 'pubrel', msgId: 7 }, bytes: [
    0x04, // length
    0x10, // MsgType PUBREL
    0x00, 0x07, // MsgId
  ] },
  // ---- subscriptions (§5.4.15-§5.4.18) ----
  { name: 'SUBSCRIBE topic filter', packet: { type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { kind: 'name', name: 'a/#' } }, bytes: [
    0x08, // length
    0x12, // MsgType SUBSCRIBE
    0x20, // Flags: QoS 1, TopicIdType 00 (name)
    0x00, 0x03, // MsgId
    ...ascii('a/#'), // TopicName
  ] },
  { name: 'SUBSCRIBE predefined id', packet: { type: 'subscribe', dup: false, qos: 2, msgId: 4, topic: { kind: 'predefined', id: 9 } }, bytes: [
    0x07, // length
    0x12, // MsgType SUBSCRIBE
    0x41, // Flags: QoS 2, TopicIdType predefined
    0x00, 0x04, // MsgId
    0x00, 0x09, // TopicId
  ] },
  { name: 'SUBSCRIBE short name, DUP', packet: { type: 'subscribe', dup: true, qos: 0, msgId: 5, topic: { kind: 'short', name: 'ns' } }, bytes: [
    0x07, // length
    0x12, // MsgType SUBSCRIBE
    0x82, // Flags: DUP, QoS 0, TopicIdType short
    0x00, 0x05, // MsgId
    0x6e, 0x73, // short topic name "ns"
  ] },
  { name: 'SUBACK', packet: { type: 'suback', qos: 1, topicId: 5, msgId: 3, returnCode: 0 }, bytes: [
    0x08, // length
    0x13, // MsgType SUBACK
    0x20, // Flags: granted QoS 1
    0x00, 0x05, // TopicId
    0x00, 0x03, // MsgId
    0x00, // ReturnCode accepted
  ] },
  { name: 'UNSUBSCRIBE topic filter', packet: { type: 'unsubscribe', msgId: 6, topic: { kind: 'name', name: 'a/#' } }, bytes: [
    0x08, // length
    0x14, // MsgType UNSUBSCRIBE
    0x00, // Flags: TopicIdType 00 (name)
    0x00, 0x06, // MsgId
    ...ascii('a/#'), // TopicName
  ] },
  { name: 'UNSUBSCRIBE predefined id', packet: { type: 'unsubscribe', msgId: 7, topic: { kind: 'predefined', id: 9 } }, bytes: [
    0x07, // length
    0x14, // MsgType UNSUBSCRIBE
    0x01, // Flags: TopicIdType predefined
    0x00, 0x07, // MsgId
    0x00, 0x09, // TopicId
  ] },
  { name: 'UNSUBSCRIBE short name', packet: { type: 'unsubscribe', msgId: 8, topic: { kind: 'short', name: 'ns' } }, bytes: [
    0x07, // length
    0x14, // MsgType UNSUBSCRIBE
    0x02, // Flags: TopicIdType short
    0x00, 0x08, // MsgId
    0x6e, 0x73, // short topic name "ns"
  ] },
  { name: 'UNSUBACK', packet: { type: 'unsuback', msgId: 6 }, bytes: [
    0x04, // length
    0x15, // MsgType UNSUBACK
    0x00, 0x06, // MsgId
  ] },
  // ---- keep-alive and sleep (§5.4.19-§5.4.21) ----
  { name: 'PINGREQ', packet: { type: 'pingreq' }, bytes: [
    0x02, // length
    0x16, // MsgType PINGREQ, no ClientId: keep-alive ping
  ] },
  { name: 'PINGREQ with ClientId (wake-up)', packet: { type: 'pingreq', clientId: 'dev1' }, bytes: [
    0x06, // length
    0x16, // MsgType PINGREQ
    ...ascii('dev1'), // ClientId
  ] },
  { name: 'PINGRESP', packet: { type: 'pingresp' }, bytes: [
    0x02, // length
    0x17, // MsgType PINGRESP
  ] },
  { name: 'DISCONNECT', packet: { type: 'disconnect' }, bytes: [
    0x02, // length
    0x18, // MsgType DISCONNECT, no Duration
  ] },
  { name: 'DISCONNECT with Duration (sleep)', packet: { type: 'disconnect', duration: 60 }, bytes: [
    0x04, // length
    0x18, // MsgType DISCONNECT
    0x00, 0x3c, // Duration 60 s
  ] },
  // ---- will updates (§5.4.23-§5.4.26) ----
  { name: 'WILLTOPICUPD', packet: { type: 'willtopicupd', qos: 2, retain: false, topic: 'w/1' }, bytes: [
    0x06, // length
    0x1a, // MsgType WILLTOPICUPD
    0x40, // Flags: QoS 2
    ...ascii('w/1'), // WillTopic
  ] },
  { name: 'WILLTOPICUPD empty form', packet: { type: 'willtopicupd', qos: 0, retain: false, topic: '' }, bytes: [
    0x02, // length
    0x1a, // MsgType WILLTOPICUPD: delete the will
  ] },
  { name: 'WILLTOPICRESP', packet: { type: 'willtopicresp', returnCode: 0 }, bytes: [
    0x03, // length
    0x1b, // MsgType WILLTOPICRESP
    0x00, // ReturnCode accepted
  ] },
  { name: 'WILLMSGUPD', packet: { type: 'willmsgupd', payload: Buffer.from('bye') }, bytes: [
    0x05, // length
    0x1c, // MsgType WILLMSGUPD
    ...ascii('bye'), // WillMsg
  ] },
  { name: 'WILLMSGRESP', packet: { type: 'willmsgresp', returnCode: 3 }, bytes: [
    0x03, // length
    0x1d, // MsgType WILLMSGRESP
    0x03, // ReturnCode not supported
  ] },
  // ---- forwarder encapsulation (§5.5, reference (j)) ----
  { name: 'ENCAPSULATED PINGREQ', packet: { type: 'encapsulated', radius: 0, wirelessNodeId: Buffer.from([0xab, 0xcd]), packet: { type: 'pingreq' } }, bytes: [
    0x05, // header length: 3 + node id
    0xfe, // MsgType ENCAPSULATED
    0x00, // Ctrl: radius 0
    0xab, 0xcd, // Wireless Node Id
    0x02, 0x16, // inner PINGREQ (length, MsgType)
  ] },
  { name: 'ENCAPSULATED PUBLISH, radius 1', packet: { type: 'encapsulated', radius: 1, wirelessNodeId: Buffer.from([0x42]), packet: { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: 5 }, msgId: 9, payload: Buffer.from('on') } }, bytes: [
    0x04, // header length
    0xfe, // MsgType ENCAPSULATED
    0x01, // Ctrl: radius 1
    0x42, // Wireless Node Id
    0x09, // inner length
    0x0c, // inner MsgType PUBLISH
    0x20, // inner Flags: QoS 1, normal
    0x00, 0x05, // inner TopicId
    0x00, 0x09, // inner MsgId
    ...ascii('on'), // inner Data
  ] },
];

suite('byte vectors', () => {
  it('cover all 28 packet types', () => {
    expect(new Set(vectors.map((v) => v.packet.type)).size).toBe(28);
  });

  suite.each(vectors)('$name', (v) => {
    it('decodes', () => {
      expect(decode(Buffer.from(v.bytes))).toEqual({ ok: true, packet: v.packet });
    });
    it('encodes', () => {
      expect([...encode(v.packet)]).toEqual(v.encoded ?? v.bytes);
    });
    it('round-trips', () => {
      expect(decode(encode(v.packet))).toEqual({ ok: true, packet: v.packet });
    });
    it('describes in one line', () => {
      expect(describe(v.packet)).toMatch(/^[A-Z]+[^\n]*$/);
    });
  });
});

suite('decoded buffers are views of the frame', () => {
  it('PUBLISH payload shares memory with the datagram', () => {
    const frame = Buffer.from([0x09, 0x0c, 0x00, 0x00, 0x05, 0x00, 0x00, 0x68, 0x69]);
    const r = decode(frame);
    if (!r.ok || r.packet.type !== 'publish') throw new Error('expected a PUBLISH');
    expect(r.packet.payload.buffer).toBe(frame.buffer);
    frame[7] = 0x48;
    expect(r.packet.payload.toString()).toBe('Hi');
  });
});

suite('describe', () => {
  it('formats a PUBLISH as in the brief', () => {
    const p: Packet = { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: 5 }, msgId: 7, payload: Buffer.alloc(12) };
    expect(describe(p)).toBe('PUBLISH qos=1 topic=normal:5 msgId=7 12B');
  });
});
