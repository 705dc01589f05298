import { median, type ScenarioRow } from '../report.js';
import { withFleet, withGateway, type BenchEnv } from './env.js';

/** Far beyond what the load generator can send: 50 devices as fast as they can. */
const OFFERED_RATE = 200_000;

/**
 * Issue 17's target 3: QoS 0 flat out from 50 devices. What gets through must be fresh (end-to-end
 * p99 <= 100 ms), the rest shed early and counted (by the kernel or the gateway), and the rate
 * delivered no lower than before (measured at 25cbc9a in the same sitting; see the README).
 */
export async function scenario4b(env: BenchEnv): Promise<ScenarioRow> {
  const runs: Array<{ delivered: number; offered: number; lossShare: number; p50: number; p99: number; kernelDrops: number; qos0Shed: number; datagramsShed: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    runs.push(
      await withGateway(
        env,
        async (gateway) => {
          const measured = await withFleet(env, 'sn', gateway.url, env.quick ? 5 : 50, (measure) =>
            measure({ devices: 0, qos: 0, mode: 'paced', rate: env.quick ? 2000 : OFFERED_RATE, window: 0, durationMs: env.quick ? 500 : 5000, payloadSize: 32 }),
          );
          const stats = await gateway.stats();
          return {
            delivered: Math.round(measured.delivered),
            offered: Math.round(measured.offered),
            lossShare: measured.count.lost / measured.load.sent,
            p50: measured.count.latency.p50Ms,
            p99: measured.count.latency.p99Ms,
            kernelDrops: stats.kernelDrops ?? 0,
            qos0Shed: stats.qos0Shed ?? 0,
            datagramsShed: stats.datagramsShed ?? 0,
          };
        },
        undefined,
        true,
      ),
    );
  }
  const p99 = median(runs.map((r) => r.p99));
  return {
    scenario: '4b. QoS 0 flat out, 50 devices',
    metric: 'end-to-end p99',
    unit: 'ms',
    ours: p99,
    target: 'p99 <= 100 ms, shed and counted',
    met: p99 <= 100,
    details: {
      'delivered msg/s': median(runs.map((r) => r.delivered)),
      'offered msg/s': median(runs.map((r) => r.offered)),
      'lost %': Number((100 * median(runs.map((r) => r.lossShare))).toFixed(1)),
      'p50 ms': median(runs.map((r) => r.p50)),
      'kernel drops': median(runs.map((r) => r.kernelDrops)),
      'QoS 0 shed': median(runs.map((r) => r.qos0Shed)),
      'fair-share shed': median(runs.map((r) => r.datagramsShed)),
    },
    runs,
  };
}
