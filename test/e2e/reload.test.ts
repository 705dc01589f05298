import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort, output, projectRoot, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';
import { until } from '../helpers/until.js';

const connect = (device: RawDevice, clientId: string): Promise<number> => {
  device.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId });
  return device.expect('connack').then((connack) => connack.returnCode);
};

/** SIGHUP as `systemctl reload` sends it, to the shipped gateway, with real devices on UDP. */
describe('SIGHUP re-reads the config file', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function start(yaml: (port: number) => string) {
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-reload-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yaml');
    const port = await freeUdpPort();
    await writeFile(file, yaml(port));
    const gateway = spawnBin('mqttsn-gateway', ['--config', file, '--embedded-port', '0', '--data-dir', 'none', '--log-format', 'json']);
    cleanup.push(() => stop(gateway));
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway ready/);
    const rewrite = (text: string) => writeFile(file, text);
    return { gateway, out, port, file, rewrite };
  }

  it('applies access rules, limits and log level live, disconnects devices the new rules refuse, and names what needs a restart', async () => {
    const config = (port: number, clients: string, maxClients: number, level: string, extraRadio = '') =>
      `radios:\n  - udp://127.0.0.1:${port}\n${extraRadio}access:\n  clients: [${clients}]\nlimits:\n  maxClients: ${maxClients}\nlogLevel: ${level}\n`;
    const { gateway, out, port, file, rewrite } = await start((p) => config(p, "'dev-*', 'old-*'", 100, 'info'));
    const old = await RawDevice.open(port);
    cleanup.push(async () => old.close());
    expect(await connect(old, 'old-1')).toBe(0);

    await rewrite(config(port, "'dev-*'", 1, 'debug', '  - udp://127.0.0.1:0\n'));
    gateway.kill('SIGHUP');
    await old.expect('disconnect'); // no longer allowed: it may not stay on by having connected first
    await until(() => out.stderr().includes('SIGHUP'), () => `the reload log line; stderr: ${out.stderr()}`);
    const line = JSON.parse(out.stderr().split('\n').find((entry) => entry.includes('SIGHUP'))!) as { msg: string; applied: string[]; needsRestart: string[]; disconnected: string[] };
    expect(line.msg).toBe(`SIGHUP: ${file} re-read: applied access, limits, logLevel; disconnected 1 device(s) the new access rules refuse; changed but needs a restart: radios`);
    expect(line.disconnected).toEqual(['old-1']);

    const devices = await Promise.all([RawDevice.open(port), RawDevice.open(port), RawDevice.open(port)]);
    cleanup.push(async () => devices.forEach((device) => device.close()));
    const [stranger, first, second] = devices as [RawDevice, RawDevice, RawDevice];
    expect(await connect(stranger, 'old-2')).toBe(0x03); // access: not supported
    expect(await connect(first, 'dev-1')).toBe(0);
    expect(await connect(second, 'dev-2')).toBe(0x01); // limits.maxClients is now 1: congestion
    // logLevel went from info to debug: connects are logged now, and were not before.
    await until(() => /"level":20[^\n]*"clientId":"dev-1"[^\n]*"client connected"/.test(out.stderr()), () => `a debug line for dev-1; stderr: ${out.stderr()}`);
    expect(out.stderr()).not.toMatch(/"clientId":"old-1"[^\n]*"client connected"/);
  });

  it('a file that does not validate changes nothing and says why; the gateway keeps serving', async () => {
    const { gateway, out, port, file, rewrite } = await start((p) => `radios: [udp://127.0.0.1:${p}]\nlimits:\n  maxClients: 100\n`);
    await rewrite(`radios: [udp://127.0.0.1:${port}]\nlimits:\n  maxClients: none\n`);
    gateway.kill('SIGHUP');
    await until(() => out.stderr().includes('not applied'), () => `the refusal; stderr: ${out.stderr()}`);
    expect(out.stderr()).toContain(`SIGHUP: ${file} not applied, the gateway keeps its current config.`);
    expect(out.stderr()).toContain('field \\"limits.maxClients\\"');
    const device = await RawDevice.open(port);
    cleanup.push(async () => device.close());
    expect(await connect(device, 'still-served')).toBe(0);
  });
});

describe('log format', () => {
  const run = (args: string[]) => spawnBin('mqttsn-gateway', ['--radio', 'udp://127.0.0.1:0', '--embedded-port', '0', '--data-dir', 'none', ...args]);

  it('JSON lines when stderr is not a terminal (journald, files, pipes)', async () => {
    const gateway = run([]);
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway ready/);
    await stop(gateway);
    const lines = out.stderr().trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('msg');
  });

  it('readable lines on a terminal, by default', async () => {
    // `script` (util-linux) gives the gateway a pseudo-terminal, as a person's shell would.
    const command = `${process.execPath} ${join(projectRoot, 'dist', 'mqttsn-gateway.mjs')} --radio udp://127.0.0.1:0 --embedded-port 0 --data-dir none`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL'));
    const out = output(child);
    await out.waitFor(/INFO[^\n]*gateway ready/);
    child.kill('SIGTERM');
    await out.exit;
    expect(out.stdout()).not.toContain('{"level"');
    expect(out.stdout()).toMatch(/\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*radio started/);
  });

  it('--log-format rejects what it does not know', async () => {
    const out = output(run(['--log-format', 'xml']));
    expect(await out.exit).toBe(1);
    expect(out.stderr()).toBe('mqttsn-gateway: --log-format "xml": expected json or pretty\n');
  });
});
