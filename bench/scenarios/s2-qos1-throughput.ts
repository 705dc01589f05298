import { median, type ScenarioRow } from '../report.js';
import { withFleet, withGateway, type BenchEnv, type Measured } from './env.js';

/** QoS 1 flat out: `devices` devices (50, or 1 for the per-device round trip), 10 in flight each. */
async function flatOut(env: BenchEnv, kind: 'sn' | 'mqtt', url: string, devices: number): Promise<Measured> {
  return withFleet(env, kind, url, env.quick ? Math.min(devices, 5) : devices, (measure) =>
    measure({ devices: 0, qos: 1, mode: 'window', rate: 0, window: 10, durationMs: env.quick ? 500 : 5000, payloadSize: 32 }),
  );
}

/** Scenario 2: 50 devices. */
export function scenario2(env: BenchEnv): Promise<ScenarioRow> {
  return qos1FlatOut(env, 50, '2. QoS 1 flat out, 50 dev x 10');
}

/** Scenario 2b: one device, whose PUBACK round trip is how long a battery device keeps its radio on (issue 17). */
export function scenario2b(env: BenchEnv): Promise<ScenarioRow> {
  return qos1FlatOut(env, 1, '2b. QoS 1 flat out, 1 dev x 10');
}

/** Issue 17's target: delivered >= 80% of direct MQTT in the same run. */
async function qos1FlatOut(env: BenchEnv, devices: number, title: string): Promise<ScenarioRow> {
  const runs: Array<{ ours: number; direct: number; oursRttP50: number; oursRttP99: number; directRttP50: number; directRttP99: number; oursLost: number; congestion: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    const ours = await withGateway(env, (gateway) => flatOut(env, 'sn', gateway.url, devices));
    const direct = await flatOut(env, 'mqtt', env.broker.url, devices);
    runs.push({
      ours: Math.round(ours.delivered),
      direct: Math.round(direct.delivered),
      oursRttP50: ours.load.rtt.p50Ms,
      oursRttP99: ours.load.rtt.p99Ms,
      directRttP50: direct.load.rtt.p50Ms,
      directRttP99: direct.load.rtt.p99Ms,
      oursLost: ours.count.lost,
      congestion: ours.load.rejected['1'] ?? 0,
    });
  }
  const ours = median(runs.map((r) => r.ours));
  const direct = median(runs.map((r) => r.direct));
  return {
    scenario: title,
    metric: 'delivered',
    unit: 'msg/s',
    ours,
    direct,
    ratio: ours / direct,
    target: 'ours >= 80% of direct',
    met: ours / direct >= 0.8,
    details: {
      'PUBACK RTT p50 ms': median(runs.map((r) => r.oursRttP50)),
      'p99 ms': median(runs.map((r) => r.oursRttP99)),
      'direct p50 ms': median(runs.map((r) => r.directRttP50)),
      'direct p99 ms': median(runs.map((r) => r.directRttP99)),
      lost: Math.max(...runs.map((r) => r.oursLost)),
    },
    runs,
  };
}
