/**
 * The shipped gateway bundle as a separate process, watched from outside: exit, stderr (its log),
 * resident memory, and the status line it logs on SIGUSR1. The bundle is copied first: another
 * engineer rebuilds dist/ while campaigns run, and a half-written or replaced bundle under a
 * running campaign would be a false crash. The copy sits inside the project so the bundle's
 * externals (aedes, classic-level, serialport) still resolve from its node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { output, projectRoot } from '../helpers/processes.js';

export interface GatewayOptions {
  readonly brokerUrl: string;
  readonly clientId: string;
  readonly udpPort: number;
  readonly predefined: Readonly<Record<number, string>>;
  /** Config `buffer` overrides; the shipped defaults when absent. */
  readonly buffer?: Readonly<Record<string, number>>;
}

export interface LogTally {
  bytes: number;
  lines: number;
  /** Lines at level error (50) or fatal (60). */
  errorLines: number;
  /** Lines and bytes per message, digits folded (`N more like this` lines group together). */
  readonly byMsg: Map<string, { lines: number; bytes: number; level: number; sample: string }>;
  /** Lines that are not JSON: a crash's stack trace ends up here. */
  readonly raw: string[];
  lastStatus: Record<string, unknown> | undefined;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Copies dist/mqttsn-gateway.mjs once it has stopped changing; returns the copy's path. */
async function copyBundle(): Promise<string> {
  const source = join(projectRoot, 'dist', 'mqttsn-gateway.mjs');
  const target = join(projectRoot, '.fuzz', `gateway-${process.pid}-${Date.now()}.mjs`);
  await mkdir(join(projectRoot, '.fuzz'), { recursive: true });
  for (let attempt = 0; attempt < 40; attempt++) {
    const first = await readFile(source).catch(() => undefined);
    await sleep(250);
    const second = await readFile(source).catch(() => undefined);
    if (first && second && first.length > 0 && first.equals(second)) {
      await writeFile(target, first, { mode: 0o755 });
      return target;
    }
  }
  throw new Error(`${source} is missing or keeps changing: run node scripts/bundle.mjs`);
}

export class GatewayProcess {
  readonly log: LogTally = { bytes: 0, lines: 0, errorLines: 0, byMsg: new Map(), raw: [], lastStatus: undefined };
  exited: Exit | undefined;
  exitedAt: number | undefined;
  readonly exit: Promise<Exit>;
  private stopping = false;
  private partial = '';

  private constructor(private readonly child: ChildProcess, readonly bundle: string, private readonly dir: string) {
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitedAt = Date.now();
        resolve((this.exited = { code, signal }));
      }),
    );
    child.stderr?.on('data', (chunk: Buffer) => this.tally(chunk));
  }

  static async start(options: GatewayOptions): Promise<GatewayProcess> {
    const bundle = await copyBundle();
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-fuzz-gw-'));
    const config = join(dir, 'gateway.json');
    // A fixed client ID, so mosquitto's log names the gateway's connection.
    await writeFile(config, JSON.stringify({ broker: { url: options.brokerUrl, clientId: options.clientId }, predefined: options.predefined, ...(options.buffer ? { buffer: options.buffer } : {}) }));
    // FUZZ_GATEWAY_DATA_DIR=none: memory only, to tell the store's share of a run from the rest.
    const dataDir = process.env.FUZZ_GATEWAY_DATA_DIR ?? join(dir, 'data');
    const args = ['--config', config, '--broker', options.brokerUrl, '--radio', `udp://127.0.0.1:${options.udpPort}`, '--data-dir', dataDir, '--log-format', 'json', '--status-interval', '0'];
    // The environment the shipped systemd unit gives the gateway (MALLOC_ARENA_MAX), so RSS is what a Pi sees.
    const env = { ...process.env, ...(await serviceEnvironment()) };
    const child = spawn(process.execPath, [...(process.env.FUZZ_GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), bundle, ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL'));
    const gateway = new GatewayProcess(child, bundle, dir);
    try {
      await output(child).waitFor(/mqttsn-gateway ready/);
    } catch (error) {
      await gateway.stop();
      throw error;
    }
    return gateway;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Exited without being asked to: a crash. */
  get crashed(): boolean {
    return this.exited !== undefined && !this.stopping;
  }

  /** Resident set size in KiB, from /proc (Linux). */
  rssKb(): number | undefined {
    return this.statusKb('VmRSS');
  }

  /**
   * Private (anonymous) resident memory: the heap, buffers, LevelDB's memory. RSS also counts file
   * pages mapped from disk (the node executable, and LevelDB's table files, which it maps to read):
   * page cache the kernel takes back under pressure, not memory the gateway holds.
   */
  privateKb(): number | undefined {
    return this.statusKb('RssAnon');
  }

  private statusKb(field: string): number | undefined {
    try {
      const match = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** CPU time used so far (user + system), in seconds, from /proc (Linux; 100 ticks/s). */
  cpuSeconds(): number | undefined {
    try {
      // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return undefined;
    }
  }

  /** SIGUSR1 and the status line it logs (counters, sessions, upstream state). */
  async status(timeoutMs = 15_000): Promise<Record<string, unknown> | undefined> {
    if (this.exited) return this.log.lastStatus;
    const before = this.log.lastStatus;
    this.child.kill('SIGUSR1');
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && this.log.lastStatus === before; ) await sleep(50);
    return this.log.lastStatus;
  }

  async stop(): Promise<Exit> {
    this.stopping = true;
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exit;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
    await rm(this.bundle, { force: true });
    return this.exited ?? (await this.exit);
  }

  private tally(chunk: Buffer): void {
    this.log.bytes += chunk.length;
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      this.log.lines++;
      // Regexes, not JSON.parse: the harness shares two cores with the gateway and the broker.
      const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
      if (msg === undefined) {
        // A crash prints the minified source line first: keep the start of each line only.
        this.log.raw.push(line.length > 240 ? `${line.slice(0, 240)}...` : line);
        if (this.log.raw.length > 40) this.log.raw.shift();
        continue;
      }
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level >= 50) this.log.errorLines++;
      const key = msg.replace(/\d+/g, 'N');
      // The first line of each kind is kept (shortened) so a report can show what it says.
      const tally = this.log.byMsg.get(key) ?? { lines: 0, bytes: 0, level, sample: line.length > 700 ? `${line.slice(0, 300)} [...] ${line.slice(-400)}` : line };
      tally.lines++;
      tally.bytes += line.length + 1;
      this.log.byMsg.set(key, tally);
      if (msg === 'status') this.log.lastStatus = JSON.parse(line) as Record<string, unknown>;
    }
  }
}

/** `Environment=NAME=VALUE` lines of deploy/mqttsn-gateway.service. */
export async function serviceEnvironment(): Promise<Record<string, string>> {
  const unit = await readFile(join(projectRoot, 'deploy', 'mqttsn-gateway.service'), 'utf8');
  return Object.fromEntries([...unit.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/gm)].map((match) => [match[1]!, match[2]!]));
}
