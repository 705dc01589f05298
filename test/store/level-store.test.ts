import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelStore } from '../../src/store/level-store.js';
import { output, projectRoot } from '../helpers/processes.js';
import { message, session, storeContract } from './contract.js';

storeContract('LevelStore', (dir) => new LevelStore(dir));

describe('LevelStore', () => {
  let dir: string;
  const open: LevelStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-level-'));
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function make(options: { syncIntervalMs?: number } = {}, directory = dir): LevelStore {
    const store = new LevelStore(directory, options);
    open.push(store);
    return store;
  }

  it('loses no message when the writing process is killed with SIGKILL, without any group sync', async () => {
    const script = join(projectRoot, 'test/store/fixtures/kill-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, '1000'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL')); // never outlive the test process
    const { waitFor, exit } = output(child);
    await waitFor(/written/, 30_000);
    child.kill('SIGKILL');
    await exit;
    expect(child.signalCode).toBe('SIGKILL');

    const reopened = make();
    const state = await reopened.open();
    expect(state.sessions).toHaveLength(1);
    expect(state.sessions[0]?.session.subscriptions).toEqual([{ filter: 'cmd/#', qos: 1, kind: 'name' }]);
    const messages = state.sessions[0]?.messages ?? [];
    expect(messages).toHaveLength(1000);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect((await reopened.readMessages(state.sessions[0]!.session.clientId, [999]))[0]?.payload.toString()).toBe('message 999');
    await reopened.close();
  }, 60_000);

  it('groups syncs: far fewer synced writes than messages, and none while idle', async () => {
    const store = make({ syncIntervalMs: 50 });
    await store.open();
    await store.putSession(session('dev'));
    const started = Date.now();
    for (let seq = 0; seq < 500; seq++) await store.putMessage('dev', message(seq));
    const elapsed = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 150)); // let the timer sync the tail
    const afterWrites = store.syncCount;
    // At most one sync per interval elapsed (plus the tail), never one per message.
    expect(afterWrites).toBeGreaterThanOrEqual(1);
    expect(afterWrites).toBeLessThanOrEqual(Math.ceil((elapsed + 150) / 50) + 1);
    expect(afterWrites).toBeLessThan(50);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(store.syncCount).toBe(afterWrites); // nothing written, nothing synced
    await store.sync();
    expect(store.syncCount).toBe(afterWrites);
    console.log(`group sync: ${afterWrites} synced writes for 500 messages over ${elapsed} ms (interval 50 ms)`);
  });

  it('sync() makes pending writes durable with one synced write', async () => {
    const store = make({ syncIntervalMs: 3_600_000 });
    await store.open();
    await store.putSession(session('dev'));
    await Promise.all([1, 2, 3].map((seq) => store.putMessage('dev', message(seq))));
    expect(store.syncCount).toBe(0);
    await store.sync();
    expect(store.syncCount).toBe(1);
  });

  it('says another gateway is probably using the directory when it is locked', async () => {
    await make().open();
    const second = make();
    await expect(second.open()).rejects.toMatchObject({
      name: 'StoreError',
      code: 'locked',
      message: expect.stringMatching(/another gateway is probably running with the same --data-dir/),
    });
  });

  it('says so when the directory cannot be created', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    await expect(make({}, join(file, 'data')).open()).rejects.toMatchObject({
      code: 'cannot-open',
      message: expect.stringContaining(`cannot create the data directory ${join(file, 'data')}`),
    });
  });

  it('reports what it found at open', async () => {
    const store = make();
    await store.open();
    await store.putSession(session('dev'));
    await Promise.all([1, 2].map((seq) => store.putMessage('dev', message(seq))));
    await store.putMessage('ghost', message(1));
    await store.close();
    await store.open();
    expect(store.lastOpen).toEqual({ sessions: 1, messages: 2, orphanMessages: 1, forward: 0, damagedRecords: 0 });
  });

  it('measures throughput (printed, not asserted)', async () => {
    const store = make();
    await store.open();
    await store.putSession(session('dev'));
    const count = 10_000;
    const payload = Buffer.alloc(64, 0xab);
    const rate = (started: bigint): number => Math.round(count / (Number(process.hrtime.bigint() - started) / 1e9));

    let started = process.hrtime.bigint();
    for (let seq = 0; seq < count; seq++) await store.putMessage('dev', message(seq, payload));
    const putAwaited = rate(started);
    started = process.hrtime.bigint();
    for (let seq = 0; seq < count; seq++) await store.deleteMessage('dev', seq);
    const deleteAwaited = rate(started);

    started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: count }, (_, seq) => store.putMessage('dev', message(count + seq, payload))));
    const putConcurrent = rate(started);
    started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: count }, (_, seq) => store.deleteMessage('dev', count + seq)));
    const deleteConcurrent = rate(started);

    console.log(
      `LevelStore throughput, ${count} messages of 64 bytes: ` +
        `putMessage ${putAwaited}/s awaited one by one, ${putConcurrent}/s issued together; ` +
        `deleteMessage ${deleteAwaited}/s awaited, ${deleteConcurrent}/s together`,
    );
    await store.close();
    expect((await store.open()).sessions[0]?.messages).toEqual([]);
  }, 60_000);
});
