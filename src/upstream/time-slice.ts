import { performance } from 'node:perf_hooks';

/**
 * Bounds how long broker input runs before the event loop gets a turn. MQTT.js handles the packets
 * of a socket read one after another through process.nextTick, which runs before any I/O: a burst
 * of broker messages fanned out to many devices would keep the radios from being read for as long
 * as it lasts, and the kernel would drop every device's datagrams meanwhile. After `budgetMs` of
 * work the next packet waits for setImmediate (after the radios' I/O), and the broker connection
 * backs up in TCP instead.
 */
export class TimeSlice {
  private startedAt = performance.now();

  constructor(private readonly budgetMs: number) {}

  /** Runs `next` now while the slice lasts, otherwise after pending I/O. */
  next(next: () => void): void {
    const now = performance.now();
    if (now - this.startedAt < this.budgetMs) {
      next();
      return;
    }
    setImmediate(() => {
      this.startedAt = performance.now();
      next();
    });
  }
}
