import type { LatencySummary } from './histogram.js';

/** What one load run does. `rate` is the total offered msg/s (paced); `window` the in-flight QoS 1 per device. */
export interface LoadSpec {
  readonly devices: number;
  readonly qos: 0 | 1;
  readonly mode: 'paced' | 'window';
  readonly rate: number;
  readonly window: number;
  readonly durationMs: number;
  readonly payloadSize: number;
  /** Topics are `bench/RUN/DEVICE`, so runs never mix at the counter. */
  readonly runId: string;
}

export interface LoadResult {
  /** Per device, the sequence numbers sent in this run: `seqFrom[i]` up to (excluding) `seqTo[i]`. */
  readonly seqFrom: number[];
  readonly seqTo: number[];
  readonly sent: number;
  /** QoS 1 acknowledgements with "accepted". */
  readonly acked: number;
  /** QoS 1 acknowledgements by non-zero return code, e.g. `{ "1": 12 }` for congestion. */
  readonly rejected: Record<string, number>;
  /** QoS 1 messages resent because no acknowledgement came in time. */
  readonly retries: number;
  /** Time from sending a QoS 1 message to its accepted acknowledgement. */
  readonly rtt: LatencySummary;
  readonly startedAt: number;
  /** When the last new message was sent. */
  readonly endedAt: number;
}

/** A set of simulated devices (MQTT-SN over UDP, or direct MQTT clients for the reference). */
export interface Fleet {
  connect(): Promise<void>;
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): Promise<void>;
}

export function benchTopic(runId: string, device: number): string {
  return `bench/${runId}/${device}`;
}

/**
 * Calls `send(device)` at `rate` msg/s in total, round-robin over `devices`, for `durationMs`.
 * Catches up in bounded bursts when the event loop falls behind, so the offered rate holds.
 */
export function pace(devices: number, rate: number, durationMs: number, send: (device: number) => void, now: () => number): Promise<{ sent: number; startedAt: number; endedAt: number }> {
  const startedAt = now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const elapsed = now() - startedAt;
      const target = Math.floor((rate * Math.min(elapsed, durationMs)) / 1000);
      const burst = Math.min(target - sent, 5000);
      for (let i = 0; i < burst; i++) send(sent++ % devices);
      if (elapsed >= durationMs && sent >= target) {
        resolve({ sent, startedAt, endedAt: now() });
        return;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}
