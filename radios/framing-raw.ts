/** Raw framing: the MQTT-SN length field (MQTT-SN 1.2 §5.2.1) is the only delimiter. See framing.ts. */
import { decode, MsgType, SHORT_FORM_MAX } from '../src/codec/index.js';
import { checkMax, type FrameReader, type FrameReaderOptions, type FrameResult } from './frame-reader.js';

/** The MQTT-SN frame carries its own length: nothing to add. */
export function encodeRaw(frame: Buffer): Buffer {
  return frame;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set<number>(Object.values(MsgType));

/** What can be said about a frame starting at some offset, given the bytes received so far. */
type Candidate = 'wait' | 'skip' | { readonly total: number };

/** The length field at `buf[p]` (MQTT-SN 1.2 §5.2.1), judged for plausibility. */
function lengthAt(buf: Buffer, p: number, end: number): 'wait' | 'skip' | { total: number; typeAt: number } {
  const first = buf[p] ?? 0;
  if (first === 0x00) return 'skip';
  if (first !== 0x01) return { total: first, typeAt: p + 1 };
  if (end - p < 3) return 'wait';
  const total = buf.readUInt16BE(p + 1);
  // The spec lets a sender use the 3-octet form for short messages too, but no implementation we
  // know does, and on a stream every 0x01 byte would otherwise open a candidate. Side effect: Paho's
  // `01 00 FF` + 253 octets (reference (a) [DIVERGENCE]) is read as its valid 1-octet tail `FF ..`
  // after 2 garbage octets.
  if (total <= SHORT_FORM_MAX) return 'skip';
  return { total, typeAt: p + 3 };
}

/** Judges the frame candidate at `buf[p..end)`: wait for more bytes, skip one byte, or accept. */
function candidateAt(buf: Buffer, p: number, end: number, max: number): Candidate {
  const len = lengthAt(buf, p, end);
  if (typeof len === 'string') return len;
  let total = len.total;
  if (total > max) return 'skip';
  if (len.typeAt >= end) return 'wait';
  const type = buf[len.typeAt] ?? 0;
  if (type === MsgType.encapsulated) {
    // §5.5: this length covers the forwarder header only (1-octet form, >= 3); the inner message
    // follows with its own length field, so the frame is header + inner total.
    if (len.typeAt !== p + 1 || total < 3) return 'skip';
    if (p + total >= end) return 'wait';
    const inner = lengthAt(buf, p + total, end);
    if (typeof inner === 'string') return inner;
    if (inner.typeAt >= end) return 'wait';
    const innerType = buf[inner.typeAt] ?? 0;
    if (innerType === MsgType.encapsulated || !KNOWN_TYPES.has(innerType)) return 'skip';
    total += inner.total;
    if (total > max) return 'skip';
  } else if (!KNOWN_TYPES.has(type)) {
    return 'skip';
  }
  if (end - p < total) return 'wait';
  const r = decode(buf.subarray(p, p + total));
  // A reserved TopicIdType is well framed; the gateway must see it to answer PUBACK/SUBACK 0x03
  // (reference (k), rejectionFor). Every other decode error means this is not a frame boundary.
  return r.ok || r.error.code === 'reserved-topic-id-type' ? { total } : 'skip';
}

/**
 * MQTT-SN frames back to back with no delimiter, cut by their own length field. A candidate is
 * accepted when its length is plausible (2..maxFrameSize, 3-octet form only for >= 256), its type
 * is a known MQTT-SN type and it decodes; otherwise one byte is skipped and counted as garbage.
 *
 * Limits, inherent to raw framing (use SLIP where the line is noisy):
 * - garbage that reads as a valid frame is returned as one (e.g. a stray `04` before `02 16`
 *   reads as GWINFO `04 02 16 xx`, taking the first byte of what follows; text is no better:
 *   CR LF is `0d 0a`, the header of a 13-octet REGISTER, so boot banners yield bogus REGISTERs);
 * - a garbage length up to maxFrameSize with a known type makes the reader wait for that many
 *   bytes, delaying the real frames buffered behind it until they arrive or `flush()`;
 * - an oversized frame cannot be recognised: it is skipped byte by byte as garbage.
 * Buffering stays below maxFrameSize (+ a forwarder header) whatever the input.
 */
export class RawFrameReader implements FrameReader {
  private readonly max: number;
  private buf = Buffer.alloc(0);
  private head = 0;
  private tail = 0;

  constructor(options: FrameReaderOptions) {
    this.max = checkMax(options.maxFrameSize);
  }

  get pending(): number {
    return this.tail - this.head;
  }

  push(chunk: Buffer): FrameResult[] {
    this.append(chunk);
    return this.drain(false);
  }

  flush(): FrameResult[] {
    return this.drain(true);
  }

  reset(): void {
    this.head = this.tail = 0;
    this.buf = Buffer.alloc(0);
  }

  /** Resolves as much of the buffer as possible; `idle` turns every 'wait' into a skip. */
  private drain(idle: boolean): FrameResult[] {
    const out: FrameResult[] = [];
    let skipped = 0;
    while (this.head < this.tail) {
      const c = candidateAt(this.buf, this.head, this.tail, this.max);
      if (c === 'wait' && !idle) break;
      if (typeof c === 'string') {
        this.head += 1;
        skipped += 1;
        continue;
      }
      if (skipped > 0) out.push({ ok: false, reason: 'garbage', bytes: skipped });
      skipped = 0;
      out.push({ ok: true, frame: Buffer.from(this.buf.subarray(this.head, this.head + c.total)) });
      this.head += c.total;
    }
    if (skipped > 0) out.push({ ok: false, reason: 'garbage', bytes: skipped });
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      // A huge chunk grew the buffer; do not keep it once it is empty.
      if (this.buf.length > 4 * (this.max + 0x100)) this.buf = Buffer.alloc(0);
    }
    return out;
  }

  /** Copies the chunk in, compacting or growing the buffer (amortised: no copy per byte fed). */
  private append(chunk: Buffer): void {
    const pending = this.tail - this.head;
    if (this.tail + chunk.length > this.buf.length) {
      const need = pending + chunk.length;
      const target = need <= this.buf.length ? this.buf : Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length, 64));
      this.buf.copy(target, 0, this.head, this.tail);
      this.buf = target;
      this.head = 0;
      this.tail = pending;
    }
    chunk.copy(this.buf, this.tail);
    this.tail += chunk.length;
  }
}
