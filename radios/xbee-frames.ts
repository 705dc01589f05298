/**
 * XBee API frame codec (Digi "API frame format", AP=1 plain and AP=2 escaped). Pure: no I/O, no
 * timers. `encodeFrame` builds wire bytes; `XBeeFrameReader` turns a serial byte stream back into
 * frames, resynchronising on the 0x7E delimiter and reporting (never throwing) what it drops.
 * Hand-written because xbee-api hands on frames whose checksum is wrong.
 *
 * Wire: 0x7E, length (u16 BE, frame data only), frame data (type octet first), checksum =
 * 0xFF - (sum of frame data & 0xFF). AP=2 escapes 0x7E 0x7D 0x11 0x13 after the delimiter as
 * 0x7D, byte ^ 0x20.
 */
import { EncodeError } from '../src/codec/index.js';

export type ApiMode = 1 | 2;

/** API frame type octets (first octet of frame data) this codec knows field by field. */
export const FrameType = { transmitRequest: 0x10, receivePacket: 0x90, transmitStatus: 0x8b, rx64: 0x80, rx16: 0x81 } as const;
/** Zigbee broadcast: this 64-bit address together with 16-bit `UNKNOWN_16`. */
export const BROADCAST_64 = '000000000000ffff';
/** 16-bit address "unknown / use the 64-bit one" (and the 16-bit half of a broadcast). */
export const UNKNOWN_16 = 'fffe';
/** Receive options bit (0x90, 0x80, 0x81): the packet was sent as a broadcast. */
export const RX_OPTION_BROADCAST = 0x02;
/** Transmit Status delivery status: success. */
export const DELIVERY_SUCCESS = 0x00;
/** The length field is 16 bits, so this is the most frame data (type octet included) a frame holds. */
export const MAX_FRAME_DATA = 0xffff;

export const DELIM = 0x7e;
export const ESC = 0x7d;
const SPECIAL = new Set([0x7e, 0x7d, 0x11, 0x13]); // XON 0x11 / XOFF 0x13 would upset flow control

// Addresses: lowercase hex from decode; encode accepts either case. RF data: views of the frame data.
export interface TransmitRequest { readonly type: 'transmitRequest'; readonly frameId: number; readonly dest64: string; readonly dest16: string; readonly radius: number; readonly options: number; readonly data: Buffer }
export interface ReceivePacket { readonly type: 'receivePacket'; readonly src64: string; readonly src16: string; readonly options: number; readonly data: Buffer }
export interface TransmitStatus { readonly type: 'transmitStatus'; readonly frameId: number; readonly dest16: string; readonly retries: number; readonly deliveryStatus: number; readonly discoveryStatus: number }
/** 802.15.4 RX with 64-bit source. `rssi` is in dBm, <= 0 (the wire carries -dBm). */
export interface Rx64 { readonly type: 'rx64'; readonly src64: string; readonly rssi: number; readonly options: number; readonly data: Buffer }
/** 802.15.4 RX with 16-bit source. */
export interface Rx16 { readonly type: 'rx16'; readonly src16: string; readonly rssi: number; readonly options: number; readonly data: Buffer }
/** Any other frame type (modem status 0x8A, AT response 0x88, ...), or an AT command to send. */
export interface OtherFrame { readonly type: 'other'; readonly frameType: number; readonly data: Buffer }

/** One XBee API frame, tagged by `type`. */
export type XBeeFrame = TransmitRequest | ReceivePacket | TransmitStatus | Rx64 | Rx16 | OtherFrame;

export interface XBeeDecodeError {
  /** Frame data is empty, or shorter than its type's fixed fields. */
  readonly code: 'too-short';
  readonly frameType?: number;
  readonly message: string;
}
export type XBeeDecodeResult = { readonly ok: true; readonly frame: XBeeFrame } | { readonly ok: false; readonly error: XBeeDecodeError };

// ---- field helpers ----

function u8(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new EncodeError('out-of-range', field, `must be an integer in 0..255, got ${value}`);
  return value;
}
/** RSSI goes on the wire as -dBm in one octet. */
function rssi(value: number): number {
  if (!Number.isInteger(value) || value > 0 || value < -255) throw new EncodeError('out-of-range', 'rssi', `must be an integer dBm in -255..0, got ${value}`);
  return -value;
}
const HEX_16 = /^[0-9a-fA-F]{16}$/;
const HEX_4 = /^[0-9a-fA-F]{4}$/;
function addr(value: string, pattern: RegExp, field: string): Buffer {
  if (!pattern.test(value)) throw new EncodeError('bad-value', field, `must be ${pattern === HEX_16 ? 16 : 4} hex digits, got "${value}"`);
  return Buffer.from(value, 'hex');
}
const hex = (b: Buffer, at: number, n: number): string => b.toString('hex', at, at + n);
const byte = (b: Buffer, at: number): number => b.readUInt8(at);
/** `0 - n`, not `-n`: an RSSI octet of 0 must decode to 0, not -0 (which toEqual tells apart). */
const dbm = (b: Buffer, at: number): number => 0 - b.readUInt8(at);

// ---- per-type layouts: a table keyed by tag, so a new union member without a layout is a compile error ----

type Typed = Exclude<XBeeFrame, OtherFrame>;
type FrameOf<K extends Typed['type']> = Extract<Typed, { type: K }>;
interface Layout<F extends Typed> {
  /** Octets after the type octet before the RF data (the whole body for Transmit Status). */
  readonly fixed: number;
  /** Body after the type octet; validates every field and throws EncodeError. */
  body(f: F): Buffer;
  /** Reads a body of at least `fixed` octets. */
  read(b: Buffer): F;
}

const layouts: { readonly [K in Typed['type']]: Layout<FrameOf<K>> } = {
  transmitRequest: {
    fixed: 13,
    body: (f) => Buffer.concat([Buffer.of(u8(f.frameId, 'frameId')), addr(f.dest64, HEX_16, 'dest64'), addr(f.dest16, HEX_4, 'dest16'), Buffer.of(u8(f.radius, 'radius'), u8(f.options, 'options')), f.data]),
    read: (b) => ({ type: 'transmitRequest', frameId: byte(b, 0), dest64: hex(b, 1, 8), dest16: hex(b, 9, 2), radius: byte(b, 11), options: byte(b, 12), data: b.subarray(13) }),
  },
  receivePacket: {
    fixed: 11,
    body: (f) => Buffer.concat([addr(f.src64, HEX_16, 'src64'), addr(f.src16, HEX_4, 'src16'), Buffer.of(u8(f.options, 'options')), f.data]),
    read: (b) => ({ type: 'receivePacket', src64: hex(b, 0, 8), src16: hex(b, 8, 2), options: byte(b, 10), data: b.subarray(11) }),
  },
  transmitStatus: {
    fixed: 6,
    body: (f) => Buffer.concat([Buffer.of(u8(f.frameId, 'frameId')), addr(f.dest16, HEX_4, 'dest16'), Buffer.of(u8(f.retries, 'retries'), u8(f.deliveryStatus, 'deliveryStatus'), u8(f.discoveryStatus, 'discoveryStatus'))]),
    // Octets past the sixth are ignored: later firmware may append fields.
    read: (b) => ({ type: 'transmitStatus', frameId: byte(b, 0), dest16: hex(b, 1, 2), retries: byte(b, 3), deliveryStatus: byte(b, 4), discoveryStatus: byte(b, 5) }),
  },
  rx64: {
    fixed: 10,
    body: (f) => Buffer.concat([addr(f.src64, HEX_16, 'src64'), Buffer.of(rssi(f.rssi), u8(f.options, 'options')), f.data]),
    read: (b) => ({ type: 'rx64', src64: hex(b, 0, 8), rssi: dbm(b, 8), options: byte(b, 9), data: b.subarray(10) }),
  },
  rx16: {
    fixed: 4,
    body: (f) => Buffer.concat([addr(f.src16, HEX_4, 'src16'), Buffer.of(rssi(f.rssi), u8(f.options, 'options')), f.data]),
    read: (b) => ({ type: 'rx16', src16: hex(b, 0, 2), rssi: dbm(b, 2), options: byte(b, 3), data: b.subarray(4) }),
  },
};

function layoutFor<K extends Typed['type']>(type: K): Layout<FrameOf<K>> {
  return layouts[type];
}
const byFrameType = new Map<number, Typed['type']>(Object.entries(FrameType).map(([k, v]) => [v, k as Typed['type']]));

/** 0xFF minus the low octet of the sum of the frame data. */
export function checksum(frameData: Buffer): number {
  let sum = 0;
  for (const b of frameData) sum += b;
  return 0xff - (sum & 0xff);
}

/** Frame data (type octet + fields), without delimiter, length or checksum. Throws EncodeError. */
export function encodeFrameData(frame: XBeeFrame): Buffer {
  if (frame.type === 'other') return Buffer.concat([Buffer.of(u8(frame.frameType, 'frameType')), frame.data]);
  return Buffer.concat([Buffer.of(FrameType[frame.type]), layoutFor(frame.type).body(frame)]);
}

/**
 * Full wire bytes: delimiter, length, frame data, checksum, escaped when `apiMode` is 2. Throws
 * `EncodeError` for a malformed address, an out-of-range field, or frame data over 65535 octets.
 * An `other` frame is sent as given even if its type is a known one (the raw escape hatch).
 */
export function encodeFrame(frame: XBeeFrame, apiMode: ApiMode): Buffer {
  if (apiMode !== 1 && apiMode !== 2) throw new EncodeError('bad-value', 'apiMode', `must be 1 or 2, got ${String(apiMode)}`);
  const data = encodeFrameData(frame);
  if (data.length > MAX_FRAME_DATA) throw new EncodeError('too-long', 'data', `frame data is ${data.length} octets, the 16-bit length allows ${MAX_FRAME_DATA}`);
  const plain = Buffer.allocUnsafe(data.length + 4);
  plain[0] = DELIM;
  plain.writeUInt16BE(data.length, 1);
  data.copy(plain, 3);
  plain[data.length + 3] = checksum(data);
  return apiMode === 2 ? escape(plain) : plain;
}

/** AP=2: escapes every special octet after the delimiter (length and checksum included). */
function escape(plain: Buffer): Buffer {
  let extra = 0;
  for (let i = 1; i < plain.length; i++) if (SPECIAL.has(byte(plain, i))) extra++;
  const out = Buffer.allocUnsafe(plain.length + extra);
  out[0] = DELIM;
  let o = 1;
  for (let i = 1; i < plain.length; i++) {
    const b = byte(plain, i);
    if (SPECIAL.has(b)) {
      out[o++] = ESC;
      out[o++] = b ^ 0x20;
    } else out[o++] = b;
  }
  return out;
}

/**
 * Frame data (type octet + payload, no delimiter/length/checksum) to a frame. Total: never
 * throws. Buffer fields are views of `data`.
 */
export function decodeFrameData(data: Buffer): XBeeDecodeResult {
  if (data.length === 0) return { ok: false, error: { code: 'too-short', message: 'empty frame data: no frame type' } };
  const frameType = byte(data, 0);
  const body = data.subarray(1);
  const type = byFrameType.get(frameType);
  if (type === undefined) return { ok: true, frame: { type: 'other', frameType, data: body } };
  const layout = layoutFor(type);
  if (body.length < layout.fixed) {
    const message = `frame type 0x${frameType.toString(16)} needs at least ${layout.fixed + 1} octets of frame data, got ${data.length}`;
    return { ok: false, error: { code: 'too-short', frameType, message } };
  }
  return { ok: true, frame: layout.read(body) };
}

// ---- incremental reader ----
