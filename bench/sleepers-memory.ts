/**
 * Memory of sleeping devices' held messages (issue 13): DEVICES sleeping devices x PER held QoS 1
 * messages of 64 bytes, through a real mosquitto, with a data directory. Prints the gateway's RSS
 * idle, with the sleepers, with every message held, after 10 s idle and after waking three of them.
 *   node --import tsx bench/sleepers-memory.ts [DEVICES=10000] [PER=100] [BUNDLE=dist/mqttsn-gateway.mjs]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { SleeperFleet, sleeperTopic } from '../src/bench/sleepers.js';
import { startBroker } from './processes.js';
const devices = Number(process.argv[2] ?? 10000);
const perDevice = Number(process.argv[3] ?? 100);
const bundle = process.argv[4] ?? 'dist/mqttsn-gateway.mjs';
const mosquitto = await startBroker();
const port = 30000 + Math.floor(Math.random() * 20000);
const dataDir = mkdtempSync('/tmp/sleepers-');
const gw = spawn(process.execPath, [bundle, '--broker', mosquitto.url, '--radio', `udp://127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
let lastStatus: { heldForDevices?: number } = {};
let logBytes = 0;
gw.stderr.on('data', (d: Buffer) => {
  logBytes += d.length;
  for (const line of d.toString().split('\n')) if (line.includes('"msg":"status"')) lastStatus = JSON.parse(line);
});
const held = async (): Promise<number> => {
  gw.kill('SIGUSR1');
  await new Promise((r) => setTimeout(r, 200));
  return lastStatus.heldForDevices ?? -1;
};
await new Promise<void>((resolve) => gw.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
const rss = () => Number(readFileSync(`/proc/${gw.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
console.log(`idle ${rss().toFixed(1)} MiB`);
const runId = 'm';
const fleet = new SleeperFleet(`udp://127.0.0.1:${port}`, devices, runId);
await fleet.connect();
console.log(`after ${devices} sleepers ${rss().toFixed(1)} MiB`);
const pub = await mqtt.connectAsync(mosquitto.url, { clientId: 'mem-pub' });
const payload = Buffer.alloc(64, 0x61);
const t0 = Date.now();
for (let m = 0; m < perDevice; m++) {
  const batch: Promise<unknown>[] = [];
  for (let d = 0; d < devices; d++) batch.push(pub.publishAsync(sleeperTopic(runId, d), payload, { qos: 1 }));
  await Promise.all(batch);
}
console.log(`published ${devices * perDevice} in ${Date.now() - t0} ms`);
const t1 = Date.now();
while ((await held()) < devices * perDevice && Date.now() - t1 < 300_000) await new Promise((r) => setTimeout(r, 2000));
console.log(`held ${await held()} of ${devices * perDevice} after ${Date.now() - t0} ms: ${rss().toFixed(1)} MiB`);
await new Promise((r) => setTimeout(r, 10000));
console.log(`after 10 s idle: ${rss().toFixed(1)} MiB`);
console.log(`woken devices got ${(await fleet.wake([0, 1, devices - 1])).join(', ')} messages`);
console.log(`after wake: ${rss().toFixed(1)} MiB`);
fleet.close();
console.log(`log ${logBytes} bytes`);
await pub.endAsync();
gw.kill('SIGTERM');
await new Promise((r) => gw.on('exit', r));
if (process.env.RESTART) {
  // A restart over everything held: how much memory reading it back takes.
  const again = spawn(process.execPath, [bundle, '--broker', mosquitto.url, '--radio', `udp://127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const t2 = Date.now();
  await new Promise<void>((resolve) => again.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
  const status = readFileSync(`/proc/${again.pid}/status`, 'utf8');
  const kib = (field: string): number => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))![1]) / 1024;
  console.log(`restart: ready in ${Date.now() - t2} ms, RSS ${kib('VmRSS').toFixed(1)} MiB, peak ${kib('VmHWM').toFixed(1)} MiB`);
  again.kill('SIGTERM');
  await new Promise((r) => again.on('exit', r));
}
await mosquitto.stop();
process.exit(0);
