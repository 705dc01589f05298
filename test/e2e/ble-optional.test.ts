import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, projectRoot } from '../helpers/processes.js';

/**
 * The shipped gateway in a directory whose node_modules has everything but the optional BLE
 * library, as on a machine where @stoprocent/noble failed to install.
 */
describe('the gateway without the BLE library', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-no-ble-'));
    await mkdir(join(dir, 'dist'));
    await mkdir(join(dir, 'node_modules'));
    bundle = join(dir, 'dist', 'mqttsn-gateway.mjs');
    await copyFile(join(projectRoot, 'dist', 'mqttsn-gateway.mjs'), bundle);
    for (const entry of await readdir(join(projectRoot, 'node_modules'))) {
      if (entry === '@stoprocent' || entry === '.bin') continue;
      await symlink(join(projectRoot, 'node_modules', entry), join(dir, 'node_modules', entry));
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => {
    const child = spawn(process.execPath, [bundle, '--data-dir', 'none', '--embedded-port', '0', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL'));
    return { child, out: output(child) };
  };

  it('starts and serves UDP when no BLE radio is configured', async () => {
    const { child, out } = run(['--radio', 'udp://127.0.0.1:0']);
    await out.waitFor(/mqttsn-gateway ready: udp:\/\/127\.0\.0\.1:0/);
    child.kill('SIGTERM');
    // Signalled the moment it said ready: it still stops cleanly.
    expect(await out.exit).toBe(0);
  });

  it('with a BLE radio configured, exits 1 saying what is missing and how to install it', async () => {
    const { out } = run(['--radio', 'ble://hci0']);
    expect(await out.exit).toBe(1);
    // A checkout (or a project depending on the gateway): installed there, without noble's install script.
    expect(out.stderr()).toContain(`ble://hci0: the BLE library (@stoprocent/noble) cannot be loaded: `);
    expect(out.stderr()).toContain(`Install it (no compiler needed) with: cd ${dir} && npm install --no-save --ignore-scripts @stoprocent/noble@^2.8.0\n`);
    expect(out.stderr()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
