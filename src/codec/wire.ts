/**
 * Field validation for the encoder. Each check throws `EncodeError` naming the field, so a caller
 * sees `msgId: must be an integer in 0..65535` instead of a RangeError from Buffer.
 */
import { EncodeError } from './errors.js';

export function u8(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new EncodeError('out-of-range', field, `must be an integer in 0..255, got ${value}`);
  }
  return value;
}

/** All multi-octet integers in v1.2 are unsigned 16-bit big-endian (MQTT-SN 1.2 §5.3). */
export function u16(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new EncodeError('out-of-range', field, `must be an integer in 0..65535, got ${value}`);
  }
  return value;
}

/** Octets of a UTF-8 string (topic names, client ids are UTF-8, §5.3.1). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A string field that runs to the end of the message and must not be empty (decode rejects it). */
export function nonEmpty(s: string, field: string): number {
  const n = utf8Length(s);
  if (n === 0) throw new EncodeError('bad-value', field, 'must not be empty');
  return n;
}

/** Short topic names are exactly two octets, carried in the TopicId field (§3 "short topic name"). */
export function shortName(name: string, field: string): void {
  const n = utf8Length(name);
  if (n !== 2) throw new EncodeError('bad-short-name', field, `must be exactly 2 UTF-8 octets, got ${n}`);
}
