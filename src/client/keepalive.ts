/**
 * Calls `tick` every `seconds` while started; the timer is unref'd so an idle connected client
 * never keeps the process alive on its own. `seconds` 0 disables it (no supervision, §5.4.4).
 */
export class KeepAlive {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly seconds: number,
    private readonly tick: () => void,
  ) {}

  start(): void {
    this.stop();
    if (this.seconds <= 0) return;
    this.timer = setInterval(this.tick, this.seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
