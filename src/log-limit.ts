/**
 * Log lines per kind (level + message text), at most `perWindow` in each `windowMs`: a device
 * that makes the gateway log once per datagram must not fill a Pi's SD card. The first line of
 * a kind after a window in which some were suppressed carries `suppressed: N`; `flush` reports
 * kinds that went quiet with lines still untold.
 */
export interface LogLimitOptions {
  readonly perWindow: number;
  readonly windowMs: number;
  /** Kinds tracked at once; beyond it, further kinds share one budget (message texts are a fixed set, bar interpolations). */
  readonly maxKinds?: number;
  readonly now?: () => number;
}

interface Kind {
  windowStart: number;
  logged: number;
  suppressed: number;
}

export type Verdict = { readonly log: false } | { readonly log: true; readonly suppressedBefore: number };

export class LogLimiter {
  private readonly kinds = new Map<string, Kind>();
  private readonly now: () => number;
  private readonly maxKinds: number;

  constructor(private readonly options: LogLimitOptions) {
    this.now = options.now ?? Date.now;
    this.maxKinds = options.maxKinds ?? 1000;
  }

  /** Whether a line of this kind may be written now, and how many were suppressed before it. */
  admit(kindKey: string): Verdict {
    const now = this.now();
    const key = this.kinds.has(kindKey) || this.kinds.size < this.maxKinds ? kindKey : '(other)';
    let kind = this.kinds.get(key);
    if (!kind) this.kinds.set(key, (kind = { windowStart: now, logged: 0, suppressed: 0 }));
    if (now - kind.windowStart >= this.options.windowMs) {
      kind.windowStart = now;
      kind.logged = 0;
    }
    if (kind.logged >= this.options.perWindow) {
      kind.suppressed++;
      return { log: false };
    }
    kind.logged++;
    const suppressedBefore = kind.suppressed;
    kind.suppressed = 0;
    return { log: true, suppressedBefore };
  }

  /** Kinds whose window ended with lines suppressed: reported once, then forgotten. */
  flush(): Array<{ key: string; suppressed: number }> {
    const now = this.now();
    const due: Array<{ key: string; suppressed: number }> = [];
    for (const [key, kind] of this.kinds) {
      if (now - kind.windowStart < this.options.windowMs) continue;
      if (kind.suppressed > 0) due.push({ key, suppressed: kind.suppressed });
      this.kinds.delete(key); // quiet kinds are dropped, so the table holds only recent ones
    }
    return due;
  }
}
