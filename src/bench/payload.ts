/**
 * Benchmark payloads carry what the counter needs to find loss, duplicates, reordering and
 * latency: send time, device index and sequence number, padded to the requested size.
 */
export const PAYLOAD_HEADER = 16;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function writePayload(target: Buffer, offset: number, device: number, seq: number, sentAt: number): void {
  target.writeDoubleBE(sentAt, offset);
  target.writeUInt32BE(device, offset + 8);
  target.writeUInt32BE(seq, offset + 12);
}

export interface PayloadStamp {
  readonly sentAt: number;
  readonly device: number;
  readonly seq: number;
}

export function readPayload(payload: Buffer): PayloadStamp | undefined {
  if (payload.length < PAYLOAD_HEADER) return undefined;
  return { sentAt: payload.readDoubleBE(0), device: payload.readUInt32BE(8), seq: payload.readUInt32BE(12) };
}
