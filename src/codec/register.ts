/** Topic registration: REGISTER and REGACK (MQTT-SN 1.2 §5.4.10-§5.4.11, reference (g)). */
import type { BodyCodec } from './codec.js';
import { atLeast } from './codec.js';
import type { Regack, Register } from './packets.js';
import { topicIdAck } from './publish.js';
import { nonEmpty, u16 } from './wire.js';
import { decodeText } from './text.js';

// §5.4.10: TopicId(2) MsgId(2) TopicName(rest). A client sends TopicId 0x0000; the name must be
// non-empty (reference (k) "Topic names"), which the minimum total of 7 enforces on decode.
export const register: BodyCodec<Register> = {
  length: atLeast(7),
  size(p) {
    u16(p.topicId, 'topicId');
    u16(p.msgId, 'msgId');
    return 4 + nonEmpty(p.topicName, 'topicName');
  },
  write(p, buf, at) {
    buf.writeUInt16BE(p.topicId, at);
    buf.writeUInt16BE(p.msgId, at + 2);
    buf.write(p.topicName, at + 4, 'utf8');
  },
  decode: (buf, b, e) => ({
    type: 'register',
    topicId: buf.readUInt16BE(b),
    msgId: buf.readUInt16BE(b + 2),
    topicName: decodeText(buf, b + 4, e),
  }),
};

// §5.4.11: same body as PUBACK.
export const regack = topicIdAck<Regack>('regack');
