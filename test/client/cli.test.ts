import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGateway, hex } from './fake-gateway.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mqttsn ARGS` from source; `onStderr` sees stderr so far, with a handle to signal the child. */
function mqttsn(args: string[], onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/mqttsn.ts', ...args], { cwd: root, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, (signal) => child.kill(signal));
    });
    const timer = setTimeout(() => child.kill(), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let gw: FakeGateway;
beforeEach(async () => {
  gw = await FakeGateway.start();
});
afterEach(async () => {
  await gw.close();
});

describe('mqttsn pub', () => {
  it('connects, registers, publishes QoS 1, waits for PUBACK and disconnects cleanly', async () => {
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'cli/topic', '-m', 'hello', '-q', '1', '-i', 'cli1']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(gw.received.map((r) => r.type)).toEqual([0x04, 0x0a, 0x0c, 0x18]);
    expect(hex(gw.ofType(0x04)[0]!)).toBe('0a 04 04 01 00 3c 63 6c 69 31'); // CONNECT clean, 60 s, "cli1"
    expect(hex(gw.ofType(0x0c)[0]!)).toBe('0c 0c 20 00 10 00 02 68 65 6c 6c 6f'); // QoS1, id 0x10, MsgId 2, "hello"
    expect(hex(gw.ofType(0x18)[0]!)).toBe('02 18');
  });

  it('publishes QoS -1 on a pre-defined topic without connecting, retain set', async () => {
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'plant/alarm', '-m', 'on', '-q', '-1', '-r', '--predefined', '7=plant/alarm']);
    expect(run.code).toBe(0);
    expect(gw.received.map((r) => hex(r.bytes))).toEqual(['09 0c 71 00 07 00 00 6f 6e']); // Flags QoS -1|Retain|pre-defined
  });

  it('refuses QoS -1 on a long topic with a clear error and exit 1', async () => {
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'long/topic', '-m', 'x', '-q', '-1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/QoS -1 needs a pre-defined or 2-character topic/);
    expect(gw.received).toHaveLength(0);
  });

  it('exits 1 naming the return code when the gateway refuses the PUBLISH', async () => {
    gw.behaviour.pubackRc = 0x02;
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'ab', '-m', 'x', '-q', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/PUBACK 0x02 \(rejected: invalid topic ID\)/);
  });

  it('exits 1 naming the return code when CONNACK refuses', async () => {
    gw.behaviour.connackRc = 0x01;
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'ab', '-m', 'x']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/CONNACK 0x01 \(rejected: congestion\)/);
  });


  it('exits 1 after the retries when nothing answers', async () => {
    gw.behaviour.ignoreDisconnect = true; // the only unanswered request in this run
    const run = await mqttsn(['pub', '--gateway', gw.url, '-t', 'ab', '-m', 'x', '--retry-ms', '100', '--retries', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no DISCONNECT after 2 attempts/);
    expect(gw.ofType(0x18)).toHaveLength(2);
  });
});

describe('mqttsn sub', () => {
  it('prints one "topic payload" line per message and exits 0 after -n messages', async () => {
    let announced: () => void = () => undefined;
    const subscribed = new Promise<void>((resolve) => (announced = resolve));
    const running = mqttsn(['sub', '--gateway', gw.url, '-t', 'room/#', '-q', '1', '-n', '2', '-i', 'sub1'], (err) => {
      if (err.includes('subscribed room/#')) announced();
    });
    await subscribed;
    expect(hex(gw.ofType(0x12)[0]!)).toBe('0b 12 20 00 01 72 6f 6f 6d 2f 23'); // SUBSCRIBE QoS1 "room/#"
    await gw.send(Buffer.concat([Buffer.from([0x0c, 0x0a, 0x00, 0x42, 0x00, 0x01]), Buffer.from('room/1')])); // REGISTER 0x42
    await gw.waitFor(0x0b);
    await gw.send([0x0a, 0x0c, 0x20, 0x00, 0x42, 0x00, 0x02, 0x32, 0x31, 0x2e]); // QoS 1 "21."
    await gw.send([0x08, 0x0c, 0x00, 0x00, 0x42, 0x00, 0x00, 0x7a]); // QoS 0 "z"
    await gw.send([0x08, 0x0c, 0x00, 0x00, 0x42, 0x00, 0x00, 0x7b]); // beyond -n: not printed
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('room/1 21.\nroom/1 z\n');
    expect(run.stderr).toBe('subscribed room/#\n');
    expect(gw.ofType(0x18)).toHaveLength(1); // clean DISCONNECT
  });

  it('runs until SIGINT without -n, then disconnects and exits 0', async () => {
    const run = await mqttsn(['sub', '--gateway', gw.url, '-t', 'ns', '--predefined', '3=ns'], (err, kill) => {
      if (err.includes('subscribed ns')) kill('SIGINT');
    });
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(hex(gw.ofType(0x12)[0]!)).toBe('07 12 01 00 01 00 03'); // SUBSCRIBE by pre-defined id 3
    expect(gw.ofType(0x18)).toHaveLength(1);
  });

  it('exits 1 naming the return code when the SUBACK refuses', async () => {
    gw.behaviour.subackRc = 0x02;
    const run = await mqttsn(['sub', '--gateway', gw.url, '-t', 'x']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SUBACK for "x" 0x02 \(rejected: invalid topic ID\)/);
    expect(run.stderr).not.toMatch(/subscribed/);
  });

  it('--help lists every flag', async () => {
    const pub = await mqttsn(['pub', '--help']);
    for (const flag of ['--gateway', '--topic', '--message', '--qos', '--client-id', '--retain', '--predefined', '--retry-ms', '--retries', '--verbose']) {
      expect(pub.stdout).toContain(flag);
    }
    const sub = await mqttsn(['sub', '--help']);
    for (const flag of ['--gateway', '--topic', '--qos', '--count', '--client-id', '--keep-alive', '--predefined', '--verbose']) {
      expect(sub.stdout).toContain(flag);
    }
  });
});
