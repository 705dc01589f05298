import { rssBytes, sleep } from '../processes.js';
import { median, type ScenarioRow } from '../report.js';
import { withGateway, type BenchEnv } from './env.js';

/** Idle memory and time from start to ready, of the gateway process alone. */
export async function scenario6(env: BenchEnv): Promise<ScenarioRow> {
  const runs: Array<{ readyMs: number; idleMiB: number }> = [];
  for (let run = 0; run < Math.max(3, env.runs); run++) {
    runs.push(
      await withGateway(env, async (gateway) => {
        await sleep(env.quick ? 300 : 2000);
        return { readyMs: Math.round(gateway.readyMs), idleMiB: Math.round((rssBytes(gateway.pid) / 2 ** 20) * 10) / 10 };
      }),
    );
  }
  const idle = median(runs.map((r) => r.idleMiB));
  const ready = median(runs.map((r) => r.readyMs));
  return {
    scenario: '6. Footprint',
    metric: 'idle RSS',
    unit: 'MiB',
    ours: idle,
    target: '<= 60 MB, ready <= 1.5 s',
    met: idle <= 60 && ready <= 1500,
    details: { 'ready ms': ready },
    runs,
  };
}
