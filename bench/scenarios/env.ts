import { BenchCounter } from '../../src/bench/counter.js';
import type { LoadResult, LoadSpec } from '../../src/bench/fleet.js';
import type { CountResult } from '../../src/bench/counter.js';
import { Loadgen, startGateway, type GatewayProcess, type Service } from '../processes.js';

/** What every scenario gets: the broker, the run count, the quick switch and earlier results. */
export interface BenchEnv {
  readonly broker: Service;
  readonly runs: number;
  /** Tiny numbers: a smoke run that checks the machinery, not the speed. */
  readonly quick: boolean;
  /** Headline figures of earlier scenarios (scenario 4 builds on scenario 1). */
  readonly results: Map<string, number>;
}

let runCounter = 0;
export function newRunId(): string {
  return `r${process.pid}x${++runCounter}`;
}

/** Gateway settings for benchmarks: limits high enough that only real overload says congestion. */
export const BENCH_GATEWAY_CONFIG = ['limits:', '  maxClients: 200000', 'buffer:', '  maxMessages: 1000', 'timers:', '  retryMs: 5000', ''].join('\n');

/** The gateway with the bench settings; `dtlsConfig` (the config's `dtls:` section) makes its radio dtls://. */
export async function withGateway<T>(env: BenchEnv, body: (gateway: GatewayProcess) => Promise<T>, dtlsConfig?: string, monitor = false): Promise<T> {
  const gateway = await startGateway(env.broker.url, BENCH_GATEWAY_CONFIG + (dtlsConfig ?? ''), dtlsConfig ? 'dtls' : 'udp', monitor);
  try {
    return await body(gateway);
  } finally {
    await gateway.stop();
  }
}

export interface Measured {
  readonly load: LoadResult;
  readonly count: CountResult;
  /** Messages per second offered by the load generator (what it managed to send). */
  readonly offered: number;
  /** Unique messages per second delivered to the broker-side subscriber. */
  readonly delivered: number;
}

/**
 * A fleet (MQTT-SN through `gatewayUrl`, or direct MQTT when it is undefined) and a counter on
 * its topics, ready to run specs one after another.
 */
export async function withFleet<T>(env: BenchEnv, kind: 'sn' | 'mqtt', url: string, devices: number, body: (measure: (spec: Omit<LoadSpec, 'runId'>) => Promise<Measured>, connectMs: number | undefined) => Promise<T>, keepAlive = 0): Promise<T> {
  const runId = newRunId();
  const counter = new BenchCounter(env.broker.url, `bench/${runId}/#`, 0);
  await counter.start();
  const loadgen = await Loadgen.start({ kind, url, devices, runId, keepAlive });
  let warm = false;
  try {
    return await body(async (spec) => {
      if (!warm) {
        // A first second of load, not counted: JIT compilation and first allocations in every
        // process would otherwise land in the percentiles of whichever scenario runs first.
        warm = true;
        await loadgen.run({ ...spec, runId, durationMs: Math.min(1000, spec.durationMs) });
        await counter.drain(Number.MAX_SAFE_INTEGER, 300, 5000);
      }
      counter.reset();
      const load = await loadgen.run({ ...spec, runId });
      await counter.drain(load.sent);
      const count = counter.result(load.seqFrom, load.seqTo);
      const seconds = Math.max(1e-3, (load.endedAt - load.startedAt) / 1000);
      const deliveredSeconds = Math.max(seconds, (count.lastAt - load.startedAt) / 1000);
      return { load, count, offered: load.sent / seconds, delivered: count.unique / deliveredSeconds };
    }, loadgen.connectMs);
  } finally {
    await loadgen.stop();
    await counter.close();
  }
}
