/**
 * SLIP framing (RFC 1055): frames between END octets. See framing.ts.
 *
 * Hand-written rather than @serialport/parser-slip-encoder (stack.md): that is a Transform stream
 * (I/O-shaped, not installed), and it neither bounds a frame's size nor reports bad escapes.
 * What we need is ~60 lines of pure code with a size bound and counted drops.
 */
import { checkMax, type FrameReader, type FrameReaderOptions, type FrameResult } from './frame-reader.js';

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
