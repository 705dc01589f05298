/**
 * The contract every per-family codec implements, and small shared helpers.
 * A body codec sees only the octets after the MsgType octet; framing (the 1-or-3 octet length,
 * MsgType, "length == datagram") is done once in frame.ts.
 */
import type { DecodeError, DecodeErrorCode } from './errors.js';
import type { Header } from './header.js';
import type { InnerPacket, Packet, PacketType } from './packets.js';

/** The member of the union whose tag is K. */
export type PacketOf<K extends PacketType> = Extract<Packet, { type: K }>;

/** Whole-message codec: one per packet type in the dispatch table (frame.ts). */
export interface MessageCodec<P extends Packet> {
  /** Total octets of `p` on the wire; validates and throws `EncodeError`. */
  size(p: P): number;
  /** Writes the whole message (length field included) at `buf[at]`, after `size(p)` succeeded. */
  write(p: P, buf: Buffer, at: number, total: number): void;
  /**
   * Decodes the message at `buf[start..]`, whose length field is `header`. For all but the
   * encapsulation the generic framing checks (length == datagram) have already passed.
   */
  decode(buf: Buffer, start: number, header: Header): P | DecodeError;
}

/** Body codec for one message type (every type except the 0xFE encapsulation). */
export interface BodyCodec<P extends InnerPacket> {
  /** Layout rule on the body length (octets after MsgType), from the table in reference (b). */
  readonly length: LengthRule;
  /** Body length of `p`; validates every field and throws `EncodeError` if one cannot be sent. */
  size(p: P): number;
  /** Writes the body of `p` at `buf[at]`; only called after `size(p)` succeeded. */
  write(p: P, buf: Buffer, at: number): void;
  /**
   * Decodes the body `buf[b, e)`, whose length already satisfies `length`. `start` is the offset of
   * the message's length field (reported by `bad-length`). Offsets in errors are absolute.
   * Must not throw; payload-like fields are views of `buf`.
   */
  decode(buf: Buffer, b: number, e: number, start: number): P | DecodeError;
}

/** Allowed body lengths, with the rule spelled in whole-message totals (1-octet form) for errors. */
export interface LengthRule {
  readonly ok: (bodyLength: number) => boolean;
  readonly text: string;
}

// Helpers take totals in the 1-octet form, as the spec's layout table states them; body = total - 2.
export const exactly = (total: number): LengthRule => ({ ok: (n) => n === total - 2, text: `exactly ${total}` });
export const atLeast = (total: number): LengthRule => ({ ok: (n) => n >= total - 2, text: `at least ${total}` });
export const oneOf = (...totals: number[]): LengthRule => ({
  ok: (n) => totals.includes(n + 2),
  text: `one of ${totals.join(', ')}`,
});
/** Total 2 (no body), or `min` and up (WILLTOPIC, PINGREQ). */
export const emptyOrAtLeast = (min: number): LengthRule => ({
  ok: (n) => n === 0 || n >= min - 2,
  text: `2 or at least ${min}`,
});

export function fail(code: DecodeErrorCode, offset: number, message: string, msgType?: number): DecodeError {
  return msgType === undefined ? { code, offset, message } : { code, offset, message, msgType };
}

/** Packets never carry a `code` property, errors always do. */
export function isError<P extends object>(r: P | DecodeError): r is DecodeError {
  return 'code' in r;
}
