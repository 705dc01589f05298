/**
 * The gateway's resident memory through a campaign. "Flat memory" is judged against the sample
 * taken once warm-up is over (sockets, caches, the JIT settled, sessions and buffers at their
 * bounds), not against the idle process at start, which is always smaller.
 */
export interface RssFigures {
  readonly startKb: number | undefined;
  /** First sample once WARMUP_SHARE of the datagrams were sent. */
  readonly warmupKb: number | undefined;
  readonly maxKb: number | undefined;
  /** Right after the last datagram. */
  readonly endKb: number | undefined;
  /** After the settle and idle periods. */
  readonly idleKb: number | undefined;
  readonly samples: number;
}

/**
 * Half-way: by then the gateway's bounded state is full (buffers at the campaign's bounds, about
 * 4,000 sessions: limits.sessionsPerAddress per source address), so growth from here on is not
 * state filling its bounds but what a leak would show.
 */
export const WARMUP_SHARE = 0.5;

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly marks: { -readonly [K in keyof RssFigures]: RssFigures[K] } = { startKb: undefined, warmupKb: undefined, maxKb: undefined, endKb: undefined, idleKb: undefined, samples: 0 };

  constructor(private readonly read: () => number | undefined, private readonly everyMs = 500) {}

  /** `progress` is the share of datagrams sent so far (0..1). */
  start(progress: () => number): void {
    this.marks.startKb = this.sample();
    this.timer = setInterval(() => {
      const kb = this.sample();
      if (this.marks.warmupKb === undefined && progress() >= WARMUP_SHARE) this.marks.warmupKb = kb;
    }, this.everyMs);
  }

  mark(which: 'end' | 'idle'): void {
    this.marks[which === 'end' ? 'endKb' : 'idleKb'] = this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  figures(): RssFigures {
    return { ...this.marks };
  }

  private sample(): number | undefined {
    const kb = this.read();
    if (kb !== undefined) {
      this.marks.samples++;
      this.marks.maxKb = Math.max(this.marks.maxKb ?? 0, kb);
    }
    return kb;
  }
}
