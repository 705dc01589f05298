import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set by .ci/run: a missing mosquitto is then a failure, not a skip. */
export const mosquittoRequired = process.env.MQTTSN_REQUIRE_MOSQUITTO === '1';

export function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'mosquitto')).find((path) => existsSync(path));
}

/** Why mosquitto tests are skipped, or undefined when they run. Throws in CI when it is missing. */
export function mosquittoSkipReason(): string | undefined {
  if (findMosquitto()) return undefined;
  const reason = 'mosquitto is not installed (apt-get install -y mosquitto): real-broker tests skipped';
  if (mosquittoRequired) throw new Error(`MQTTSN_REQUIRE_MOSQUITTO=1 but ${reason}`);
  console.warn(reason);
  return reason;
}

export async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** The broker's process (SIGSTOP freezes it: a broker that stops reading). */
  readonly pid: number;
  stop(): Promise<void>;
  /** SIGKILL: the broker dies without closing anything cleanly, as in a crash or power cut. */
  kill(): Promise<void>;
}

/** A real mosquitto on a free loopback port, with its own config in a temp dir. */
/** `port` reuses a port (a restart of the same broker); by default a free one is picked. */
export async function startMosquitto(extraConfig = '', port?: number): Promise<Mosquitto> {
  const binary = findMosquitto();
  if (!binary) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  const dir = await mkdtemp(join(tmpdir(), 'mqttsn-mosquitto-'));
  port ??= await freeTcpPort();
  const configPath = join(dir, 'mosquitto.conf');
  await writeFile(configPath, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n${extraConfig}`);
  const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Even when a test's teardown fails half-way, no broker outlives the test process.
  process.once('exit', () => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitForPort(port, child, () => stderr);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`mosquitto did not listen on ${port} within 10 s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return; // already gone (e.g. killed)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
