import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs one of our executables as shipped: the bundle `npm test` builds first (dist/NAME.mjs). */
export function spawnBin(name: 'mqttsn-gateway' | 'mqttsn', args: readonly string[]): ChildProcess {
  const bundle = join(projectRoot, 'dist', `${name}.mjs`);
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm test (it bundles first) or node scripts/bundle.mjs`);
  const child = spawn(process.execPath, [bundle, ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL')); // never outlive the test process
  return child;
}

/** Collects a child's stdout and stderr, and resolves when `pattern` appears on stdout. */
export function output(child: ChildProcess): { stdout: () => string; stderr: () => string; waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>; exit: Promise<number | null> } {
  let stdout = '';
  let stderr = '';
  const listeners: Array<() => void> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} on stdout.\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
      listeners.push(check);
      void exit.then((code) => reject(new Error(`process exited (${code}) before ${pattern}.\nstdout: ${stdout}\nstderr: ${stderr}`)));
      check();
    });
  return { stdout: () => stdout, stderr: () => stderr, waitFor, exit };
}

export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
