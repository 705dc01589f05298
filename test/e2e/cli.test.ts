import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMosquitto, mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort, output, projectRoot, spawnBin, stop } from '../helpers/processes.js';

const skip = mosquittoSkipReason();
const mosquittoSub = findMosquitto()?.replace(/sbin\/mosquitto$/, 'bin/mosquitto_sub');

/** What the README promises, run as a user would: separate processes, a real broker. */
describe.skipIf(skip)('the executables against a real mosquitto', () => {
  let broker: Mosquitto;
  let gateway: ReturnType<typeof spawnBin>;
  let udpPort: number;

  beforeAll(async () => {
    broker = await startMosquitto();
    udpPort = await freeUdpPort();
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-cli-data-'));
    gateway = spawnBin('mqttsn-gateway', ['--broker', broker.url, '--radio', `udp://127.0.0.1:${udpPort}`, '--predefined', '7=plant/pump', '--log-level', 'warn', '--data-dir', dataDir]);
    await output(gateway).waitFor(/mqttsn-gateway ready: udp:\/\/127\.0\.0\.1:\d+ -> mqtt:\/\/127\.0\.0\.1:\d+/);
  }, 30_000);

  afterAll(async () => {
    await stop(gateway);
    await broker.stop();
  });

  it('mqttsn pub through the gateway shows the message on mosquitto_sub', async () => {
    const sub = spawn(mosquittoSub ?? 'mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'sensors/#', '-v', '-C', '2', '-W', '20']);
    const subOut = output(sub);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let mosquitto_sub subscribe
    const pub = spawnBin('mqttsn', ['pub', '--gateway', `udp://127.0.0.1:${udpPort}`, '-t', 'sensors/kitchen/temp', '-m', '21.5', '-q', '1']);
    expect(await output(pub).exit).toBe(0);
    const pub0 = spawnBin('mqttsn', ['pub', '--gateway', `udp://127.0.0.1:${udpPort}`, '-t', 'sensors/hall', '-m', 'qos zero', '-q', '0']);
    expect(await output(pub0).exit).toBe(0);
    expect(await subOut.exit).toBe(0);
    expect(subOut.stdout().trim().split('\n').sort()).toEqual(['sensors/hall qos zero', 'sensors/kitchen/temp 21.5']);
  }, 30_000);

  it('mqttsn sub receives what a plain MQTT client publishes at the broker, QoS -1 included', async () => {
    const sub = spawnBin('mqttsn', ['sub', '--gateway', `udp://127.0.0.1:${udpPort}`, '-t', 'plant/#', '-q', '1', '-n', '2']);
    const subOut = output(sub);
    let stderr = '';
    sub.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    for (let i = 0; i < 100 && !stderr.includes('subscribed'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const mosquittoPub = findMosquitto()?.replace(/sbin\/mosquitto$/, 'bin/mosquitto_pub') ?? 'mosquitto_pub';
    const brokerPub = spawn(mosquittoPub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'plant/valve', '-m', 'open', '-q', '1']);
    expect(await output(brokerPub).exit).toBe(0);
    const qosMinusOne = spawnBin('mqttsn', ['pub', '--gateway', `udp://127.0.0.1:${udpPort}`, '-t', 'plant/pump', '-m', 'on', '-q', '-1', '--predefined', '7=plant/pump']);
    expect(await output(qosMinusOne).exit).toBe(0);
    expect(await subOut.exit).toBe(0);
    expect(subOut.stdout().trim().split('\n')).toEqual(['plant/valve open', 'plant/pump on']);
  }, 30_000);
});

describe('mqttsn-gateway command line', () => {
  it('--help lists every flag', async () => {
    const help = spawnBin('mqttsn-gateway', ['--help']);
    const out = output(help);
    expect(await out.exit).toBe(0);
    for (const flag of ['--config', '--radio', '--broker', '--embedded-port', '--predefined', '--gateway-id', '--log-level', '--data-dir']) {
      expect(out.stdout()).toContain(flag);
    }
  });

  it('--help states each default once', async () => {
    const out = output(spawnBin('mqttsn-gateway', ['--help']));
    expect(await out.exit).toBe(0);
    expect(out.stdout()).toContain('(default 60)');
    expect(out.stdout()).not.toContain('(default: "'); // commander's own, after ours
  });

  it('--version prints the package version, for both executables', async () => {
    const { version } = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    for (const name of ['mqttsn-gateway', 'mqttsn'] as const) {
      const out = output(spawnBin(name, ['--version']));
      expect(await out.exit).toBe(0);
      expect(out.stdout()).toBe(`${version}\n`);
    }
  });

  it('a TLS file that cannot be read stops the start with one line naming it and the field', async () => {
    const path = join(tmpdir(), `mqttsn-tls-${process.pid}.yaml`);
    await writeFile(path, 'broker:\n  url: mqtts://127.0.0.1:8883\n  tls:\n    ca: /nonexistent/ca.pem\n');
    const out = output(spawnBin('mqttsn-gateway', ['--config', path, '--radio', 'udp://127.0.0.1:0', '--data-dir', 'none']));
    expect(await out.exit).toBe(1);
    expect(out.stderr()).toBe("mqttsn-gateway: cannot read the TLS CA file /nonexistent/ca.pem (broker.tls.ca): ENOENT: no such file or directory, open '/nonexistent/ca.pem'\n");
  });

  it('a bad config file exits 1 naming the field and what is allowed', async () => {
    const path = join(tmpdir(), `mqttsn-bad-${process.pid}.yaml`);
    await writeFile(path, 'limits:\n  maxInflite: 3\n');
    const bad = spawnBin('mqttsn-gateway', ['--config', path]);
    const out = output(bad);
    expect(await out.exit).toBe(1);
    expect(out.stderr()).toContain('unknown field "maxInflite" in limits; allowed fields: maxClients, maxInflight');
    expect(out.stderr()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
