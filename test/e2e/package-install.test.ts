import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort, output, projectRoot, stop } from '../helpers/processes.js';

const run = promisify(execFile);
const skip = mosquittoSkipReason();

/**
 * The packed tarball as a new user gets it: installed globally on a machine with a fresh HOME and
 * npm cache (none of this machine's npm settings), run from an unrelated folder. The optional BLE
 * library is left out, as npm drops it where its install script cannot compile; the command the
 * gateway then prints must install it, and the gateway must then serve devices.
 */
describe.skipIf(skip)('the npm package on a fresh machine', () => {
  let work: string;
  let prefix: string;
  let tarball: string;
  let env: NodeJS.ProcessEnv;
  let mosquitto: Mosquitto;
  const version = async (): Promise<string> => (JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mqttsn-package-'));
    prefix = join(work, 'prefix');
    // A new user's npm: own HOME and cache, so no ~/.npmrc (and its nodedir for native builds) applies.
    env = { ...process.env, HOME: join(work, 'home'), npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' };
    for (const key of Object.keys(env)) if (key.startsWith('npm_') && key !== 'npm_config_cache' && key !== 'npm_config_update_notifier') delete env[key];
    // The bundles npm test has just built; --ignore-scripts: no rebuild under the other tests' feet.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: projectRoot, env });
    tarball = join(work, packed.stdout.trim().split('\n').pop()!);
    await run('npm', ['install', '--global', '--prefix', prefix, '--omit=optional', '--no-audit', '--no-fund', tarball], { cwd: work, env, timeout: 240_000 });
    mosquitto = await startMosquitto();
  }, 300_000);
  afterAll(async () => {
    await mosquitto?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const bin = (name: string): string => join(prefix, 'bin', name);
  const gateway = (args: string[]) => {
    const child = spawn(bin('mqttsn-gateway'), ['--data-dir', 'none', ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL'));
    return { child, out: output(child) };
  };

  it('ships only the bundles, the deploy files and the README', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').sort();
    expect(files).toContain('package/dist/mqttsn-gateway.mjs');
    expect(files).toContain('package/dist/mqttsn.mjs');
    expect(files).toContain('package/deploy/mqttsn-gateway.service');
    expect(files).toContain('package/deploy/config.yaml');
    expect(files.filter((file) => !/^package\/(dist\/[\w-]+\.mjs|deploy\/[\w.-]+|README\.md|package\.json)$/.test(file))).toEqual([]);
  });

  it('both executables answer --version from any folder', async () => {
    const expected = await version();
    expect((await run(bin('mqttsn-gateway'), ['--version'], { cwd: work, env })).stdout.trim()).toBe(expected);
    expect((await run(bin('mqttsn'), ['--version'], { cwd: work, env })).stdout.trim()).toBe(expected);
  });

  it('without the BLE library prints a command that installs it, and then serves a device', async () => {
    const missing = gateway(['--radio', 'ble://hci0', '--broker', mosquitto.url]);
    expect(await missing.out.exit).toBe(1);
    const command = /Install it \(no compiler needed\) with: (.+)\n/.exec(missing.out.stderr())?.[1];
    expect(command, missing.out.stderr()).toBe(`npm install --global --prefix ${prefix} --ignore-scripts @stoprocent/noble@^2.8.0`);

    await run('sh', ['-c', command!], { cwd: work, env, timeout: 120_000 });

    const port = await freeUdpPort();
    const broker = await BrokerClient.connect(mosquitto.url);
    await broker.subscribe('fresh/#');
    const running = gateway(['--radio', 'ble://hci0', '--radio', `udp://127.0.0.1:${port}`, '--broker', mosquitto.url]);
    try {
      await running.out.waitFor(/mqttsn-gateway ready: ble:\/\/hci0, udp:\/\/127\.0\.0\.1:\d+ ->/);
      // noble loaded: what is missing now is the adapter (this machine has none), not the library.
      expect(running.out.stderr()).not.toContain('cannot be loaded');
      await run(bin('mqttsn'), ['pub', '--gateway', `udp://127.0.0.1:${port}`, '-t', 'fresh/install', '-m', 'hello', '-q', '1'], { cwd: work, env, timeout: 20_000 });
      const [message] = await broker.waitFor(1);
      expect(message!.topic).toBe('fresh/install');
      expect(message!.payload.toString()).toBe('hello');
    } finally {
      await broker.close();
      await stop(running.child);
    }
    expect(running.out.stderr()).toMatch(/ble:\/\/hci0: (no usable Bluetooth LE adapter|the Bluetooth adapter is off or missing)/);
  });
});
