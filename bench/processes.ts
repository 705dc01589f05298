import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { LoadResult, LoadSpec } from '../src/bench/fleet.js';
import type { LoadgenTarget } from '../src/bench/loadgen-main.js';

export const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (path: string): string => join(root, 'dist', path);

let bundled: Promise<string> | undefined;

/**
 * The load generator as one ESM file, built once per run: plain JavaScript like the gateway's
 * bundle, so neither side pays for on-the-fly TypeScript. dist/ holds only what ships, so it is
 * built into a temporary directory (everything bundled, nothing to resolve from there).
 */
function loadgenBundle(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(await mkdtemp(join(tmpdir(), 'mqttsn-bench-')), 'loadgen.mjs');
    await build({
      entryPoints: [join(root, 'src/bench/loadgen-main.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    return outfile;
  })();
  return bundled;
}

export function findMosquitto(): string | undefined {
  return [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'].map((dir) => join(dir, 'mosquitto')).find((path) => existsSync(path));
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resident set size of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** CPU time (user + system) of a process in clock ticks, from /proc. */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Waits until a process has used no CPU for `quietMs` (it finished digesting a burst). */
export async function waitIdle(pid: number, quietMs = 1000, maxMs = 120_000): Promise<void> {
  const started = Date.now();
  let last = cpuTicks(pid);
  let since = Date.now();
  while (Date.now() - started < maxMs) {
    await sleep(200);
    const now = cpuTicks(pid);
    if (now - last > 1) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface Service {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * A mosquitto for benchmarks: unlimited queues, so the broker never drops what we count. The
 * in-flight window toward each client stays at mosquitto's default (20): unlimited, it pushed a
 * million queued messages down the gateway's connection ahead of its PINGRESP, and the gateway's
 * MQTT client, digesting them one by one, timed the connection out.
 */
export async function startBroker(): Promise<Service> {
  const binary = findMosquitto();
  if (!binary) throw new Error('mosquitto is not installed: apt-get install -y mosquitto (the benchmark needs a real broker)');
  const dir = await mkdtemp(join(tmpdir(), 'mqttsn-bench-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'log_type error', ''].join('\n'));
  const child = spawn(binary, ['-c', config], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
    await sleep(50);
  }
  await stopChild(child);
  throw new Error('mosquitto did not start');
}

export interface GatewayProcess extends Service {
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  /** The gateway's counters (/api/status `stats`); only for a gateway started with `monitor`. */
  stats(): Promise<Record<string, number>>;
}

/** The real gateway executable (built), in its own process. */
export async function startGateway(brokerUrl: string, configYaml = '', scheme: 'udp' | 'dtls' = 'udp', monitor = false): Promise<GatewayProcess> {
  const entry = dist('mqttsn-gateway.mjs'); // the bundle users run
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const dir = await mkdtemp(join(tmpdir(), 'mqttsn-bench-gw-'));
  const configPath = join(dir, 'gateway.yaml');
  await writeFile(configPath, configYaml);
  const udpPort = await freePort();
  // BENCH_MONITOR=1: monitoring on, scraped as hard as anyone would (issue 14's "costs nothing" check).
  const monitorPort = process.env.BENCH_MONITOR === '1' || monitor ? await freePort() : undefined;
  const started = performance.now();
  const monitorArgs = monitorPort !== undefined ? ['--http', `127.0.0.1:${monitorPort}`] : [];
  const child = spawn(process.execPath, [...(process.env.BENCH_GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), entry, '--config', configPath, '--broker', brokerUrl, '--radio', `${scheme}://127.0.0.1:${udpPort}`, '--log-level', 'warn', ...monitorArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: dir,
  });
  const readyMs = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('mqttsn-gateway ready')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before ready`)));
  });
  const scraper = process.env.BENCH_MONITOR === '1' && process.env.BENCH_MONITOR_SCRAPE_MS !== '0' ? startScraper(monitorPort!) : undefined;
  return {
    url: `${scheme}://127.0.0.1:${udpPort}`,
    pid: child.pid!,
    readyMs,
    stats: async () => {
      if (monitorPort === undefined) throw new Error('stats() needs a gateway started with monitor');
      const status = (await (await fetch(`http://127.0.0.1:${monitorPort}/api/status?limit=0`)).json()) as { gateway: { stats: Record<string, number> } };
      return status.gateway.stats;
    },
    stop: async () => {
      if (scraper) await stopChild(scraper);
      await stopChild(child);
    },
  };
}

/**
 * From a process of its own: /api/status every 2 s (the status page open) and /metrics every
 * BENCH_MONITOR_SCRAPE_MS (default 5000: a Prometheus three times as eager as its default 15 s).
 */
function startScraper(port: number): ChildProcess {
  const base = `http://127.0.0.1:${port}`;
  const scrapeMs = Number(process.env.BENCH_MONITOR_SCRAPE_MS ?? 5000);
  const get = (path: string): string => `fetch('${base}${path}').then((r) => r.text()).catch(() => {})`;
  const script = `setInterval(() => ${get('/api/status')}, 2000); setInterval(() => ${get('/metrics')}, ${scrapeMs});`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

/** A load generator process driving one fleet; runs specs one at a time over stdin/stdout. */
export class Loadgen {
  /** How long the fleet took to connect (MQTT-SN fleets; DTLS handshakes included). */
  connectMs: number | undefined;
  private readonly pendingLines: Array<(line: string) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.pendingLines.shift()?.(line));
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(target: LoadgenTarget): Promise<Loadgen> {
    const child = spawn(process.execPath, [await loadgenBundle(), JSON.stringify(target)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const loadgen = new Loadgen(child);
    const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`))));
    const ready = JSON.parse(await Promise.race([loadgen.nextLine(), failed])) as { connectMs?: number };
    loadgen.connectMs = ready.connectMs;
    return loadgen;
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    return (await this.request(spec)) as LoadResult;
  }

  /** Sleepers only: wakes these devices; how many messages each got before PINGRESP. */
  async wake(devices: readonly number[]): Promise<number[]> {
    return ((await this.request({ wake: devices })) as { received: number[] }).received;
  }

  private async request(body: unknown): Promise<unknown> {
    const answer = this.nextLine();
    this.child.stdin!.write(`${JSON.stringify(body)}\n`);
    return JSON.parse(await answer) as unknown;
  }

  async stop(): Promise<void> {
    this.child.stdin!.write('exit\n');
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
  }

  private nextLine(): Promise<string> {
    return new Promise((resolve) => this.pendingLines.push(resolve));
  }
}
