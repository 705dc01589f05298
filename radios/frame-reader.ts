/** What the serial framers share: the reader interface, its results and options. */

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

export interface FrameReaderOptions {
  /** Largest frame accepted, in decoded octets (the radio's `maxFrameSize`). Bounds buffering. */
  readonly maxFrameSize: number;
}

export function checkMax(maxFrameSize: number): number {
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < 2) {
    throw new RangeError(`maxFrameSize must be an integer >= 2 (an MQTT-SN message has at least 2 octets), got ${maxFrameSize}`);
  }
  return maxFrameSize;
}
