import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ClassicLevel } from 'classic-level';
import type { DurableStore, StoredForward, StoredMessage, StoredSession, StoredState } from './durable-store.js';
import { GroupWriter } from './group-writer.js';
import { loadAll, type LoadReport } from './level-load.js';
import { decodeMessage, encodeForward, encodeMessage, encodeSession, forwardKey, messageKey, messagePrefix, rangeEnd, sessionKey } from './records.js';
import { StoreError, checkClientId, checkSeq } from './store-error.js';

/**
 * classic-level is CommonJS: required, not imported. An ESM import makes Node scan its source for
 * export names at start (cjs-module-lexer), a loop hot enough to wake V8's optimising compiler
 * (issue 17: 0.5 MB of idle RSS on its own; it is one of the start-up jobs that made the compiler
 * map its code, see startup-memory.ts).
 */
function loadClassicLevel(): typeof ClassicLevel {
  return (createRequire(import.meta.url)('classic-level') as typeof import('classic-level')).ClassicLevel;
}

/** Options of {@link LevelStore}. */
export interface LevelStoreOptions {
  /** How often buffered writes are made power-loss durable; default 1000 ms. */
  syncIntervalMs?: number;
}

/**
 * The durable store on LevelDB (classic-level: prebuilt for the Pi's architectures, nothing to
 * compile; an append-only log suits SD cards). Every write reaches the OS at once (`sync: false`),
 * so a killed process loses nothing; one synced write every `syncIntervalMs`, only when something
 * changed, makes them survive a power cut too, without one flash sync per message.
 */
export class LevelStore implements DurableStore {
  private readonly syncIntervalMs: number;
  private db: ClassicLevel<string, Buffer> | undefined;
  private writer: GroupWriter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncsBefore = 0;
  /** What the last `open()` found, for the gateway's startup log. */
  lastOpen: LoadReport | undefined;

  constructor(
    private readonly directory: string,
    options: LevelStoreOptions = {},
  ) {
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
  }

  /** Synced writes since construction (tests check that they are grouped). */
  get syncCount(): number {
    return this.syncsBefore + (this.writer?.syncCount ?? 0);
  }

  async open(): Promise<StoredState> {
    if (this.db) throw new StoreError('cannot-open', `the store in ${this.directory} is already open`);
    try {
      await mkdir(this.directory, { recursive: true });
    } catch (error) {
      const reason = (error as Error).message;
      throw new StoreError('cannot-open', `cannot create the data directory ${this.directory} (${reason}); pick a writable one with --data-dir`, { cause: error });
    }
    const db = new (loadClassicLevel())<string, Buffer>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (error) {
      throw explainOpenError(this.directory, error);
    }
    const writer = new GroupWriter(db);
    let loaded: Awaited<ReturnType<typeof loadAll>>;
    try {
      loaded = await loadAll(db, writer);
    } catch (error) {
      await db.close();
      throw new StoreError('cannot-open', `cannot read the data directory ${this.directory}: ${(error as Error).message}`, { cause: error });
    }
    const { state, report } = loaded;
    this.db = db;
    this.writer = writer;
    this.lastOpen = report;
    // A timer rather than "every N writes": a lone message still becomes durable within the interval.
    this.timer = setInterval(() => {
      if (writer.unsynced) writer.sync().catch(() => undefined); // a failure shows on the next write
    }, this.syncIntervalMs);
    this.timer.unref();
    return state;
  }

  get backlog(): number {
    return this.writer?.backlog ?? 0;
  }

  putSession(session: StoredSession): Promise<void> {
    const key = sessionKey(session.clientId);
    return this.write(session.clientId, () => [{ type: 'put', key, value: encodeSession(session) }]);
  }

  deleteSession(clientId: string, mayHaveMessages = true): Promise<void> {
    const db = this.db; // the batch may be built while close() runs
    if (!mayHaveMessages) return this.write(clientId, () => [{ type: 'del', key: sessionKey(clientId) }]);
    return this.write(clientId, async (earlier) => {
      const prefix = messagePrefix(clientId);
      const stored = await db!.keys({ gte: prefix, lt: rangeEnd(prefix) }).all();
      // Messages put earlier in the same batch are not in the database yet, but must go too.
      const batched = earlier.filter((op) => op.type === 'put' && op.key.startsWith(prefix)).map((op) => op.key);
      const keys = [sessionKey(clientId), ...stored, ...batched];
      return keys.map((key) => ({ type: 'del', key }));
    });
  }

  putMessage(clientId: string, message: StoredMessage): Promise<void> {
    return this.write(clientId, () => {
      checkSeq(message.seq);
      return [{ type: 'put', key: messageKey(clientId, message.seq), value: encodeMessage(message) }];
    });
  }

  deleteMessage(clientId: string, seq: number): Promise<void> {
    return this.write(clientId, () => {
      checkSeq(seq);
      return [{ type: 'del', key: messageKey(clientId, seq) }];
    });
  }

  readMessages(clientId: string, seqs: readonly number[]): Promise<StoredMessage[]> {
    const db = this.db;
    let found: StoredMessage[] = [];
    // Through the writer: reads after every write issued before, batched ones included.
    return this.write(clientId, async (earlier) => {
      const keys = seqs.map((seq) => messageKey(clientId, seq));
      const stored = await db!.getMany(keys);
      const pending = new Map(earlier.map((op) => [op.key, op]));
      found = keys.flatMap((key, index) => {
        const op = pending.get(key);
        const value = op ? (op.type === 'put' ? op.value : undefined) : stored[index];
        const message = value && decodeMessage(seqs[index]!, value);
        return message ? [message] : [];
      });
      return [];
    }).then(() => found);
  }

  putForward(message: StoredForward): Promise<void> {
    return this.write(message.link, () => {
      checkSeq(message.seq);
      return [{ type: 'put', key: forwardKey(message.link, message.seq), value: encodeForward(message) }];
    });
  }

  deleteForward(link: string, seq: number): Promise<void> {
    return this.write(link, () => {
      checkSeq(seq);
      return [{ type: 'del', key: forwardKey(link, seq) }];
    });
  }

  async sync(): Promise<void> {
    await this.writer?.sync();
  }

  async close(): Promise<void> {
    const { db, writer } = this;
    if (!db || !writer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.db = undefined; // writes issued from now on are refused
    this.writer = undefined;
    try {
      await writer.sync();
    } finally {
      this.syncsBefore += writer.syncCount;
      await db.close();
    }
  }

  private write(clientId: string, build: Parameters<GroupWriter['write']>[0]): Promise<void> {
    if (!this.writer) return Promise.reject(new StoreError('not-open', `the store in ${this.directory} is not open`));
    try {
      checkClientId(clientId);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writer.write(build);
  }
}

function explainOpenError(directory: string, error: unknown): StoreError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = `${(error as Error).message} ${cause?.message ?? ''}`;
  if (cause?.code === 'LEVEL_LOCKED' || /\block\b/i.test(text)) {
    return new StoreError(
      'locked',
      `the data directory ${directory} is locked: another gateway is probably running with the same --data-dir. Stop it, or give this one its own --data-dir.`,
      { cause: error },
    );
  }
  return new StoreError('cannot-open', `cannot open the data directory ${directory}: ${cause?.message ?? text}`, { cause: error });
}
