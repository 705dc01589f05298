/**
 * MQTT-SN v1.2 codec: pure functions from datagrams to `Packet` values and back.
 * See ../../shared/mqtt-sn-reference.md (a) framing, (b) layouts, (c) flags, (j), (k).
 */
import type { DecodeResult } from './errors.js';
import { decodeAt, sizeOf, writeTo } from './frame.js';
import type { Packet } from './packets.js';

export * from './packets.js';
export * from './errors.js';
export { describe } from './describe.js';
export { rejectionFor } from './reject.js';
export { MAX_TOTAL, SHORT_FORM_MAX } from './header.js';

/**
 * Decodes one datagram as one MQTT-SN message. Total: never throws; every failure is a typed
 * `DecodeError` with the byte offset of the offending field. Buffer fields of the result
 * (payloads, GwAdd, node ids) are views of `frame`: copy them to keep them past its reuse.
 */
export function decode(frame: Buffer): DecodeResult {
  const r = decodeAt(frame, 0, false);
  return 'code' in r ? { ok: false, error: r } : { ok: true, packet: r };
}

/**
 * Encodes a packet into a fresh Buffer, using the 1-octet length form when the total is <= 255.
 * Throws `EncodeError` (with the field name) for values that cannot be put on the wire.
 */
export function encode(packet: Packet): Buffer {
  const total = sizeOf(packet);
  const buf = Buffer.allocUnsafe(total);
  writeTo(packet, buf, 0, total);
  return buf;
}
