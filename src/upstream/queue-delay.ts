/**
 * How long the broker connection takes to carry a message right now. A broker that does not keep
 * up shows here first: what it has not read waits in the kernel's send buffer (autotuned to
 * several MB on Linux, and invisible to Node, whose `writableLength` counts only what it still
 * holds itself). Measured, issue 17: 50 devices flat out left 2.7-3.5 MB there, 3 s of readings.
 *
 * Two measurements, the larger wins:
 * - a PINGREQ written behind everything queued: while it is out, the delay is at least its age;
 * - the bytes written since the last PINGRESP over the rate the broker drained them lately. This
 *   one sees a queue as it is being built: the probe alone would let a fast producer pile up a
 *   whole round trip of writes first (measured: 300 ms queues with a 50 ms bound).
 * The drain rate is measured only while a queue stands (a probe took BUSY_RTT_MS or more): while
 * the broker keeps up, it drains only what arrives, and that rate would make the next burst look
 * like a queue (and shed readings the broker could take). It is the best of those measurements
 * lately, each one busy measurement taking a little off (RATE_DECAY_PER_SAMPLE).
 *
 * The link probes only while it is used (one PINGREQ at a time, at most one per
 * PROBE_INTERVAL_MS), so an idle gateway sends nothing extra. Pure: times and byte counts come
 * from the caller.
 */
export const PROBE_INTERVAL_MS = 10;
/** A probe's round trip this long means messages were queued ahead of it. */
export const BUSY_RTT_MS = 5;
/** Per busy measurement, what the drain rate keeps of its best. */
const RATE_DECAY_PER_SAMPLE = 0.99;

export class QueueDelay {
  /** The probe out: when it was sent and how many bytes had been written with it. */
  private probe: { readonly at: number; readonly mark: number } | undefined;
  /** The last probe answered: when, and the bytes the broker had read by then. */
  private answeredAt = Number.NEGATIVE_INFINITY;
  private answeredMark = 0;
  /** Bytes per ms the broker drained while a queue stood (0: not measured yet). */
  private bytesPerMs = 0;

  /** Whether to send a probe now. */
  due(now: number): boolean {
    return this.probe === undefined && now - this.answeredAt >= PROBE_INTERVAL_MS;
  }

  /** A probe went out with `written` bytes written in all (itself included). */
  sent(now: number, written: number): void {
    this.probe = { at: now, mark: written };
  }

  /** A PINGRESP came (one the link did not ask for, e.g. a keep-alive's, while none is out: ignored). */
  answered(now: number): void {
    const probe = this.probe;
    if (probe === undefined) return;
    this.probe = undefined;
    // Back to back with the last probe (no idle gap in the window) and a queue ahead of it.
    if (now - probe.at >= BUSY_RTT_MS && probe.at - this.answeredAt <= 2 * PROBE_INTERVAL_MS) {
      const sample = (probe.mark - this.answeredMark) / (now - this.answeredAt);
      this.bytesPerMs = Math.max(sample, this.bytesPerMs * RATE_DECAY_PER_SAMPLE);
    }
    this.answeredAt = now;
    this.answeredMark = probe.mark;
  }

  /** The delay a message written now would see, with `written` bytes written in all so far. */
  delayMs(now: number, written: number): number {
    const waiting = this.probe === undefined ? 0 : now - this.probe.at;
    const queued = this.bytesPerMs > 0 ? (written - this.answeredMark) / this.bytesPerMs : 0;
    return Math.max(waiting, queued);
  }

  /** A new connection: nothing of the old one's queue is left (the byte count starts again too). */
  reset(): void {
    this.probe = undefined;
    this.answeredAt = Number.NEGATIVE_INFINITY;
    this.answeredMark = 0;
    this.bytesPerMs = 0;
  }
}
