import type { ClassicLevel } from 'classic-level';
import type { StoredForward, StoredMessageRef, StoredSession, StoredState } from './durable-store.js';
import type { GroupWriter } from './group-writer.js';
import { FORWARD, MESSAGE, SESSION, decodeForward, decodeSession, messageSize, parseMessageKey } from './records.js';

/** What `open()` found on disk. */
export interface LoadReport {
  sessions: number;
  messages: number;
  /** Messages whose client has no session record: undeliverable, deleted at open. */
  orphanMessages: number;
  /** Device messages waiting for the broker (store-and-forward). */
  forward: number;
  /** Records that could not be decoded: skipped and left on disk for inspection. */
  damagedRecords: number;
}

/** Reads the whole store in one ordered pass; keys sort messages by client, then by seq. */
export async function loadAll(db: ClassicLevel<string, Buffer>, writer: GroupWriter): Promise<{ state: StoredState; report: LoadReport }> {
  const sessions = new Map<string, StoredSession>();
  const sessionKeys = new Set<string>(); // damaged ones too: their messages are not orphans
  const messages = new Map<string, { keys: string[]; list: StoredMessageRef[] }>();
  const forward: StoredForward[] = [];
  let damagedRecords = 0;
  for await (const [key, value] of db.iterator()) {
    if (key.startsWith(SESSION)) {
      const clientId = key.slice(SESSION.length);
      sessionKeys.add(clientId);
      const session = decodeSession(value);
      if (session) sessions.set(clientId, { ...session, clientId });
      else damagedRecords++;
    } else if (key.startsWith(MESSAGE)) {
      const parsed = parseMessageKey(key);
      const size = parsed && messageSize(value);
      if (!parsed || size === undefined) {
        damagedRecords++;
        continue;
      }
      let entry = messages.get(parsed.clientId);
      if (!entry) messages.set(parsed.clientId, (entry = { keys: [], list: [] }));
      entry.keys.push(key);
      entry.list.push({ seq: parsed.seq, size });
    } else if (key.startsWith(FORWARD)) {
      const parsed = parseMessageKey(key, FORWARD);
      const message = parsed && decodeForward(parsed.clientId, parsed.seq, value);
      if (message) forward.push(message);
      else damagedRecords++;
    }
  }
  const orphanKeys = [...messages].filter(([clientId]) => !sessionKeys.has(clientId)).flatMap(([, entry]) => entry.keys);
  if (orphanKeys.length > 0) await writer.write(() => orphanKeys.map((key) => ({ type: 'del', key })));
  const state: StoredState = {
    sessions: [...sessions].map(([clientId, session]) => ({ session, messages: messages.get(clientId)?.list ?? [] })),
    forward,
  };
  const messageCount = state.sessions.reduce((sum, entry) => sum + entry.messages.length, 0);
  return { state, report: { sessions: sessions.size, messages: messageCount, orphanMessages: orphanKeys.length, forward: forward.length, damagedRecords } };
}
