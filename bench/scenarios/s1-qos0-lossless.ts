import { median, type ScenarioRow } from '../report.js';
import { withFleet, withGateway, type BenchEnv } from './env.js';

const DEVICES = 50;
const MAX_LOSS = 0.001;

/** Highest offered rate with loss <= 0.1%: steps up, then bisects between the last good and first bad rate. */
async function highestLossless(env: BenchEnv, kind: 'sn' | 'mqtt', url: string): Promise<{ rate: number; loadgenBound: boolean }> {
  const steps = env.quick ? [200, 400] : [5_000, 10_000, 20_000, 30_000, 40_000, 60_000, 80_000, 100_000, 130_000, 160_000, 200_000, 250_000];
  const durationMs = env.quick ? 500 : 3000;
  return withFleet(env, kind, url, env.quick ? 5 : DEVICES, async (measure) => {
    const lossless = async (rate: number): Promise<'ok' | 'loss' | 'loadgen'> => {
      const { load, count, offered } = await measure({ devices: 0, qos: 0, mode: 'paced', rate, window: 0, durationMs, payloadSize: 32 });
      if (count.lost / Math.max(1, load.sent) > MAX_LOSS) return 'loss';
      return offered < rate * 0.95 ? 'loadgen' : 'ok';
    };
    let good = 0;
    let bad: number | undefined;
    for (const rate of steps) {
      const outcome = await lossless(rate);
      if (outcome === 'ok') good = rate;
      else if (outcome === 'loadgen') return { rate: good, loadgenBound: true };
      else {
        bad = rate;
        break;
      }
    }
    if (bad === undefined || env.quick) return { rate: good, loadgenBound: false };
    let high: number = bad;
    for (let i = 0; i < 2; i++) {
      const middle: number = Math.round((good + high) / 2 / 1000) * 1000;
      if (middle <= good || middle >= high) break;
      if ((await lossless(middle)) === 'ok') good = middle;
      else high = middle;
    }
    return { rate: good, loadgenBound: false };
  });
}

export async function scenario1(env: BenchEnv): Promise<ScenarioRow> {
  const runs: Array<{ ours: number; direct: number; loadgenBound: boolean }> = [];
  for (let run = 0; run < env.runs; run++) {
    const ours = await withGateway(env, (gateway) => highestLossless(env, 'sn', gateway.url));
    const direct = await highestLossless(env, 'mqtt', env.broker.url);
    runs.push({ ours: ours.rate, direct: direct.rate, loadgenBound: ours.loadgenBound || direct.loadgenBound });
  }
  const ours = median(runs.map((r) => r.ours));
  const direct = median(runs.map((r) => r.direct));
  env.results.set('s1.ours', ours);
  const ratio = ours / direct;
  return {
    scenario: '1. QoS 0 lossless rate, 50 devices',
    metric: 'max rate, loss <= 0.1%',
    unit: 'msg/s',
    ours,
    direct,
    ratio,
    target: 'ours >= 25% of direct',
    met: ratio >= 0.25,
    details: runs.some((r) => r.loadgenBound) ? { note: 'load generator could not offer more' } : {},
    runs,
  };
}
