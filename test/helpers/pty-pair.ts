import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mosquittoRequired } from './mosquitto.js';

export function findSocat(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin'];
  return dirs.map((dir) => join(dir, 'socat')).find((path) => existsSync(path));
}

/** Why serial tests are skipped, or undefined when they run. In CI (real parts required) a missing socat fails. */
export function socatSkipReason(): string | undefined {
  if (findSocat()) return undefined;
  const reason = 'socat is not installed (apt-get install -y socat): serial-port tests skipped';
  if (mosquittoRequired) throw new Error(`real parts are required here but ${reason}`);
  console.warn(reason);
  return reason;
}

export interface PtyPair {
  /** The end the gateway opens, e.g. /tmp/mqttsn-pty-XXXX/gateway. */
  readonly gatewayPath: string;
  /** The end the test's device (or XBee module) opens. */
  readonly devicePath: string;
  /** Kills socat: both ends go away, as when a USB radio is unplugged. */
  stop(): Promise<void>;
}

/**
 * Two linked pseudo-terminals from socat: real serial ports, no mocks. `dir` reuses a directory
 * (the same port paths again: a radio plugged back in).
 */
export async function startPtyPair(dir?: string): Promise<PtyPair & { readonly dir: string }> {
  const socat = findSocat();
  if (!socat) throw new Error('socat is not installed (apt-get install -y socat)');
  if (dir) await mkdir(dir, { recursive: true });
  else dir = await mkdtemp(join(tmpdir(), 'mqttsn-pty-'));
  const gatewayPath = join(dir, 'gateway');
  const devicePath = join(dir, 'device');
  const child = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${gatewayPath}`, `pty,raw,echo=0,link=${devicePath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(gatewayPath) && existsSync(devicePath))) {
    if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat made no pty pair within 5 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const where = dir;
  return {
    dir: where,
    gatewayPath,
    devicePath,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(where, { recursive: true, force: true });
    },
  };
}
