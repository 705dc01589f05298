/** SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (MQTT-SN 1.2 §5.4.15-§5.4.18). */
import type { BodyCodec } from './codec.js';
import { atLeast, exactly, fail } from './codec.js';
import type { DecodeError } from './errors.js';
import { DUP, qosBits, qosOf, TopicIdType, topicIdTypeOf } from './flags.js';
import { MsgType } from './packets.js';
import type { Suback, Subscribe, SubscribeTopic, Unsuback, Unsubscribe } from './packets.js';
import { msgIdOnly } from './publish.js';
import { nonEmpty, shortName, u16, u8 } from './wire.js';
import { decodeText } from './text.js';

const TYPE_BITS = { name: TopicIdType.normal, predefined: TopicIdType.predefined, short: TopicIdType.short } as const;

/** Octets of the topic part: a full name (type 00) runs to the end; ids and short names are 2. */
function topicSize(topic: SubscribeTopic): number {
  switch (topic.kind) {
    case 'name': return nonEmpty(topic.name, 'topic.name');
    case 'predefined': u16(topic.id, 'topic.id'); return 2;
    case 'short': shortName(topic.name, 'topic.name'); return 2;
  }
}

function writeTopic(topic: SubscribeTopic, buf: Buffer, at: number): void {
  if (topic.kind === 'predefined') buf.writeUInt16BE(topic.id, at);
  else buf.write(topic.name, at, 'utf8');
}

/**
 * Shared decoder of `Flags(1) MsgId(2) Topic(rest)`. TopicIdType `00` carries a non-empty name
 * or filter (total >= 6), `01`/`10` exactly two octets (total 7), `11` is reserved (reference (b)).
 */
function decodeTopic(buf: Buffer, b: number, e: number, start: number, msgType: number, name: string): SubscribeTopic | DecodeError {
  const tt = topicIdTypeOf(buf[b] ?? 0);
  const at = b + 3;
  const n = e - at;
  // Reference (k): the gateway answers a reserved-type SUBSCRIBE with SUBACK rc 0x03, see rejectionFor().
  if (tt === TopicIdType.reserved) return fail('reserved-topic-id-type', b, `${name} TopicIdType 11 is reserved`, msgType);
  if (tt === TopicIdType.normal) {
    if (n < 1) return fail('bad-length', start, `${name} with a topic name must have total >= 6`, msgType);
    return { kind: 'name', name: decodeText(buf, at, e) };
  }
  if (n !== 2) return fail('bad-length', start, `${name} with a topic id or short name must have total 7`, msgType);
  if (tt === TopicIdType.short) return { kind: 'short', name: decodeText(buf, at, e) };
  return { kind: 'predefined', id: buf.readUInt16BE(at) };
}

// §5.4.15: Flags(1: DUP, requested QoS, TopicIdType) MsgId(2) TopicName or TopicId.
export const subscribe: BodyCodec<Subscribe> = {
  // Flags and MsgId must be there; the topic part is checked per TopicIdType in decodeTopic.
  length: atLeast(5),
  size(p) {
    qosBits(p.qos);
    u16(p.msgId, 'msgId');
    return 3 + topicSize(p.topic);
  },
  write(p, buf, at) {
    buf[at] = (p.dup ? DUP : 0) | qosBits(p.qos) | TYPE_BITS[p.topic.kind];
    buf.writeUInt16BE(p.msgId, at + 1);
    writeTopic(p.topic, buf, at + 3);
  },
  decode(buf, b, e, start) {
    const topic = decodeTopic(buf, b, e, start, MsgType.subscribe, 'SUBSCRIBE');
    if ('code' in topic) return topic;
    const flags = buf[b] ?? 0;
    return { type: 'subscribe', dup: (flags & DUP) !== 0, qos: qosOf(flags), msgId: buf.readUInt16BE(b + 1), topic };
  },
};

// §5.4.17: same shape as SUBSCRIBE; the DUP and QoS bits are unused (sent 0, ignored).
export const unsubscribe: BodyCodec<Unsubscribe> = {
  length: atLeast(5),
  size(p) {
    u16(p.msgId, 'msgId');
    return 3 + topicSize(p.topic);
  },
  write(p, buf, at) {
    buf[at] = TYPE_BITS[p.topic.kind];
    buf.writeUInt16BE(p.msgId, at + 1);
    writeTopic(p.topic, buf, at + 3);
  },
  decode(buf, b, e, start) {
    const topic = decodeTopic(buf, b, e, start, MsgType.unsubscribe, 'UNSUBSCRIBE');
    if ('code' in topic) return topic;
    return { type: 'unsubscribe', msgId: buf.readUInt16BE(b + 1), topic };
  },
};

// §5.4.16: Flags(1: granted QoS only) TopicId(2) MsgId(2) ReturnCode(1).
export const suback: BodyCodec<Suback> = {
  length: exactly(8),
  size(p) {
    qosBits(p.qos);
    u16(p.topicId, 'topicId');
    u16(p.msgId, 'msgId');
    u8(p.returnCode, 'returnCode');
    return 6;
  },
  write(p, buf, at) {
    buf[at] = qosBits(p.qos);
    buf.writeUInt16BE(p.topicId, at + 1);
    buf.writeUInt16BE(p.msgId, at + 3);
    buf[at + 5] = p.returnCode;
  },
  decode: (buf, b) => ({
    type: 'suback',
    qos: qosOf(buf[b] ?? 0),
    topicId: buf.readUInt16BE(b + 1),
    msgId: buf.readUInt16BE(b + 3),
    returnCode: buf[b + 5] ?? 0,
  }),
};

// §5.4.18: MsgId(2).
export const unsuback = msgIdOnly((msgId): Unsuback => ({ type: 'unsuback', msgId }));
