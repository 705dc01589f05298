/**
 * Framing and dispatch: the one place that reads the length field, checks it against the datagram
 * (reference (a), (k)) and hands the body to the per-type codec from a table keyed by packet type,
 * so adding a member to the `Packet` union without a codec is a compile error.
 */
import type { BodyCodec, MessageCodec, PacketOf } from './codec.js';
import { fail, isError } from './codec.js';
import { advertise, gwinfo, searchgw } from './discovery.js';
import * as will from './connect.js';
import { encapsulation } from './encapsulated.js';
import type { DecodeError } from './errors.js';
import { readHeader, totalFor, writeHeader } from './header.js';
import type { Packet, PacketType } from './packets.js';
import { MsgType } from './packets.js';
import { puback, pubcomp, publish, pubrec, pubrel } from './publish.js';
import { regack, register } from './register.js';
import { disconnect, pingreq, pingresp } from './session.js';
import { suback, subscribe, unsuback, unsubscribe } from './subscribe.js';

/** Adds the length field and MsgType around a body codec. */
function framed<K extends Exclude<PacketType, 'encapsulated'>>(type: K, body: BodyCodec<PacketOf<K>>): MessageCodec<PacketOf<K>> {
  const msgType = MsgType[type];
  return {
    size: (p) => totalFor(body.size(p)),
    write(p, buf, at, total) {
      body.write(p, buf, writeHeader(buf, at, total, msgType));
    },
    decode(buf, start, { total, typeAt }) {
      const b = typeAt + 1;
      const e = start + total;
      // Per-type layout lengths, reference (b); offset = the length field that is wrong.
      if (!body.length.ok(e - b)) {
        return fail('bad-length', start, `${type.toUpperCase()} length ${total} (body ${e - b}), expected total ${body.length.text}`, msgType);
      }
      return body.decode(buf, b, e, start);
    },
  };
}

type CodecTable = { readonly [K in PacketType]: MessageCodec<PacketOf<K>> };

const codecs: CodecTable = {
  advertise: framed('advertise', advertise),
  searchgw: framed('searchgw', searchgw),
  gwinfo: framed('gwinfo', gwinfo),
  connect: framed('connect', will.connect),
  connack: framed('connack', will.connack),
  willtopicreq: framed('willtopicreq', will.willtopicreq),
  willtopic: framed('willtopic', will.willtopic),
  willmsgreq: framed('willmsgreq', will.willmsgreq),
  willmsg: framed('willmsg', will.willmsg),
  register: framed('register', register),
  regack: framed('regack', regack),
  publish: framed('publish', publish),
  puback: framed('puback', puback),
  pubcomp: framed('pubcomp', pubcomp),
  pubrec: framed('pubrec', pubrec),
  pubrel: framed('pubrel', pubrel),
  subscribe: framed('subscribe', subscribe),
  suback: framed('suback', suback),
  unsubscribe: framed('unsubscribe', unsubscribe),
  unsuback: framed('unsuback', unsuback),
  pingreq: framed('pingreq', pingreq),
  pingresp: framed('pingresp', pingresp),
  disconnect: framed('disconnect', disconnect),
  willtopicupd: framed('willtopicupd', will.willtopicupd),
  willtopicresp: framed('willtopicresp', will.willtopicresp),
  willmsgupd: framed('willmsgupd', will.willmsgupd),
  willmsgresp: framed('willmsgresp', will.willmsgresp),
  encapsulated: encapsulation({ sizeOf, writeTo, decodeInner: (buf, start) => decodeAt(buf, start, true) }),
};

/** The codec for a packet's own type; the mapped table makes `codecs[type]` precise per K. */
function codecFor<K extends PacketType>(type: K): MessageCodec<PacketOf<K>> {
  return codecs[type];
}

/** Reverse table MsgType octet -> codec; holes are the reserved types. (Object.keys is untyped.) */
const byMsgType: (MessageCodec<Packet> | undefined)[] = new Array<undefined>(256).fill(undefined);
for (const type of Object.keys(MsgType) as PacketType[]) byMsgType[MsgType[type]] = codecFor(type);

export function sizeOf(p: Packet): number {
  return codecFor(p.type).size(p);
}

export function writeTo(p: Packet, buf: Buffer, at: number, total: number): void {
  codecFor(p.type).write(p, buf, at, total);
}

/**
 * Decodes the message that starts at `buf[start]` and must end exactly at the end of `buf`.
 * `nested` is true inside an encapsulation, where another 0xFE is not allowed (reference (j)).
 */
export function decodeAt(buf: Buffer, start: number, nested: boolean): Packet | DecodeError {
  const header = readHeader(buf, start);
  if (isError(header)) return header;
  const { total, typeAt } = header;
  const msgType = buf[typeAt];
  // The forwarder header reuses the first octet as its own length, so it skips the total check.
  if (msgType === MsgType.encapsulated) {
    if (nested) return fail('nested-encapsulation', typeAt, 'encapsulated message inside an encapsulation', msgType);
    return codecs.encapsulated.decode(buf, start, header);
  }
  const avail = buf.length - start;
  // Never read past the datagram: Paho trusts the length field, we do not (reference (k)).
  if (total > avail) return fail('length-exceeds-datagram', start, `length ${total} but only ${avail} octet(s) received`, msgType);
  // One datagram carries exactly one message (MQTT-SN 1.2 §5.2.1); trailing octets are an error.
  if (total < avail) return fail('length-below-datagram', start + total, `length ${total} but ${avail} octets received`, msgType);
  const codec = msgType === undefined ? undefined : byMsgType[msgType];
  if (codec === undefined) return fail('unknown-type', typeAt, `reserved message type 0x${hex(msgType ?? 0)}`, msgType);
  return codec.decode(buf, start, header);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
