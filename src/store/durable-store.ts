/**
 * The gateway's durable store: sessions and the messages held for absent devices, so a restart
 * (clean or `kill -9`) loses neither.
 */

/** A device's last will as kept across restarts (MQTT-SN 1.2 §6.3). */
export interface StoredWill {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** One subscription of a device; `kind` says how the device named the topic (MQTT-SN 1.2 §5.3.11). */
export interface StoredSubscription {
  filter: string;
  qos: 0 | 1 | 2;
  kind: 'name' | 'predefined' | 'short';
}

/** Everything about a session except its buffered messages. Plain data. */
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
  /** The device's normal topic IDs (MQTT-SN 1.2 §6.9). */
  topics: Array<[name: string, id: number]>;
  predefinedInUse: number[];
  /** MsgIds of the device's QoS 2 publishes forwarded and PUBREC'd, awaiting its PUBREL (absent: none). */
  qos2Received?: number[];
  /** When the device was last heard from (ms since the epoch): a session away too long expires (limits.sessionExpiry). */
  lastSeen?: number;
  /** Topic IDs the device learnt in its current connection: not registered again after a restart. */
  knownTopics?: number[];
  /** Where the device was last reached (radio URL, address, forwarder's node ID in hex), so a restart does not cut it off. */
  peer?: StoredPeer;
}

export interface StoredPeer {
  radio: string;
  address: string;
  wirelessNodeId?: string;
}

/**
 * A message buffered for a client (typically a sleeping device, MQTT-SN 1.2 §6.14). `seq` is the
 * gateway's own ordering number, unique per client, a non-negative integer below 2^48.
 */
export interface StoredMessage {
  seq: number;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/**
 * A device message waiting for the broker while the upstream link is down (store-and-forward).
 * `link` names the upstream connection it goes out on: '' for the gateway's shared connection,
 * the device's client ID in transparent mode. `properties` are MQTT 5 user properties.
 */
export interface StoredForward extends StoredMessage {
  link: string;
  properties?: Record<string, string>;
}

/**
 * What `open()` loads: every session with its messages, sorted by `seq` ascending, and the
 * messages waiting for the broker, sorted by link, then `seq`.
 */
/** A buffered message as `open()` lists it: its body stays on disk until `readMessages`. */
export interface StoredMessageRef {
  seq: number;
  /** Payload bytes. */
  size: number;
}

export interface StoredState {
  /** Messages listed, not loaded: a restart over a large backlog does not read it into memory. */
  sessions: Array<{ session: StoredSession; messages: StoredMessageRef[] }>;
  forward: StoredForward[];
}

/**
 * Durable sessions and buffered messages. Writes are applied in call order, so a put issued after
 * a delete of the same record wins. A write has reached the operating system when its promise
 * resolves (it survives `kill -9`); it is power-loss durable after the next group sync, which an
 * implementation runs periodically and on `sync()` / `close()`.
 *
 * Client IDs may hold any character except NUL. Messages of a client whose session record is
 * missing at `open()` cannot be delivered and are discarded there.
 */
export interface DurableStore {
  /** Writes issued and not yet done (0 for a store that writes at once). */
  readonly backlog: number;
  /**
   * True when the contents live in this process's memory only (`--data-dir none`): nothing is
   * gained by moving messages out of the gateway's memory into it, so the gateway keeps messages
   * for absent devices itself, under buffer.memoryMessages / memoryBytes.
   */
  readonly volatile?: boolean;
  /** Opens (creating the directory if needed) and loads everything. */
  open(): Promise<StoredState>;
  /** Replaces a session record (not its messages). */
  putSession(session: StoredSession): Promise<void>;
  /**
   * Deletes a session record AND all its messages. `mayHaveMessages: false` (the session never
   * stored one) skips looking for them: under a flood of short-lived sessions that range scan per
   * deletion was what held the store back.
   */
  deleteSession(clientId: string, mayHaveMessages?: boolean): Promise<void>;
  /** Appends a buffered message for a client; resolves once it reached the OS (survives kill -9). */
  putMessage(clientId: string, message: StoredMessage): Promise<void>;
  /** Removes a delivered (or dropped) message. */
  deleteMessage(clientId: string, seq: number): Promise<void>;
  /**
   * Reads buffered messages back, in the order of `seqs`, after every write issued before the
   * call (a message put just before is found, one deleted is not). Missing ones are left out.
   */
  readMessages(clientId: string, seqs: readonly number[]): Promise<StoredMessage[]>;
  /** Keeps a message for the broker; resolves once it reached the OS (survives kill -9). */
  putForward(message: StoredForward): Promise<void>;
  /** Removes a message the broker acknowledged (or that was dropped at the bound). */
  deleteForward(link: string, seq: number): Promise<void>;
  /** Forces the group sync now (used at shutdown and by tests). */
  sync(): Promise<void>;
  /** Writes what is pending, syncs, and releases the store; `open()` may be called again. */
  close(): Promise<void>;
}
