/**
 * The Flags octet (MQTT-SN 1.2 §5.3.4):
 *   bit 7 DUP | bits 6-5 QoS | bit 4 Retain | bit 3 Will | bit 2 CleanSession | bits 1-0 TopicIdType.
 * Unused bits are sent as 0 and ignored on receipt (no reference implementation rejects them).
 */
import { EncodeError } from './errors.js';
import type { Qos } from './packets.js';

export const DUP = 0x80;
export const RETAIN = 0x10;
export const WILL = 0x08;
export const CLEAN_SESSION = 0x04;

/** TopicIdType values (bits 1-0). In SUBSCRIBE/UNSUBSCRIBE `00` means "full topic name". */
export const TopicIdType = { normal: 0, predefined: 1, short: 2, reserved: 3 } as const;

const QOS_OF_BITS: readonly [Qos, Qos, Qos, Qos] = [0, 1, 2, -1];

/** QoS bits `11` decode to -1 (§6.8); the gateway decides whether -1 is acceptable where it is. */
export function qosOf(flags: number): Qos {
  return QOS_OF_BITS[(flags >> 5) & 3] ?? 0;
}

export function topicIdTypeOf(flags: number): number {
  return flags & 3;
}

/** QoS into bits 6-5. -1 is `11` on the wire, so it is expressible wherever there are QoS bits. */
export function qosBits(qos: Qos, field = 'qos'): number {
  switch (qos) {
    case 0: return 0x00;
    case 1: return 0x20;
    case 2: return 0x40;
    case -1: return 0x60;
    default: throw new EncodeError('bad-value', field, `must be -1, 0, 1 or 2, got ${String(qos)}`);
  }
}
