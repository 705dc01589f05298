/**
 * The MQTT-SN GATT profile the BLE radio speaks (documented in the README for device firmware).
 * The device is the GATT server (peripheral) and advertises the service; the gateway is the
 * central. UUIDs are written as noble reports them: 128-bit, lowercase, no dashes.
 */
export const MQTTSN_SERVICE_UUID = 'a2e1f3c05d3b4c8e9a7f6d7174736e00';
/** Device to gateway: the gateway subscribes to its notifications (or indications). */
export const TO_GATEWAY_UUID = 'a2e1f3c05d3b4c8e9a7f6d7174736e01';
/** Gateway to device: the gateway writes to it (write with response: each segment is acknowledged). */
export const TO_DEVICE_UUID = 'a2e1f3c05d3b4c8e9a7f6d7174736e02';

/** The 23-octet ATT MTU every BLE link starts with: 20 octets of value per write or notification. */
export const DEFAULT_ATT_MTU = 23;
/** The ATT header (opcode + handle) in front of each value. */
const ATT_HEADER = 3;

/** Segment header bits: this segment starts a frame / ends a frame; the low 6 bits count segments. */
export const FIRST = 0x80;
export const LAST = 0x40;
const COUNTER = 0x3f;

/**
 * Cuts one MQTT-SN frame into segments that fit the link: each is one header octet (FIRST, LAST,
 * a counter from 0 per frame, mod 64) and up to ATT_MTU - 3 - 1 octets of the frame. A frame
 * that fits in one segment goes as header 0xC0 + the frame.
 */
export function segment(frame: Buffer, attMtu: number): Buffer[] {
  const room = Math.max(1, attMtu - ATT_HEADER - 1);
  const segments: Buffer[] = [];
  for (let offset = 0, counter = 0; offset < frame.length || segments.length === 0; offset += room, counter++) {
    const end = Math.min(frame.length, offset + room);
    const header = (offset === 0 ? FIRST : 0) | (end === frame.length ? LAST : 0) | (counter & COUNTER);
    segments.push(Buffer.concat([Buffer.of(header), frame.subarray(offset, end)]));
  }
  return segments;
}

export type ReassemblyResult = { readonly ok: true; readonly frame: Buffer } | { readonly ok: false; readonly reason: 'out-of-order' | 'no-start' | 'too-long' | 'empty' };

/**
 * Puts segments back together, one stream per link. A lost or reordered segment (counter gap),
 * a continuation without a start, or a frame over `maxFrameSize` drops that frame and waits for
 * the next FIRST segment: a damaged frame is never passed on half-built.
 */
export class Reassembler {
  private parts: Buffer[] | undefined;
  private size = 0;
  private expected = 0;

  constructor(private readonly maxFrameSize: number) {}

  /** Results for this segment: usually none (more to come) or one frame; a drop noticed on the way comes first. */
  push(segmentBytes: Buffer): ReassemblyResult[] {
    if (segmentBytes.length === 0) return [{ ok: false, reason: 'empty' }];
    const header = segmentBytes[0]!;
    const results: ReassemblyResult[] = [];
    if (header & FIRST) {
      if (this.parts) results.push({ ok: false, reason: 'out-of-order' }); // the previous frame never ended
      this.parts = [];
      this.size = 0;
      this.expected = 0;
    } else if (!this.parts) {
      return [{ ok: false, reason: 'no-start' }];
    }
    if ((header & COUNTER) !== this.expected) {
      this.parts = undefined;
      return [...results, { ok: false, reason: 'out-of-order' }];
    }
    this.expected = (this.expected + 1) & COUNTER;
    this.size += segmentBytes.length - 1;
    if (this.size > this.maxFrameSize) {
      this.parts = undefined;
      return [...results, { ok: false, reason: 'too-long' }];
    }
    this.parts!.push(Buffer.from(segmentBytes.subarray(1)));
    if (header & LAST) {
      results.push({ ok: true, frame: Buffer.concat(this.parts!) });
      this.parts = undefined;
    }
    return results;
  }

  reset(): void {
    this.parts = undefined;
  }
}
