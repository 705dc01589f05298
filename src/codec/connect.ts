/**
 * Connection and will set-up: CONNECT, CONNACK, WILLTOPICREQ, WILLTOPIC, WILLMSGREQ, WILLMSG
 * (MQTT-SN 1.2 §5.4.4-§5.4.9) and the in-session updates WILLTOPICUPD/RESP, WILLMSGUPD/RESP
 * (§5.4.22-§5.4.25), which share the layouts of WILLTOPIC/WILLMSG and CONNACK.
 */
import type { BodyCodec } from './codec.js';
import { atLeast, emptyOrAtLeast, exactly } from './codec.js';
import { EncodeError } from './errors.js';
import { CLEAN_SESSION, qosBits, qosOf, RETAIN, WILL } from './flags.js';
import type { Connack, Qos, Connect, WillMsg, WillMsgReq, WillMsgResp, WillMsgUpd, WillTopic, WillTopicReq, WillTopicResp, WillTopicUpd } from './packets.js';
import { u16, u8, utf8Length } from './wire.js';
import { decodeText } from './text.js';

// §5.4.4: Flags(1) ProtocolId(1) Duration(2) ClientId(rest, 1..23 chars). An empty or too long ID
// decodes: the gateway answers it with CONNACK "rejected: not supported", so the device can tell a
// refusal from a lost datagram (and a test can send one).
export const connect: BodyCodec<Connect> = {
  length: atLeast(6),
  size(p) {
    u8(p.protocolId, 'protocolId');
    u16(p.duration, 'duration');
    return 4 + utf8Length(p.clientId);
  },
  write(p, buf, at) {
    buf[at] = (p.will ? WILL : 0) | (p.cleanSession ? CLEAN_SESSION : 0);
    buf[at + 1] = p.protocolId;
    buf.writeUInt16BE(p.duration, at + 2);
    buf.write(p.clientId, at + 4, 'utf8');
  },
  decode(buf, b, e) {
    const flags = buf[b] ?? 0;
    return {
      type: 'connect',
      will: (flags & WILL) !== 0,
      cleanSession: (flags & CLEAN_SESSION) !== 0,
      protocolId: buf[b + 1] ?? 0,
      duration: buf.readUInt16BE(b + 2),
      clientId: decodeText(buf, b + 4, e),
    };
  },
};

/** CONNACK, WILLTOPICRESP and WILLMSGRESP are all `ReturnCode(1)` (§5.4.5, §5.4.24, §5.4.25). */
function returnCodeOnly<P extends Connack | WillTopicResp | WillMsgResp>(make: (returnCode: number) => P): BodyCodec<P> {
  return {
    length: exactly(3),
    size(p) {
      u8(p.returnCode, 'returnCode');
      return 1;
    },
    write(p, buf, at) {
      buf[at] = p.returnCode;
    },
    decode: (buf, b) => make(buf[b] ?? 0),
  };
}

/** WILLTOPICREQ and WILLMSGREQ have no body (§5.4.6, §5.4.8). */
function empty<P extends WillTopicReq | WillMsgReq>(make: () => P): BodyCodec<P> {
  return { length: exactly(2), size: () => 0, write: () => undefined, decode: make };
}

/**
 * WILLTOPIC / WILLTOPICUPD: Flags(1) WillTopic(rest), or no body at all = the empty form, which
 * means "no will" / "delete the will" (§5.4.7, §5.4.22). A body of just the flags octet is
 * ambiguous; reference (i) lets us treat it as the empty form, which we do.
 */
function willTopic<P extends WillTopic | WillTopicUpd>(make: (qos: Qos, retain: boolean, topic: string) => P): BodyCodec<P> {
  return {
    length: emptyOrAtLeast(3),
    size(p) {
      const flags = qosBits(p.qos);
      const n = utf8Length(p.topic);
      if (n > 0) return 1 + n;
      // The empty form has no flags octet, so QoS/retain would be silently lost.
      if (flags !== 0 || p.retain) {
        throw new EncodeError('bad-value', 'topic', 'empty will topic (the 2-octet form) cannot carry qos/retain');
      }
      return 0;
    },
    write(p, buf, at) {
      if (p.topic === '') return;
      buf[at] = qosBits(p.qos) | (p.retain ? RETAIN : 0);
      buf.write(p.topic, at + 1, 'utf8');
    },
    decode(buf, b, e) {
      if (e - b < 2) return make(0, false, '');
      const flags = buf[b] ?? 0;
      return make(qosOf(flags), (flags & RETAIN) !== 0, decodeText(buf, b + 1, e));
    },
  };
}

/** WILLMSG / WILLMSGUPD: WillMsg(rest); an empty will payload is legal (§5.4.9, §5.4.23). */
function willMsg<P extends WillMsg | WillMsgUpd>(make: (payload: Buffer) => P): BodyCodec<P> {
  return {
    length: atLeast(2),
    size: (p) => p.payload.length,
    write(p, buf, at) {
      p.payload.copy(buf, at);
    },
    decode: (buf, b, e) => make(buf.subarray(b, e)),
  };
}

// The factories take a constructor so each packet literal is checked against its own type.
export const connack = returnCodeOnly((returnCode): Connack => ({ type: 'connack', returnCode }));
export const willtopicresp = returnCodeOnly((returnCode): WillTopicResp => ({ type: 'willtopicresp', returnCode }));
export const willmsgresp = returnCodeOnly((returnCode): WillMsgResp => ({ type: 'willmsgresp', returnCode }));
export const willtopicreq = empty((): WillTopicReq => ({ type: 'willtopicreq' }));
export const willmsgreq = empty((): WillMsgReq => ({ type: 'willmsgreq' }));
export const willtopic = willTopic((qos, retain, topic): WillTopic => ({ type: 'willtopic', qos, retain, topic }));
export const willtopicupd = willTopic((qos, retain, topic): WillTopicUpd => ({ type: 'willtopicupd', qos, retain, topic }));
export const willmsg = willMsg((payload): WillMsg => ({ type: 'willmsg', payload }));
export const willmsgupd = willMsg((payload): WillMsgUpd => ({ type: 'willmsgupd', payload }));
