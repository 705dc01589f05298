/**
 * Framing of MQTT-SN over a serial byte stream: pure (no I/O, no timers) readers that cut a stream
 * of chunks into whole frames, and the matching encoders. The serial radio owns the port and the
 * inter-byte gap timer; it feeds every chunk to `push` and hands each `ok` frame to the gateway.
 *
 * - `slip` (default): RFC 1055 SLIP. Frames are delimited by END, so the reader resynchronises at
 *   every END whatever the line noise was. The robust choice.
 * - `raw`: no delimiter; the MQTT-SN length field (MQTT-SN 1.2 §5.2.1) is the only framing. The
 *   reader resynchronises by sliding one byte at a time over anything that is not a plausible,
 *   decodable frame, but it cannot be perfect: garbage that happens to look like a length plus a
 *   valid message is taken for a frame (and may swallow the start of the real one after it).
 */
import { decode, MsgType, SHORT_FORM_MAX } from '../src/codec/index.js';

export type Framing = 'raw' | 'slip';

/**
 * Why bytes were dropped. `raw` reports only `garbage` (it cannot tell an oversized or truncated
 * frame from noise); `slip` reports the others, always for a whole END-delimited frame.
 */
export type FrameErrorReason =
  | 'garbage' // raw: bytes skipped while looking for the start of a valid frame
  | 'too-long' // slip: frame longer than maxFrameSize, discarded up to its END
  | 'bad-escape' // slip: ESC followed by neither ESC_END nor ESC_ESC (or by END)
  | 'truncated'; // slip: unterminated frame abandoned by flush()

/** `bytes` counts wire octets dropped, so the radio can keep a counter of line errors. */
export type FrameResult =
  | { readonly ok: true; readonly frame: Buffer }
  | { readonly ok: false; readonly reason: FrameErrorReason; readonly bytes: number };

/**
 * Cuts a byte stream into frames. Pure and synchronous; never throws on input.
 * Returned frames are fresh copies: the reader never retains or modifies the caller's chunks.
 */
export interface FrameReader {
  /** Consumes one chunk (any size, down to 1 byte); returns what it completed, in stream order. */
  push(chunk: Buffer): FrameResult[];
  /**
   * The line went quiet (inter-byte gap timeout) while `pending > 0`: no more bytes will complete
   * the frame in progress. Gives it up and returns whatever the buffered bytes still hold (for raw,
   * complete frames queued behind a bogus or truncated length) plus the dropped byte counts.
   * Leaves `pending` at 0. Prefer this to `reset()` on a timeout.
   */
  flush(): FrameResult[];
  /** Drops everything buffered, uncounted (read `pending` first to count it). */
  reset(): void;
  /** Wire bytes received but not yet resolved into a frame or a drop; > 0 means a timeout matters. */
  readonly pending: number;
}

export function createFrameReader(framing: Framing, maxFrameSize: number): FrameReader {
  switch (framing) {
    case 'raw':
      return new RawFrameReader({ maxFrameSize });
    case 'slip':
      return new SlipFrameReader({ maxFrameSize });
  }
}

export function encodeFrame(framing: Framing, frame: Buffer): Buffer {
  switch (framing) {
    case 'raw':
      return encodeRaw(frame);
    case 'slip':
      return encodeSlip(frame);
  }
}

export interface FrameReaderOptions {
  /** Largest frame accepted, in decoded octets (the radio's `maxFrameSize`). Bounds buffering. */
  readonly maxFrameSize: number;
}

function checkMax(maxFrameSize: number): number {
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < 2) {
    throw new RangeError(`maxFrameSize must be an integer >= 2 (an MQTT-SN message has at least 2 octets), got ${maxFrameSize}`);
  }
  return maxFrameSize;
}

// ---------------------------------------------------------------------------------------------
// raw

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

// ---------------------------------------------------------------------------------------------
// SLIP (RFC 1055)
//
// Hand-written rather than @serialport/parser-slip-encoder (stack.md): that is a Transform stream
// (I/O-shaped, not installed), and it neither bounds a frame's size nor reports bad escapes.
// What we need is ~60 lines of pure code with a size bound and counted drops.

const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/**
 * END, the frame with END and ESC escaped, END. The leading END (optional in RFC 1055) ends
 * whatever line noise preceded the frame as a separate candidate instead of corrupting this one.
 */
export function encodeSlip(frame: Buffer): Buffer {
  let specials = 0;
  for (const b of frame) if (b === END || b === ESC) specials += 1;
  const out = Buffer.allocUnsafe(frame.length + specials + 2);
  let at = 0;
  out[at++] = END;
  for (const b of frame) {
    if (b === END) {
      out[at++] = ESC;
      out[at++] = ESC_END;
    } else if (b === ESC) {
      out[at++] = ESC;
      out[at++] = ESC_ESC;
    } else {
      out[at++] = b;
    }
  }
  out[at] = END;
  return out;
}

/**
 * RFC 1055 SLIP reader. Everything between two ENDs is one frame candidate; empty ones (END END)
 * are ignored silently. It does not check MQTT-SN validity: line noise between frames comes out as
 * a frame of its own, which fails `decode` in the gateway and is counted there as malformed.
 * A frame with a bad escape, or longer than maxFrameSize, is dropped whole at its END; an
 * oversized frame is discarded as it arrives, so at most maxFrameSize octets are ever buffered.
 */
export class SlipFrameReader implements FrameReader {
  private readonly max: number;
  private frame = Buffer.alloc(0);
  private length = 0;
  /** Wire octets since the last END (escapes counted as 2), including those being discarded. */
  private wire = 0;
  private escaped = false;
  /** Set once the frame in progress is known bad: discard until END, then report this. */
  private dropping: 'too-long' | 'bad-escape' | undefined;

  constructor(options: FrameReaderOptions) {
    this.max = checkMax(options.maxFrameSize);
  }

  get pending(): number {
    return this.wire;
  }

  push(chunk: Buffer): FrameResult[] {
    const out: FrameResult[] = [];
    for (const b of chunk) {
      if (b === END) {
        this.end(out);
        continue;
      }
      this.wire += 1;
      if (this.dropping !== undefined) continue;
      if (this.escaped) {
        this.escaped = false;
        if (b === ESC_END) this.add(END);
        else if (b === ESC_ESC) this.add(ESC);
        else this.dropping = 'bad-escape';
      } else if (b === ESC) {
        this.escaped = true;
      } else {
        this.add(b);
      }
    }
    return out;
  }

  flush(): FrameResult[] {
    const out: FrameResult[] = [];
    if (this.wire > 0) out.push({ ok: false, reason: this.dropping ?? 'truncated', bytes: this.wire });
    this.clear();
    return out;
  }

  reset(): void {
    this.clear();
  }

  private end(out: FrameResult[]): void {
    // ESC right before END is a bad escape too (RFC 1055 defines only ESC_END and ESC_ESC).
    const bad = this.dropping ?? (this.escaped ? 'bad-escape' : undefined);
    if (bad !== undefined) out.push({ ok: false, reason: bad, bytes: this.wire });
    else if (this.length > 0) out.push({ ok: true, frame: Buffer.from(this.frame.subarray(0, this.length)) });
    this.clear();
  }

  private add(b: number): void {
    if (this.length === this.max) {
      this.dropping = 'too-long';
      return;
    }
    if (this.length === this.frame.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.max, Math.max(64, 2 * this.frame.length)));
      this.frame.copy(grown, 0, 0, this.length);
      this.frame = grown;
    }
    this.frame[this.length++] = b;
  }

  private clear(): void {
    this.length = 0;
    this.wire = 0;
    this.escaped = false;
    this.dropping = undefined;
  }
}
