/**
 * One measurement, for investigating: `node --import tsx bench/probe.ts --kind sn --rate 10000`.
 * BENCH_GATEWAY_NODE_FLAGS="--cpu-prof" profiles the gateway process (written in its temp dir).
 */
import { parseArgs } from 'node:util';
import { startBroker } from './processes.js';
import { withFleet, withGateway, type BenchEnv } from './scenarios/env.js';

const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: 'sn' },
    rate: { type: 'string', default: '10000' },
    qos: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'paced' },
    devices: { type: 'string', default: '50' },
    window: { type: 'string', default: '10' },
    duration: { type: 'string', default: '5000' },
  },
});
const broker = await startBroker();
const env: BenchEnv = { broker, runs: 1, quick: false, results: new Map() };
const kind = values.kind === 'mqtt' ? 'mqtt' : 'sn';
const spec = { devices: 0, qos: Number(values.qos) as 0 | 1, mode: values.mode as 'paced' | 'window', rate: Number(values.rate), window: Number(values.window), durationMs: Number(values.duration), payloadSize: 32 };
const measured =
  kind === 'sn'
    ? await withGateway(env, (gateway) => withFleet(env, 'sn', gateway.url, Number(values.devices), (measure) => measure(spec)))
    : await withFleet(env, 'mqtt', broker.url, Number(values.devices), (measure) => measure(spec));
const { load, count, offered, delivered } = measured;
console.log(JSON.stringify({ offered: Math.round(offered), delivered: Math.round(delivered), sent: load.sent, lost: count.lost, dups: count.duplicates, outOfOrder: count.outOfOrder, latency: count.latency, rtt: load.rtt, rejected: load.rejected, retries: load.retries }));
await broker.stop();
process.exit(0);
