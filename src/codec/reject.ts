/**
 * Answers that the spec requires even for frames that do not decode (reference (k)):
 * PUBLISH / SUBSCRIBE with the reserved TopicIdType `11` get PUBACK / SUBACK rc 0x03.
 */
import type { DecodeError } from './errors.js';
import type { Packet, Puback, Suback } from './packets.js';
import { MsgType, ReturnCode } from './packets.js';
import { qosOf } from './flags.js';

/**
 * The packet to send back for a frame that failed with `error`, or `undefined` when the failure
 * calls for a silent drop. If the frame came through a forwarder the answer is encapsulated for
 * the same wireless node id (reference (j): answer in the same encapsulation).
 */
export function rejectionFor(frame: Buffer, error: DecodeError): Packet | undefined {
  if (error.code !== 'reserved-topic-id-type') return undefined;
  // The decoder reports this error at the flags octet, after the layout's minimum length passed.
  const at = error.offset;
  let answer: Puback | Suback | undefined;
  if (error.msgType === MsgType.publish && at + 5 <= frame.length) {
    // QoS -1 has nobody to answer (reference (h)); QoS 0/1/2 get PUBACK rc 0x03.
    if (qosOf(frame[at] ?? 0) === -1) return undefined;
    answer = { type: 'puback', topicId: frame.readUInt16BE(at + 1), msgId: frame.readUInt16BE(at + 3), returnCode: ReturnCode.NotSupported };
  } else if (error.msgType === MsgType.subscribe && at + 3 <= frame.length) {
    // EMQX's answer `08 13 00 00 00 MM MM 03`: granted QoS 0, TopicId 0 (reference (k)).
    answer = { type: 'suback', qos: 0, topicId: 0, msgId: frame.readUInt16BE(at + 1), returnCode: ReturnCode.NotSupported };
  }
  if (answer === undefined) return undefined;
  const hdr = frame[0] ?? 0;
  if (frame[1] === MsgType.encapsulated && hdr >= 3 && at > hdr) {
    // Copy the node id: the answer may outlive the receive buffer.
    return { type: 'encapsulated', radius: 0, wirelessNodeId: Buffer.from(frame.subarray(3, hdr)), packet: answer };
  }
  return answer;
}
