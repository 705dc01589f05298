import { BenchCounter } from '../../src/bench/counter.js';
import { Loadgen } from '../processes.js';
import { median, type ScenarioRow } from '../report.js';
import { newRunId, withGateway, type BenchEnv } from './env.js';

/**
 * Twice the lossless QoS 0 rate for 10 s while QoS 1 devices keep publishing: the gateway must
 * keep delivering (no collapse) and tell QoS 1 devices "rejected: congestion" rather than
 * leave them to time out.
 */
export async function scenario4(env: BenchEnv): Promise<ScenarioRow> {
  const lossless = env.results.get('s1.ours') ?? (env.quick ? 400 : 20_000);
  const rate = 2 * lossless;
  const durationMs = env.quick ? 500 : 10_000;
  const runs: Array<{ delivered: number; qos1Acked: number; congestion: number; retries: number; qos1Lost: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    runs.push(
      await withGateway(env, async (gateway) => {
        const floodId = newRunId();
        const qos1Id = newRunId();
        const floodCounter = new BenchCounter(env.broker.url, `bench/${floodId}/#`);
        const qos1Counter = new BenchCounter(env.broker.url, `bench/${qos1Id}/#`);
        await floodCounter.start();
        await qos1Counter.start();
        const flood = await Loadgen.start({ kind: 'sn', url: gateway.url, devices: env.quick ? 5 : 50, runId: floodId });
        const qos1 = await Loadgen.start({ kind: 'sn', url: gateway.url, devices: env.quick ? 2 : 10, runId: qos1Id });
        try {
          const [floodLoad, qos1Load] = await Promise.all([
            flood.run({ devices: 0, qos: 0, mode: 'paced', rate, window: 0, durationMs, payloadSize: 32, runId: floodId }),
            qos1.run({ devices: 0, qos: 1, mode: 'window', rate: 0, window: 10, durationMs, payloadSize: 32, runId: qos1Id }),
          ]);
          await floodCounter.drain(floodLoad.sent);
          await qos1Counter.drain(qos1Load.sent);
          const floodCount = floodCounter.result(floodLoad.seqFrom, floodLoad.seqTo);
          const qos1Count = qos1Counter.result(qos1Load.seqFrom, qos1Load.seqTo);
          const seconds = (floodLoad.endedAt - floodLoad.startedAt) / 1000;
          return { delivered: Math.round(floodCount.unique / seconds), qos1Acked: qos1Load.acked, congestion: qos1Load.rejected['1'] ?? 0, retries: qos1Load.retries, qos1Lost: qos1Count.lost };
        } finally {
          await flood.stop();
          await qos1.stop();
          await floodCounter.close();
          await qos1Counter.close();
        }
      }),
    );
  }
  const delivered = median(runs.map((r) => r.delivered));
  const congestion = median(runs.map((r) => r.congestion));
  const retries = median(runs.map((r) => r.retries));
  return {
    scenario: `4. Overload, QoS 0 at ${rate}/s`,
    metric: 'QoS 0 delivered',
    unit: 'msg/s',
    ours: delivered,
    ratio: delivered / lossless,
    target: '>= 80% of lossless, congestion codes',
    met: delivered >= 0.8 * lossless && (congestion > 0 || retries === 0),
    details: { 'lossless rate': lossless, 'QoS 1 acked': median(runs.map((r) => r.qos1Acked)), 'congestion rc': congestion, 'QoS 1 timeouts': retries, 'QoS 1 lost': Math.max(...runs.map((r) => r.qos1Lost)) },
    runs,
  };
}
