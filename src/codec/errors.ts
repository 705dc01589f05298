import type { Packet } from './packets.js';

/** Why a byte string is not a valid MQTT-SN v1.2 message. */
export type DecodeErrorCode =
  | 'too-short' // fewer than 2 octets: no room for length and type
  | 'length-zero' // first octet 0x00
  | 'length-incomplete' // 0x01 prefix without two more length octets
  | 'length-below-header' // length value smaller than the header it sits in
  | 'length-exceeds-datagram' // length value larger than the bytes received (truncated)
  | 'length-below-datagram' // trailing bytes after the message (one datagram = one message)
  | 'unknown-type' // reserved message type
  | 'bad-length' // known type, but a length its layout does not allow
  | 'reserved-topic-id-type' // TopicIdType bits `11`
  | 'bad-encapsulation' // forwarder header malformed
  | 'nested-encapsulation'; // 0xFE inside 0xFE

/** A typed decode failure: what is wrong and at which byte offset of the frame. */
export interface DecodeError {
  readonly code: DecodeErrorCode;
  readonly offset: number;
  readonly message: string;
  /** The message type octet, when the frame got far enough to have one. */
  readonly msgType?: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly packet: Packet }
  | { readonly ok: false; readonly error: DecodeError };

export type EncodeErrorCode = 'out-of-range' | 'too-long' | 'bad-short-name' | 'bad-value';

/** Thrown by `encode` for values that cannot be put on the wire; `field` names the culprit. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly code: EncodeErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
