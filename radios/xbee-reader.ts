/**
 * The incremental XBee API frame reader: serial chunks in, whole frames and drop reports out.
 * Split from the codec (xbee-frames.ts) to keep each file to one job.
 */
import { DELIM, ESC, MAX_FRAME_DATA, checksum, decodeFrameData, type ApiMode, type XBeeFrame } from './xbee-frames.js';

const EMPTY = Buffer.alloc(0);

/**
 * Why bytes were dropped: `garbage` outside any frame; `bad-checksum`; `bad-escape` (AP=2: 0x7D
 * then 0x7E); `too-short` (cut off by a new 0x7E in AP=2 or by `reset()`, or shorter than its
 * type's fields); `too-long` (declared length over `maxDataLength`).
 */
export type XBeeDropReason = 'garbage' | 'bad-checksum' | 'bad-escape' | 'too-short' | 'too-long';

/** `bytes` counts wire octets (escapes included); every pushed octet is counted exactly once. */
export type XBeeReadResult =
  | { readonly ok: true; readonly frame: XBeeFrame; readonly bytes: number }
  | { readonly ok: false; readonly reason: XBeeDropReason; readonly bytes: number };

export interface XBeeReaderOptions {
  /**
   * Longest frame data accepted; a longer declared length is dropped at once as `too-long`.
   * Default 65535 (no limit). In AP=1 a corrupted length or a stray 0x7E can otherwise make the
   * reader wait for up to 64 KiB before the checksum exposes it; real frames stay under ~300.
   */
  readonly maxDataLength?: number;
}

type State = 'hunt' | 'lenHi' | 'lenLo' | 'data' | 'checksum';

/**
 * Pure incremental parser: feed it serial chunks of any size, get whole frames and drop reports.
 * Drops are results, never exceptions, so the radio can count them.
 */
export class XBeeFrameReader {
  private state: State = 'hunt';
  private garbage = 0; // octets skipped while hunting, reported once when the run ends
  private wire = 0; // wire octets of the current frame so far, delimiter included
  private escaped = false;
  private length = 0;
  private data = EMPTY;
  private filled = 0;
  private readonly maxDataLength: number;

  constructor(
    readonly apiMode: ApiMode,
    options: XBeeReaderOptions = {},
  ) {
    this.maxDataLength = options.maxDataLength ?? MAX_FRAME_DATA;
  }

  push(chunk: Buffer): XBeeReadResult[] {
    const out: XBeeReadResult[] = [];
    let input = chunk;
    for (let i = 0; i < input.length; i++) {
      const replay = this.octet(input[i]!, out);
      // A failed AP=1 frame hands back the octets from its next 0x7E on, to be read again first.
      if (replay !== undefined) {
        input = Buffer.concat([replay, input.subarray(i + 1)]);
        i = -1;
      }
    }
    return out;
  }

  /**
   * Drops a partial frame (the radio calls this after an inter-byte timeout) and reports it, with
   * any pending garbage. In AP=1 frames hidden behind a bogus length are recovered first.
   */
  reset(): XBeeReadResult[] {
    const out: XBeeReadResult[] = [];
    while (this.state !== 'hunt') {
      const replay = this.fail('too-short', out);
      if (replay !== undefined) out.push(...this.push(replay));
    }
    this.flushGarbage(out);
    return out;
  }

  private octet(b: number, out: XBeeReadResult[]): Buffer | undefined {
    if (this.state === 'hunt') {
      if (b === DELIM) this.start(out);
      else this.garbage++;
      return undefined;
    }
    if (this.apiMode === 2) {
      // AP=2: an unescaped 0x7E always starts a frame, so the current one was cut off.
      if (b === DELIM) {
        out.push({ ok: false, reason: this.escaped ? 'bad-escape' : 'too-short', bytes: this.wire });
        this.start(out);
        return undefined;
      }
      this.wire++;
      if (b === ESC && !this.escaped) {
        this.escaped = true;
        return undefined;
      }
      if (this.escaped) b ^= 0x20;
      this.escaped = false;
    } else this.wire++;
    switch (this.state) {
      case 'lenHi':
        this.length = b << 8;
        this.state = 'lenLo';
        return undefined;
      case 'lenLo':
        this.length |= b;
        if (this.length > this.maxDataLength) return this.fail('too-long', out);
        this.data = Buffer.allocUnsafe(this.length); // fresh per frame: decoded views stay valid
        this.state = this.length === 0 ? 'checksum' : 'data';
        return undefined;
      case 'data':
        this.data[this.filled++] = b;
        if (this.filled === this.length) this.state = 'checksum';
        return undefined;
      case 'checksum':
        return this.finish(b, out);
    }
  }

  private finish(sum: number, out: XBeeReadResult[]): Buffer | undefined {
    if (checksum(this.data) !== sum) return this.fail('bad-checksum', out, sum);
    const r = decodeFrameData(this.data);
    out.push(r.ok ? { ok: true, frame: r.frame, bytes: this.wire } : { ok: false, reason: 'too-short', bytes: this.wire });
    this.idle();
    return undefined;
  }

  /**
   * Drops the current frame. AP=1 reserves no octet values, so the length may have been a lie (a
   * corrupted length, or a 0x7E that was really data): the octets after this frame's delimiter
   * are read again from the next 0x7E in them, and only those before it are reported here. In AP=2
   * no unescaped 0x7E can sit inside a frame, so there is nothing to re-read.
   */
  private fail(reason: XBeeDropReason, out: XBeeReadResult[], sum?: number): Buffer | undefined {
    let bytes = this.wire;
    let replay: Buffer | undefined;
    if (this.apiMode === 1) {
      // AP=1 wire octets are exactly delimiter, length octets seen, data so far, checksum.
      const head = Buffer.of(DELIM, this.length >> 8, this.length & 0xff).subarray(0, Math.min(this.wire, 3));
      const seen = Buffer.concat([head, this.data.subarray(0, this.filled), sum === undefined ? EMPTY : Buffer.of(sum)]);
      const next = seen.indexOf(DELIM, 1);
      if (next > 0) {
        bytes = next;
        replay = seen.subarray(next);
      }
    }
    out.push({ ok: false, reason, bytes });
    this.idle();
    return replay;
  }

  private start(out: XBeeReadResult[]): void {
    this.flushGarbage(out);
    this.idle();
    this.state = 'lenHi';
    this.wire = 1;
  }

  private idle(): void {
    this.state = 'hunt';
    this.wire = 0;
    this.escaped = false;
    this.length = 0;
    this.data = EMPTY;
    this.filled = 0;
  }

  private flushGarbage(out: XBeeReadResult[]): void {
    if (this.garbage > 0) out.push({ ok: false, reason: 'garbage', bytes: this.garbage });
    this.garbage = 0;
  }
}
