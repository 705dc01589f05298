import type { ClassicLevel } from 'classic-level';
import { SYNC_MARKER } from './records.js';

export type WriteOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/**
 * Produces one write's operations when its group is written, so it sees the database as every
 * earlier write left it; `earlier` are the operations already in the same group (not yet in the
 * database). May throw to fail that write alone.
 */
export type BuildOps = (earlier: readonly WriteOp[]) => WriteOp[] | Promise<WriteOp[]>;

interface Pending {
  build: BuildOps;
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
  private syncWaiters: Pending[] = [];
  private draining = false;
  private inFlight = 0;

  /** Writes issued and not yet done: what a caller can check before adding more. */
  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  constructor(private readonly db: ClassicLevel<string, Buffer>) {}

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
      this.syncWaiters.push({ build: () => [], resolve, reject });
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
      const group = this.queue;
      const waiters = this.syncWaiters;
      this.inFlight = group.length;
      this.queue = [];
      this.syncWaiters = [];
      const ops: WriteOp[] = [];
      const written: Pending[] = [];
      for (const pending of group) {
        try {
          ops.push(...(await pending.build(ops)));
          written.push(pending);
        } catch (error) {
          pending.reject(error);
        }
      }
      const sync = waiters.length > 0 && (this.unsynced || ops.length > 0);
      if (sync && ops.length === 0) ops.push({ type: 'put', key: SYNC_MARKER, value: Buffer.alloc(0) });
      const settled = [...written, ...waiters];
      try {
        if (ops.length > 0) await this.db.batch(ops, { sync });
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
