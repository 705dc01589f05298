/**
 * The gateway's durable store: sessions and the messages held for absent devices, so a restart
 * (clean or `kill -9`) loses neither.
 */
export interface StoredWill {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface StoredSubscription {
  filter: string;
  qos: 0 | 1 | 2;
  kind: 'name' | 'predefined' | 'short';
}

export interface StoredSession {
  clientId: string;
  state: 'active' | 'asleep' | 'awake' | 'disconnected' | 'lost';
  cleanSession: boolean;
  /** Seconds. */
  keepAlive: number;
  /** Seconds. */
  sleepDuration: number;
  will?: StoredWill;
  subscriptions: StoredSubscription[];
  /** The device's normal topic IDs. */
  topics: Array<[name: string, id: number]>;
  predefinedInUse: number[];
}

export interface StoredMessage {
  seq: number;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Messages sorted by seq ascending. */
export interface StoredState {
  sessions: Array<{ session: StoredSession; messages: StoredMessage[] }>;
}

export interface DurableStore {
  /** Opens (creating the directory if needed) and loads everything. */
  open(): Promise<StoredState>;
  /** Replaces a session record (not its messages). */
  putSession(session: StoredSession): Promise<void>;
  /** Deletes a session record and all its messages. */
  deleteSession(clientId: string): Promise<void>;
  /** Appends a held message for a client; resolves once it reached the OS (survives kill -9). */
  putMessage(clientId: string, message: StoredMessage): Promise<void>;
  /** Removes a delivered (or dropped) message. */
  deleteMessage(clientId: string, seq: number): Promise<void>;
  /** Forces the group sync now (shutdown, tests). */
  sync(): Promise<void>;
  close(): Promise<void>;
}
