import type { DurableStore, StoredForward, StoredMessage, StoredSession, StoredState } from './durable-store.js';
import { StoreError, checkClientId, checkSeq, checkTopic } from './store-error.js';

/** A deep copy, so callers never share state with the store (Buffers stay Buffers). */
function cloneSession(session: StoredSession): StoredSession {
  return {
    ...session,
    ...(session.will ? { will: { ...session.will, payload: Buffer.from(session.will.payload) } } : {}),
    subscriptions: session.subscriptions.map((subscription) => ({ ...subscription })),
    topics: session.topics.map(([name, id]) => [name, id]),
    predefinedInUse: [...session.predefinedInUse],
    ...(session.qos2Received ? { qos2Received: [...session.qos2Received] } : {}),
  };
}

const cloneMessage = (message: StoredMessage): StoredMessage => ({ ...message, payload: Buffer.from(message.payload) });

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * `--data-dir none`: the gateway keeps held messages in its own (bounded) memory, so the store
   * checks them but does not keep a second copy (see DurableStore.volatile).
   */
  volatile?: boolean;
}

/**
 * A complete in-memory DurableStore: `--data-dir none`, and tests. Its contents survive `close()`
 * and come back on the next `open()` of the same instance (a restart, for gateway tests), but not
 * the process. It refuses writes while closed and checks records as LevelStore does, so code
 * tested against it behaves the same on disk.
 */
export class MemoryStore implements DurableStore {
  readonly volatile: boolean;

  constructor(options: MemoryStoreOptions = {}) {
    this.volatile = options.volatile ?? false;
  }

  private readonly sessions = new Map<string, StoredSession>();
  private readonly messages = new Map<string, Map<number, StoredMessage>>();
  private readonly forward = new Map<string, Map<number, StoredForward>>();
  private isOpen = false;

  readonly backlog = 0;

  async open(): Promise<StoredState> {
    if (this.isOpen) throw new StoreError('cannot-open', 'the memory store is already open');
    this.isOpen = true;
    // Same rule as on disk: messages without a session are undeliverable.
    for (const clientId of this.messages.keys()) if (!this.sessions.has(clientId)) this.messages.delete(clientId);
    return {
      sessions: [...this.sessions].map(([clientId, session]) => ({
        session: cloneSession(session),
        messages: [...(this.messages.get(clientId)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((message) => ({ seq: message.seq, size: message.payload.length })),
      })),
      forward: [...this.forward.keys()]
        .sort()
        .flatMap((link) => [...this.forward.get(link)!.values()].sort((a, b) => a.seq - b.seq))
        .map((message) => ({ ...cloneMessage(message), link: message.link, ...(message.properties ? { properties: { ...message.properties } } : {}) })),
    };
  }

  async putSession(session: StoredSession): Promise<void> {
    this.check(session.clientId);
    this.sessions.set(session.clientId, cloneSession(session));
  }

  async deleteSession(clientId: string): Promise<void> {
    this.check(clientId);
    this.sessions.delete(clientId);
    this.messages.delete(clientId);
  }

  async putMessage(clientId: string, message: StoredMessage): Promise<void> {
    this.check(clientId, message.seq);
    checkTopic(message.topic);
    if (this.volatile) return;
    let messages = this.messages.get(clientId);
    if (!messages) this.messages.set(clientId, (messages = new Map()));
    messages.set(message.seq, cloneMessage(message));
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    this.check(clientId, seq);
    this.messages.get(clientId)?.delete(seq);
  }

  async readMessages(clientId: string, seqs: readonly number[]): Promise<StoredMessage[]> {
    this.check(clientId);
    const messages = this.messages.get(clientId);
    return seqs.flatMap((seq) => {
      const message = messages?.get(seq);
      return message ? [cloneMessage(message)] : [];
    });
  }

  async putForward(message: StoredForward): Promise<void> {
    this.check(message.link, message.seq);
    checkTopic(message.topic);
    let messages = this.forward.get(message.link);
    if (!messages) this.forward.set(message.link, (messages = new Map()));
    messages.set(message.seq, { ...cloneMessage(message), link: message.link, ...(message.properties ? { properties: { ...message.properties } } : {}) });
  }

  async deleteForward(link: string, seq: number): Promise<void> {
    this.check(link, seq);
    this.forward.get(link)?.delete(seq);
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {
    this.isOpen = false;
  }

  private check(clientId: string, seq?: number): void {
    if (!this.isOpen) throw new StoreError('not-open', 'the memory store is not open');
    checkClientId(clientId);
    if (seq !== undefined) checkSeq(seq);
  }
}
