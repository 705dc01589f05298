import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * How long the event loop was held up since the last reading: while one callback runs, datagrams
 * wait in the kernel and are dropped when its buffer fills, so a long stall shows up here first.
 */
export class LoopDelay {
  private histogram: IntervalHistogram | undefined;

  start(): void {
    this.histogram ??= monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
  }

  stop(): void {
    this.histogram?.disable();
  }

  /** p99 and max in ms since the previous reading, then starts over. */
  read(): { p99Ms: number; maxMs: number } {
    const histogram = this.histogram;
    if (!histogram || histogram.count === 0) return { p99Ms: 0, maxMs: 0 };
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    const reading = { p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
    histogram.reset();
    return reading;
  }
}
