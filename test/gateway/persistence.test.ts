import { describe, expect, it } from 'vitest';
import { SessionPersistence } from '../../src/gateway/persistence.js';
import type { Peer } from '../../src/gateway/peer.js';
import { Session } from '../../src/gateway/session.js';
import { silentLogger } from '../../src/log.js';
import type { StoredSession } from '../../src/store/durable-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { PredefinedTopics } from '../../src/topics/predefined.js';

/** A store whose disk is slow: each session write waits until `release()`. */
class SlowStore extends MemoryStore {
  readonly written: StoredSession[] = [];
  readonly deleted: Array<[string, boolean | undefined]> = [];
  private readonly waiting: Array<() => void> = [];
  override async putSession(session: StoredSession): Promise<void> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.written.push(session);
    return super.putSession(session);
  }
  override async deleteSession(clientId: string, mayHaveMessages?: boolean): Promise<void> {
    this.deleted.push([clientId, mayHaveMessages]);
    return super.deleteSession(clientId);
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SessionPersistence', () => {
  it('keeps one write per session queued however far behind the disk is, and the last one has the latest state', async () => {
    const store = new SlowStore();
    const persistence = new SessionPersistence(store, silentLogger());
    const session = new Session('busy', { key: 'k', address: '127.0.0.1:1', radio: { name: 'udp://127.0.0.1:0' } } as unknown as Peer, new PredefinedTopics([]), 0);
    for (let i = 1; i <= 100; i++) {
      session.keepAlive = i;
      persistence.save(session);
      await turn();
    }
    store.release();
    await turn();
    store.release();
    await persistence.flushNow();
    expect(store.written.map((record) => record.keepAlive)).toEqual([1, 100]);
  });

  it('deletes without looking for messages when the session never stored one', async () => {
    const store = new SlowStore();
    const persistence = new SessionPersistence(store, silentLogger());
    const fresh = new Session('fresh', { key: 'a' } as Peer, new PredefinedTopics([]), 0);
    const holder = new Session('holder', { key: 'b' } as Peer, new PredefinedTopics([]), 0);
    holder.nextSeq = 5;
    persistence.forget(fresh);
    persistence.forget(holder);
    await turn();
    expect(store.deleted).toEqual([['fresh', false], ['holder', true]]);
  });
});
