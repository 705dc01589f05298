import type { DurableStore, StoredMessage, StoredSession, StoredState } from './durable-store.js';

/** A deep copy, so callers never share state with the store (Buffers stay Buffers). */
function cloneSession(session: StoredSession): StoredSession {
  return {
    ...session,
    ...(session.will ? { will: { ...session.will, payload: Buffer.from(session.will.payload) } } : {}),
    subscriptions: session.subscriptions.map((subscription) => ({ ...subscription })),
    topics: session.topics.map(([name, id]) => [name, id]),
    predefinedInUse: [...session.predefinedInUse],
  };
}

/** A complete in-memory DurableStore: `--data-dir none`, and tests. Nothing survives the process. */
export class MemoryStore implements DurableStore {
  private readonly sessions = new Map<string, StoredSession>();
  private readonly messages = new Map<string, Map<number, StoredMessage>>();

  async open(): Promise<StoredState> {
    const clientIds = new Set([...this.sessions.keys()]);
    return {
      sessions: [...clientIds].map((clientId) => ({
        session: cloneSession(this.sessions.get(clientId)!),
        messages: [...(this.messages.get(clientId)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((m) => ({ ...m, payload: Buffer.from(m.payload) })),
      })),
    };
  }

  async putSession(session: StoredSession): Promise<void> {
    this.sessions.set(session.clientId, cloneSession(session));
  }

  async deleteSession(clientId: string): Promise<void> {
    this.sessions.delete(clientId);
    this.messages.delete(clientId);
  }

  async putMessage(clientId: string, message: StoredMessage): Promise<void> {
    let messages = this.messages.get(clientId);
    if (!messages) {
      messages = new Map();
      this.messages.set(clientId, messages);
    }
    messages.set(message.seq, { ...message, payload: Buffer.from(message.payload) });
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    this.messages.get(clientId)?.delete(seq);
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
