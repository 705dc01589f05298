/**
 * Retry delays (broker reconnects, serial ports reopened): exponential from `initialMs` up to `maxMs`, with "equal jitter" (each delay
 * is drawn between half and all of the exponential step). After a broker restart, a fleet of
 * gateways then spreads its reconnects instead of arriving in one wave. Pure: the random source
 * is injected.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt; each call doubles the step until it reaches `maxMs`. */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(step / 2 + (step / 2) * this.random());
  }

  /** After a successful connection: the next outage starts from `initialMs` again. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failed attempts since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}
