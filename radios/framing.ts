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
import type { FrameReader, Framing } from './frame-reader.js';
import { encodeRaw, RawFrameReader } from './framing-raw.js';
import { encodeSlip, SlipFrameReader } from './framing-slip.js';

export type { FrameErrorReason, FrameReader, FrameReaderOptions, FrameResult, Framing } from './frame-reader.js';
export { encodeRaw, RawFrameReader } from './framing-raw.js';
export { encodeSlip, SlipFrameReader } from './framing-slip.js';

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
