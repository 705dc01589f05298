import type { ClassicLevel } from 'classic-level';
import { SYNC_MARKER } from './records.js';

export type WriteOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/**
 * Produces one write's operations when its group is written, so it sees the database as every
 * earlier write left it; `earlier` are the operations already in the same group (not yet in the
 * database). May throw to fail that write alone.
 */
export type BuildOps = (earlier: readonly WriteOp[]) => WriteOp[] | Promise<WriteOp[]>;

/**
 * Operations per LevelDB batch, at most (one write's operations are never split). Building a batch
 * runs on the main thread; thousands in one go held every device's datagrams up for 100-300 ms
 * under a flood fanned out to many sleeping devices.
 */
export const MAX_BATCH_OPS = 1024;

/**
 * Bytes (keys and values) per LevelDB batch, at most (again, one write is never split). The binding
 * copies a batch into one native buffer on the main thread: unbounded, a batch of large session
 * records reached 19 MiB under the fuzz, and such short-lived big blocks are what glibc's heap
 * keeps around afterwards.
 */
export const MAX_BATCH_BYTES = 1 << 20;

/** The store's operations as classic-level's binding takes them: keys are strings, values Buffers. */
type BatchFn = (ops: WriteOp[], options: { sync: boolean }) => Promise<void>;

interface Pending {
  build: BuildOps;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface SyncWaiter {
  after: Pending | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Serialises writes into LevelDB batches. Only one batch is in flight at a time: classic-level runs
 * operations on libuv's thread pool, where two concurrent writes may land in either order (a put
 * after a delete of the same key could lose). Writes issued meanwhile, or in the same tick, wait
 * and go out together as the next batch, which is also what keeps the write rate high.
 */
export class GroupWriter {
  /** Batches written with `sync: true` (tests check that syncs are grouped). */
  syncCount = 0;
  /** Something reached the OS but not yet the disk. */
  unsynced = false;
  private queue: Pending[] = [];
  /** Each waits for the batch holding the last write issued before it (`after`), then syncs. */
  private syncWaiters: SyncWaiter[] = [];
  private draining = false;
  private inFlight = 0;

  /** Writes issued and not yet done: what a caller can check before adding more. */
  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  private readonly batch: BatchFn;

  constructor(db: ClassicLevel<string, Buffer>) {
    // abstract-level's public batch() clones and re-validates every operation before handing it to
    // the implementation's _batch(), which was a fifth of the gateway's CPU under a fan-out flood.
    // Our keys are already strings and values Buffers (the formats of the database's utf8/buffer
    // encodings), so they go to the documented implementer API directly when it is there.
    const direct = (db as unknown as { _batch?: BatchFn })._batch;
    this.batch = typeof direct === 'function' ? (ops, options) => direct.call(db, ops.map(withEncodings), options) : (ops, options) => db.batch(ops, options);
  }

  write(build: BuildOps): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ build, resolve, reject });
      this.kick();
    });
  }

  /**
   * Resolves once every write issued before it is on disk. One synced LevelDB write fsyncs the
   * log, and with it every unsynced write before it (LevelDB's documented group-commit idiom).
   */
  sync(): Promise<void> {
    if (!this.unsynced && !this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ after: this.queue.at(-1), resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    // A microtask, not a direct call: writes issued in the same synchronous run join one batch.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.syncWaiters.length > 0) {
      const ops: WriteOp[] = [];
      const written: Pending[] = [];
      // Writes join the batch until it holds MAX_BATCH_OPS or MAX_BATCH_BYTES; the rest wait for the next one.
      let taken = 0;
      let bytes = 0;
      while (taken < this.queue.length && (taken === 0 || (ops.length < MAX_BATCH_OPS && bytes < MAX_BATCH_BYTES))) {
        const pending = this.queue[taken++]!;
        try {
          const built = await pending.build(ops);
          for (const op of built) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
          ops.push(...built);
          written.push(pending);
        } catch (error) {
          pending.reject(error);
        }
      }
      const group = new Set(this.queue.splice(0, taken));
      this.inFlight = taken;
      // Sync waiters go with the batch that takes the last write issued before them.
      const waiters = this.syncWaiters.filter((waiter) => !waiter.after || group.has(waiter.after));
      if (waiters.length > 0) this.syncWaiters = this.syncWaiters.filter((waiter) => !waiters.includes(waiter));
      const sync = waiters.length > 0 && (this.unsynced || ops.length > 0);
      if (sync && ops.length === 0) ops.push({ type: 'put', key: SYNC_MARKER, value: Buffer.alloc(0) });
      const settled = [...written, ...waiters];
      try {
        if (ops.length > 0) await this.batch(ops, { sync });
        if (sync) {
          this.syncCount++;
          this.unsynced = false;
        } else if (ops.length > 0) {
          this.unsynced = true;
        }
        for (const pending of settled) pending.resolve();
      } catch (error) {
        for (const pending of settled) pending.reject(error);
      }
    }
    this.inFlight = 0;
    this.draining = false;
  }
}

/** The per-operation encodings abstract-level's private API is documented to receive. */
function withEncodings(op: WriteOp): WriteOp & { keyEncoding: 'utf8'; valueEncoding?: 'buffer' } {
  return op.type === 'put' ? { type: 'put', key: op.key, value: op.value, keyEncoding: 'utf8', valueEncoding: 'buffer' } : { type: 'del', key: op.key, keyEncoding: 'utf8' };
}
