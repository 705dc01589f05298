import { randomBytes } from 'node:crypto';
import { BenchCounter } from '../../bench/counter.js';
import type { LoadSpec } from '../../bench/fleet.js';
import { SnFleet } from '../../bench/sn-fleet.js';
import type { CliIo } from './io.js';

export interface BenchOptions {
  readonly gateway: string;
  /** The broker the gateway forwards to; a subscriber there counts what arrived. */
  readonly broker: string;
  readonly devices: number;
  readonly qos: 0 | 1;
  /** Total offered msg/s; ignored when `window` is set. */
  readonly rate: number;
  /** QoS 1 flat out with this many messages in flight per device. */
  readonly window?: number | undefined;
  readonly duration: number;
  readonly payloadSize: number;
  readonly json: boolean;
}

/**
 * `mqttsn bench`: simulated devices (one UDP socket and client ID each) load a running gateway,
 * and a subscriber at its broker counts every message: loss, duplicates, order and latency.
 */
export async function runBench(options: BenchOptions, io: CliIo): Promise<void> {
  const runId = randomBytes(3).toString('hex');
  const counter = new BenchCounter(options.broker, `bench/${runId}/#`, 0);
  await counter.start();
  const fleet = new SnFleet(options.gateway, options.devices, runId);
  try {
    io.err(`connecting ${options.devices} devices to ${options.gateway}...`);
    await fleet.connect();
    const spec: LoadSpec = {
      devices: options.devices,
      qos: options.window !== undefined ? 1 : options.qos,
      mode: options.window !== undefined ? 'window' : 'paced',
      rate: options.rate,
      window: options.window ?? 0,
      durationMs: options.duration * 1000,
      payloadSize: Math.max(16, options.payloadSize),
      runId,
    };
    io.err('warming up for 1 s...');
    await fleet.run({ ...spec, durationMs: 1000 });
    await counter.drain(Number.MAX_SAFE_INTEGER, 300, 5000);
    counter.reset();
    io.err(`measuring for ${options.duration} s...`);
    const load = await fleet.run(spec);
    await counter.drain(load.sent);
    const count = counter.result(load.seqFrom, load.seqTo);
    const seconds = (load.endedAt - load.startedAt) / 1000;
    const summary = {
      devices: options.devices,
      qos: spec.qos,
      mode: spec.mode,
      offeredPerSecond: Math.round(load.sent / seconds),
      deliveredPerSecond: Math.round(count.unique / Math.max(seconds, (count.lastAt - load.startedAt) / 1000)),
      sent: load.sent,
      delivered: count.unique,
      lost: count.lost,
      lossPercent: Math.round((count.lost / Math.max(1, load.sent)) * 10000) / 100,
      duplicates: count.duplicates,
      outOfOrder: count.outOfOrder,
      latencyMs: { p50: count.latency.p50Ms, p99: count.latency.p99Ms, max: count.latency.maxMs },
      ...(spec.qos === 1 ? { pubackRttMs: { p50: load.rtt.p50Ms, p99: load.rtt.p99Ms }, rejected: load.rejected, retries: load.retries } : {}),
    };
    if (options.json) {
      io.out(JSON.stringify(summary));
      return;
    }
    io.out(`offered      ${summary.offeredPerSecond} msg/s (${summary.sent} messages, ${options.devices} devices, QoS ${spec.qos}${spec.mode === 'window' ? `, window ${spec.window}` : ''})`);
    io.out(`delivered    ${summary.deliveredPerSecond} msg/s at the broker`);
    io.out(`lost         ${summary.lost} (${summary.lossPercent}%), duplicates ${summary.duplicates}, out of order ${summary.outOfOrder}`);
    io.out(`latency      p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, max ${summary.latencyMs.max} ms (device to broker subscriber)`);
    if (spec.qos === 1) {
      io.out(`PUBACK RTT   p50 ${load.rtt.p50Ms} ms, p99 ${load.rtt.p99Ms} ms; rejected ${JSON.stringify(load.rejected)}, retransmissions ${load.retries}`);
    }
  } finally {
    await fleet.close();
    await counter.close();
  }
}
