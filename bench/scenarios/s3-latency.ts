import { median, type ScenarioRow } from '../report.js';
import { withFleet, withGateway, type BenchEnv, type Measured } from './env.js';

/** 50 devices x 400/s: issue 17's target 2, lossless with p99 <= 2x direct (10,000/s before). */
const RATE = 20_000;

async function atRate(env: BenchEnv, kind: 'sn' | 'mqtt', url: string): Promise<Measured> {
  return withFleet(env, kind, url, env.quick ? 5 : 50, (measure) =>
    measure({ devices: 0, qos: 0, mode: 'paced', rate: env.quick ? 500 : RATE, window: 0, durationMs: env.quick ? 500 : 5000, payloadSize: 32 }),
  );
}

export async function scenario3(env: BenchEnv): Promise<ScenarioRow> {
  const runs: Array<{ oursP50: number; oursP99: number; directP50: number; directP99: number; oursLost: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    const ours = await withGateway(env, (gateway) => atRate(env, 'sn', gateway.url));
    const direct = await atRate(env, 'mqtt', env.broker.url);
    runs.push({ oursP50: ours.count.latency.p50Ms, oursP99: ours.count.latency.p99Ms, directP50: direct.count.latency.p50Ms, directP99: direct.count.latency.p99Ms, oursLost: ours.count.lost });
  }
  const ours = median(runs.map((r) => r.oursP99));
  const direct = median(runs.map((r) => r.directP99));
  return {
    scenario: `3. Latency, QoS 0 at ${env.quick ? 500 : RATE}/s`,
    metric: 'end-to-end p99',
    unit: 'ms',
    ours,
    direct,
    ratio: ours / direct,
    target: 'ours <= 2x direct, lossless',
    met: ours <= 2 * direct && runs.every((r) => r.oursLost === 0),
    details: { 'p50 ms': median(runs.map((r) => r.oursP50)), 'direct p50 ms': median(runs.map((r) => r.directP50)), lost: Math.max(...runs.map((r) => r.oursLost)) },
    runs,
  };
}
