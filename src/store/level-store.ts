import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import type { DurableStore, StoredMessage, StoredSession, StoredState } from './durable-store.js';

/** Key layout: every message of a client is contiguous and ordered by seq (12 hex digits). */
const SESSION = 's\u0000';
const MESSAGE = 'm\u0000';
const SYNC_MARKER = 'z\u0000sync';
const sessionKey = (clientId: string): string => `${SESSION}${clientId}`;
const messagePrefix = (clientId: string): string => `${MESSAGE}${clientId}\u0000`;
const messageKey = (clientId: string, seq: number): string => `${messagePrefix(clientId)}${seq.toString(16).padStart(12, '0')}`;

/** [qos u8][retain u8][topic length u16][topic utf8][payload]: compact, and binary-safe. */
function encodeMessage(message: StoredMessage): Buffer {
  const topic = Buffer.from(message.topic, 'utf8');
  const record = Buffer.allocUnsafe(4 + topic.length + message.payload.length);
  record[0] = message.qos;
  record[1] = message.retain ? 1 : 0;
  record.writeUInt16BE(topic.length, 2);
  topic.copy(record, 4);
  message.payload.copy(record, 4 + topic.length);
  return record;
}

function decodeMessage(seq: number, record: Buffer): StoredMessage {
  const topicLength = record.readUInt16BE(2);
  return {
    seq,
    qos: record[0] as 0 | 1 | 2,
    retain: record[1] === 1,
    topic: record.toString('utf8', 4, 4 + topicLength),
    payload: Buffer.from(record.subarray(4 + topicLength)),
  };
}

interface SessionJson extends Omit<StoredSession, 'will'> {
  will?: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean };
}

/**
 * The durable store on LevelDB (classic-level: prebuilt for the Pi's architectures, nothing to
 * compile; an append-only log suits SD cards). Every write reaches the OS at once (`sync: false`),
 * so a killed process loses nothing; one synced write every `syncIntervalMs`, only when something
 * changed, makes them survive a power cut too, without one flash sync per message.
 */
export class LevelStore implements DurableStore {
  private readonly db: ClassicLevel<string, Buffer>;
  private readonly syncIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private unsynced = false;
  /** Synced writes so far (tests check that writes are grouped). */
  syncCount = 0;

  constructor(
    private readonly directory: string,
    options: { syncIntervalMs?: number } = {},
  ) {
    this.db = new ClassicLevel<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
  }

  async open(): Promise<StoredState> {
    try {
      await mkdir(this.directory, { recursive: true });
      await this.db.open();
    } catch (error) {
      throw explainOpenError(this.directory, error as Error & { cause?: Error });
    }
    this.timer = setInterval(() => void this.sync().catch(() => undefined), this.syncIntervalMs);
    this.timer.unref();
    const sessions = new Map<string, { session: StoredSession; messages: StoredMessage[] }>();
    for await (const [key, value] of this.db.iterator({ gte: SESSION, lt: `s\u0001` })) {
      const session = parseSession(value);
      sessions.set(key.slice(SESSION.length), { session, messages: [] });
    }
    for await (const [key, value] of this.db.iterator({ gte: MESSAGE, lt: `m\u0001` })) {
      const rest = key.slice(MESSAGE.length);
      const split = rest.lastIndexOf('\u0000');
      const entry = sessions.get(rest.slice(0, split));
      if (entry) entry.messages.push(decodeMessage(parseInt(rest.slice(split + 1), 16), value));
    }
    return { sessions: [...sessions.values()] };
  }

  async putSession(session: StoredSession): Promise<void> {
    checkClientId(session.clientId);
    const { will, ...rest } = session;
    const json: SessionJson = will ? { ...rest, will: { ...will, payload: will.payload.toString('base64') } } : rest;
    await this.write(() => this.db.put(sessionKey(session.clientId), Buffer.from(JSON.stringify(json)), { sync: false }));
  }

  async deleteSession(clientId: string): Promise<void> {
    checkClientId(clientId);
    const prefix = messagePrefix(clientId);
    await this.write(async () => {
      await this.db.del(sessionKey(clientId), { sync: false });
      await this.db.clear({ gte: prefix, lt: `${prefix}\uffff` });
    });
  }

  async putMessage(clientId: string, message: StoredMessage): Promise<void> {
    checkClientId(clientId);
    await this.write(() => this.db.put(messageKey(clientId, message.seq), encodeMessage(message), { sync: false }));
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    await this.write(() => this.db.del(messageKey(clientId, seq), { sync: false }));
  }

  /** One synced write flushes LevelDB's log, and with it every earlier unsynced write. */
  async sync(): Promise<void> {
    if (!this.unsynced || this.db.status !== 'open') return;
    this.unsynced = false;
    this.syncCount++;
    await this.db.put(SYNC_MARKER, Buffer.alloc(0), { sync: true });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.db.status !== 'open') return;
    await this.sync();
    await this.db.close();
  }

  private async write(operation: () => Promise<void>): Promise<void> {
    this.unsynced = true;
    await operation();
  }
}

function parseSession(value: Buffer): StoredSession {
  const json = JSON.parse(value.toString('utf8')) as SessionJson;
  const { will, ...rest } = json;
  return will ? { ...rest, will: { ...will, payload: Buffer.from(will.payload, 'base64') } } : rest;
}

function checkClientId(clientId: string): void {
  if (clientId.includes('\u0000')) throw new Error(`client ID ${JSON.stringify(clientId)} contains NUL, which the store cannot key`);
}

function explainOpenError(directory: string, error: Error & { cause?: Error }): Error {
  const text = `${error.message} ${error.cause?.message ?? ''}`;
  if (/lock/i.test(text)) {
    return new Error(`data directory ${directory} is in use: another gateway is probably running with the same --data-dir. Stop it, or give this one its own --data-dir.`);
  }
  return new Error(`cannot open the data directory ${directory}: ${error.cause?.message ?? error.message}. Check it exists and is writable, or pick another with --data-dir.`);
}
