import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupWriter, MAX_BATCH_BYTES, MAX_BATCH_OPS, type WriteOp } from '../../src/store/group-writer.js';

describe('GroupWriter', () => {
  let dir: string;
  let db: ClassicLevel<string, Buffer>;
  let batches: number[];
  let batchBytes: number[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-writer-'));
    db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.open();
    batches = [];
    batchBytes = [];
    // Counts what reaches the database per batch, whichever API the writer uses.
    const direct = (db as unknown as { _batch: (ops: WriteOp[], options: object) => Promise<void> })._batch.bind(db);
    (db as unknown as { _batch: typeof direct })._batch = (ops, options) => {
      batches.push(ops.length);
      batchBytes.push(ops.reduce((sum, op) => sum + op.key.length + (op.type === 'put' ? op.value.length : 0), 0));
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

  it('bounds a batch by bytes too (large records go out in several batches), never splitting one write', async () => {
    const writer = new GroupWriter(db);
    const record = 'x'.repeat(100_000);
    const writes = Array.from({ length: 44 }, (_, i) => writer.write(() => [put(`r${String(i).padStart(2, '0')}`, record)]));
    // One write of two records, together over the bound, still goes out whole.
    writes.push(writer.write(() => [put('huge1', 'y'.repeat(MAX_BATCH_BYTES)), put('huge2', 'z'.repeat(10))]));
    await Promise.all(writes);
    // A batch takes writes until it holds the bound: ten records are under 1 MiB, the eleventh crosses it.
    expect(batches).toEqual([11, 11, 11, 11, 2]);
    expect(batchBytes.slice(0, -1).every((bytes) => bytes >= MAX_BATCH_BYTES && bytes < MAX_BATCH_BYTES + 100_003)).toBe(true);
    expect(batchBytes.at(-1)).toBe(MAX_BATCH_BYTES + 10 + 10);
    expect(await db.keys().all()).toHaveLength(46);
    expect((await db.get('r43'))?.length).toBe(100_000);
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
