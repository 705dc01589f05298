import mqtt from 'mqtt';
import { sleeperTopic } from '../../src/bench/sleepers.js';
import { Loadgen, rssBytes, sleep, waitIdle } from '../processes.js';
import { median, type ScenarioRow } from '../report.js';
import { newRunId, withFleet, withGateway, type BenchEnv } from './env.js';

/** 10,000 connected devices publishing QoS 1 once a second each: end-to-end p99. */
export async function scenario5Active(env: BenchEnv): Promise<ScenarioRow> {
  const devices = env.quick ? 100 : 10_000;
  const runs: Array<{ p50: number; p99: number; rttP99: number; lost: number; delivered: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    runs.push(
      await withGateway(env, (gateway) =>
        withFleet(env, 'sn', gateway.url, devices, async (measure) => {
          const { count, load, delivered } = await measure({ devices: 0, qos: 1, mode: 'paced', rate: devices, window: 0, durationMs: env.quick ? 1000 : 20_000, payloadSize: 32 });
          return { p50: count.latency.p50Ms, p99: count.latency.p99Ms, rttP99: load.rtt.p99Ms, lost: count.lost, delivered: Math.round(delivered) };
        }),
      ),
    );
  }
  const p99 = median(runs.map((r) => r.p99));
  return {
    scenario: `5a. ${devices.toLocaleString('en-US')} active devices, 1 msg/s`,
    metric: 'end-to-end p99',
    unit: 'ms',
    ours: p99,
    target: 'p99 <= 20 ms',
    met: p99 <= 20,
    details: { 'p50 ms': median(runs.map((r) => r.p50)), 'PUBACK RTT p99 ms': median(runs.map((r) => r.rttP99)), 'delivered msg/s': median(runs.map((r) => r.delivered)), lost: Math.max(...runs.map((r) => r.lost)) },
    runs,
  };
}

/** Publishes `perDevice` QoS 1 messages to each sleeper's topic, a window at a time. */
async function fillBuffers(brokerUrl: string, runId: string, devices: number, perDevice: number): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-filler-${runId}`, reconnectPeriod: 0 });
  const payload = Buffer.alloc(32, 0x61);
  const window = 2000;
  let pending: Array<Promise<unknown>> = [];
  for (let round = 0; round < perDevice; round++) {
    for (let device = 0; device < devices; device++) {
      pending.push(client.publishAsync(sleeperTopic(runId, device), payload, { qos: 1 }));
      if (pending.length >= window) {
        await Promise.all(pending);
        pending = [];
      }
    }
  }
  await Promise.all(pending);
  await client.endAsync();
}

/** 100,000 sleeping sessions with 10 buffered messages each: gateway memory per session. */
export async function scenario5Sleeping(env: BenchEnv): Promise<ScenarioRow> {
  const devices = env.quick ? 300 : Number(process.env.BENCH_SLEEPERS ?? 100_000);
  const perDevice = 10;
  const runs: Array<{ bytesPerSession: number; rssMiB: number; baseMiB: number; wokeWith: number[] }> = [];
  for (let run = 0; run < env.runs; run++) {
    runs.push(
      await withGateway(env, async (gateway) => {
        await sleep(500);
        const base = rssBytes(gateway.pid);
        const runId = newRunId();
        const sleepers = await Loadgen.start({ kind: 'sleepers', url: gateway.url, devices, runId });
        try {
          await fillBuffers(env.broker.url, runId, devices, perDevice);
          // The broker has everything; the gateway may still be digesting it. The last device's
          // last message was published last, so once it has all of its own, all have arrived.
          const last = devices - 1;
          let lastGot = 0;
          for (let waited = 0; lastGot < perDevice && waited < 300; waited++) {
            await waitIdle(gateway.pid, 500);
            lastGot += (await sleepers.wake([last]))[0] ?? 0;
          }
          const rss = rssBytes(gateway.pid);
          // Check the buffers are real: the first devices wake and get all their messages.
          const wokeWith = [...(await sleepers.wake([0, 1, 2, 3, 4])), lastGot];
          return { bytesPerSession: Math.round((rss - base) / devices), rssMiB: Math.round(rss / 2 ** 20), baseMiB: Math.round(base / 2 ** 20), wokeWith };
        } finally {
          await sleepers.stop();
        }
      }),
    );
  }
  const perSession = median(runs.map((r) => r.bytesPerSession));
  const rssMiB = median(runs.map((r) => r.rssMiB));
  const complete = runs.every((r) => r.wokeWith.every((n) => n === perDevice));
  return {
    scenario: `5b. ${devices.toLocaleString('en-US')} sleeping x ${perDevice} msgs`,
    metric: 'gateway RSS per session',
    unit: 'bytes',
    ours: perSession,
    target: '100k sessions <= 1 GB',
    met: perSession * 100_000 <= 2 ** 30 && complete,
    details: { 'RSS MiB': rssMiB, 'sessions per 100 MB': Math.floor((100 * 2 ** 20) / perSession), 'woken devices got all': complete ? 'yes' : `NO ${JSON.stringify(runs.map((r) => r.wokeWith))}` },
    runs,
  };
}
