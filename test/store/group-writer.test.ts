import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupWriter, MAX_BATCH_OPS, type WriteOp } from '../../src/store/group-writer.js';

describe('GroupWriter', () => {
  let dir: string;
  let db: ClassicLevel<string, Buffer>;
  let batches: number[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-writer-'));
    db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.open();
    batches = [];
    // Counts what reaches the database per batch, whichever API the writer uses.
    const direct = (db as unknown as { _batch: (ops: WriteOp[], options: object) => Promise<void> })._batch.bind(db);
    (db as unknown as { _batch: typeof direct })._batch = (ops, options) => {
      batches.push(ops.length);
      return direct(ops, options);
    };
  });

  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (key: string, value = key): WriteOp => ({ type: 'put', key, value: Buffer.from(value) });

  it('writes a burst in batches of at most MAX_BATCH_OPS, never splitting one write, every key on disk', async () => {
    const writer = new GroupWriter(db);
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 3000; i++) writes.push(writer.write(() => [put(`k${i}`)]));
    // One write bigger than a batch still goes out whole.
    const big = Array.from({ length: MAX_BATCH_OPS + 10 }, (_, i) => put(`big${i}`));
    writes.push(writer.write(() => big));
    await Promise.all(writes);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(3000 + MAX_BATCH_OPS + 10);
    expect(batches.slice(0, -1).every((size) => size === MAX_BATCH_OPS)).toBe(true);
    expect(batches.at(-1)).toBe(3000 - 2 * MAX_BATCH_OPS + MAX_BATCH_OPS + 10);
    const keys = await db.keys().all();
    expect(keys).toHaveLength(3000 + MAX_BATCH_OPS + 10);
    expect((await db.get('k2999'))?.toString()).toBe('k2999');
  });

  it('applies writes in issue order across batches: a delete after a put wins, a put after a delete wins', async () => {
    const writer = new GroupWriter(db);
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 2 * MAX_BATCH_OPS; i++) writes.push(writer.write(() => [put(`x${i % 7}`, `v${i}`)]));
    writes.push(writer.write(() => [{ type: 'del', key: 'x0' }]));
    writes.push(writer.write(() => [put('x1', 'last')]));
    await Promise.all(writes);
    expect(batches.length).toBeGreaterThan(1);
    expect(await db.get('x0')).toBeUndefined();
    expect((await db.get('x1'))?.toString()).toBe('last');
  });

  it('resolves sync only after the batch holding the last write issued before it, and syncs that batch', async () => {
    const writer = new GroupWriter(db);
    const order: string[] = [];
    for (let i = 0; i < 3 * MAX_BATCH_OPS; i++) void writer.write(() => [put(`s${i}`)]).then(() => i === 3 * MAX_BATCH_OPS - 1 && order.push('last write'));
    const synced = writer.sync().then(() => order.push('sync'));
    // Issued after the sync: does not hold it back.
    const later = writer.write(() => [put('after')]);
    await Promise.all([synced, later]);
    expect(order).toEqual(['last write', 'sync']);
    expect(writer.syncCount).toBe(1);
    expect(writer.unsynced).toBe(true); // 'after' went out unsynced
  });
});
