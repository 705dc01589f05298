/**
 * PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL, PUBCOMP (MQTT-SN 1.2 §5.4.12-§5.4.14).
 * Also the 2-octet TopicId-or-ShortName field, shared with SUBSCRIBE/UNSUBSCRIBE.
 */
import type { BodyCodec } from './codec.js';
import { atLeast, exactly, fail } from './codec.js';
import { DUP, qosBits, qosOf, RETAIN, TopicIdType, topicIdTypeOf } from './flags.js';
import { MsgType } from './packets.js';
import type { Puback, Pubcomp, Publish, PublishTopic, Pubrec, Pubrel, Regack, Unsuback } from './packets.js';
import { shortName, u16, u8 } from './wire.js';
import { decodeText } from './text.js';

/** TopicIdType bits for a topic named by id or short name (§5.3.4). */
export function topicTypeBits(topic: PublishTopic): number {
  return TopicIdType[topic.kind];
}

/** Validates the 2-octet TopicId field's content; `field` names it in errors. */
export function checkTopicField(topic: PublishTopic, field: string): void {
  if (topic.kind === 'short') shortName(topic.name, `${field}.name`);
  else u16(topic.id, `${field}.id`);
}

export function writeTopicField(topic: PublishTopic, buf: Buffer, at: number): void {
  if (topic.kind === 'short') buf.write(topic.name, at, 2, 'utf8');
  else buf.writeUInt16BE(topic.id, at);
}

/** Reads the TopicId field for TopicIdType `type` (0, 1 or 2; the caller has rejected 3). */
export function readTopicField(buf: Buffer, at: number, type: number): PublishTopic {
  if (type === TopicIdType.short) return { kind: 'short', name: decodeText(buf, at, at + 2) };
  const id = buf.readUInt16BE(at);
  return type === TopicIdType.predefined ? { kind: 'predefined', id } : { kind: 'normal', id };
}

// §5.4.12: Flags(1) TopicId(2) MsgId(2) Data(rest). MsgId is 0x0000 for QoS 0/-1 but a non-zero
// value is kept as sent (reference (k): ignore it and process).
export const publish: BodyCodec<Publish> = {
  length: atLeast(7),
  size(p) {
    qosBits(p.qos);
    checkTopicField(p.topic, 'topic');
    u16(p.msgId, 'msgId');
    return 5 + p.payload.length;
  },
  write(p, buf, at) {
    buf[at] = (p.dup ? DUP : 0) | qosBits(p.qos) | (p.retain ? RETAIN : 0) | topicTypeBits(p.topic);
    writeTopicField(p.topic, buf, at + 1);
    buf.writeUInt16BE(p.msgId, at + 3);
    p.payload.copy(buf, at + 5);
  },
  decode(buf, b, e) {
    const flags = buf[b] ?? 0;
    const tt = topicIdTypeOf(flags);
    // Reference (k): answered with PUBACK rc 0x03 by the gateway, see rejectionFor().
    if (tt === TopicIdType.reserved) {
      return fail('reserved-topic-id-type', b, 'PUBLISH TopicIdType 11 is reserved', MsgType.publish);
    }
    return {
      type: 'publish',
      dup: (flags & DUP) !== 0,
      qos: qosOf(flags),
      retain: (flags & RETAIN) !== 0,
      topic: readTopicField(buf, b + 1, tt),
      msgId: buf.readUInt16BE(b + 3),
      // A view, not a copy: this is the hot path; consumers that keep it copy it.
      payload: buf.subarray(b + 5, e),
    };
  },
};

/** PUBACK (§5.4.13) and REGACK (§5.4.11) share one body: TopicId(2) MsgId(2) ReturnCode(1). */
export function topicIdAck<P extends Puback | Regack>(type: P['type']): BodyCodec<P> {
  return {
    length: exactly(7),
    size(p) {
      u16(p.topicId, 'topicId');
      u16(p.msgId, 'msgId');
      u8(p.returnCode, 'returnCode');
      return 5;
    },
    write(p, buf, at) {
      buf.writeUInt16BE(p.topicId, at);
      buf.writeUInt16BE(p.msgId, at + 2);
      buf[at + 4] = p.returnCode;
    },
    decode: (buf, b) => ({ type, topicId: buf.readUInt16BE(b), msgId: buf.readUInt16BE(b + 2), returnCode: buf[b + 4] ?? 0 }) as P,
  };
}

export const puback = topicIdAck<Puback>('puback');

/** PUBREC, PUBREL, PUBCOMP (and UNSUBACK, §5.4.16) are just MsgId(2) (§5.4.14). */
export function msgIdOnly<P extends Pubrec | Pubrel | Pubcomp | Unsuback>(
  make: (msgId: number) => P,
): BodyCodec<P> {
  return {
    length: exactly(4),
    size(p) {
      u16(p.msgId, 'msgId');
      return 2;
    },
    write(p, buf, at) {
      buf.writeUInt16BE(p.msgId, at);
    },
    decode: (buf, b) => make(buf.readUInt16BE(b)),
  };
}

export const pubcomp = msgIdOnly((msgId): Pubcomp => ({ type: 'pubcomp', msgId }));
export const pubrec = msgIdOnly((msgId): Pubrec => ({ type: 'pubrec', msgId }));
export const pubrel = msgIdOnly((msgId): Pubrel => ({ type: 'pubrel', msgId }));
