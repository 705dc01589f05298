/**
 * The Length field (MQTT-SN 1.2 §5.2.1): one octet 0x02..0xFF holding the total, or 0x01 followed
 * by a 16-bit total. The total counts every octet of the message, the length field included.
 */
import type { DecodeError } from './errors.js';
import { EncodeError } from './errors.js';
import { fail } from './codec.js';

/** Longest total the 1-octet form can carry. */
export const SHORT_FORM_MAX = 0xff;
/** Longest total any v1.2 message can have (16-bit length). */
export const MAX_TOTAL = 0xffff;

/** Where a message's pieces are, as absolute offsets into the datagram. */
export interface Header {
  /** Declared total length of the message. */
  readonly total: number;
  /** Offset of the MsgType octet (start + 1 or start + 3). */
  readonly typeAt: number;
}

/**
 * Reads the length field of the message starting at `buf[start]`. Checks only what the length
 * field itself can get wrong; comparison with the datagram size is the caller's (encapsulation
 * headers reuse the first octet differently, reference (j)).
 */
export function readHeader(buf: Buffer, start: number): Header | DecodeError {
  const avail = buf.length - start;
  // A message has at least a length octet and a MsgType octet.
  if (avail < 2) return fail('too-short', start, `${avail} octet(s), a message needs at least 2`);
  const first = buf[start] ?? 0;
  if (first === 0x00) return fail('length-zero', start, 'length octet 0x00 is invalid');
  if (first !== 0x01) return { total: first, typeAt: start + 1 };
  // 3-octet form: receivers must accept it even for short messages (reference (a)).
  if (avail < 3) return fail('length-incomplete', start, '0x01 prefix without its two length octets');
  const total = buf.readUInt16BE(start + 1);
  if (total < 4) return fail('length-below-header', start, `length ${total} is below the 4-octet header`);
  return { total, typeAt: start + 3 };
}

/** Size of the length field for a message whose body (after MsgType) has `bodyLength` octets. */
export function totalFor(bodyLength: number): number {
  // Sender rule: 1-octet form when the total fits in 255, else 0x01 + 16 bits (reference (a)).
  const short = bodyLength + 2;
  if (short <= SHORT_FORM_MAX) return short;
  const long = bodyLength + 4;
  if (long > MAX_TOTAL) throw new EncodeError('too-long', 'length', `total ${long} exceeds ${MAX_TOTAL}`);
  return long;
}

/** Writes the length field and MsgType at `buf[at]`; returns the offset of the body. */
export function writeHeader(buf: Buffer, at: number, total: number, msgType: number): number {
  if (total <= SHORT_FORM_MAX) {
    buf[at] = total;
    buf[at + 1] = msgType;
    return at + 2;
  }
  buf[at] = 0x01;
  buf.writeUInt16BE(total, at + 1);
  buf[at + 3] = msgType;
  return at + 4;
}
