import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { Radio, RadioEvents } from '../radio.js';
import type { DurableStore, StoredMessageRef, StoredPeer, StoredSession } from '../store/durable-store.js';
import type { PredefinedTopics } from '../topics/predefined.js';
import { makePeer, type Peer } from './peer.js';
import { Session, type OutboundMessage } from './session.js';

/** Where a restored session "is" until its device shows up again: nowhere to send to. */
class NowhereRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name = 'restored://nowhere';
  readonly maxFrameSize = 65_535;
  async start(): Promise<void> {}
  send(): void {}
  broadcast(): void {}
  async close(): Promise<void> {}
}
const NOWHERE: Peer = { radio: new NowhereRadio(), address: '', key: '' };

export function toRecord(session: Session): StoredSession {
  return {
    clientId: session.clientId,
    state: session.state === 'connecting' ? 'active' : session.state,
    cleanSession: session.cleanSession,
    keepAlive: session.keepAlive,
    sleepDuration: session.sleepDuration,
    ...(session.will ? { will: { ...session.will } } : {}),
    subscriptions: [...session.subscriptions.values()].map((s) => ({ ...s })),
    topics: [...session.registry.entries()],
    predefinedInUse: [...session.predefinedInUse],
    ...(released(session).length > 0 ? { qos2Received: released(session) } : {}),
    lastSeen: session.lastSeen,
    ...(session.peer !== NOWHERE ? { peer: storedPeer(session.peer), knownTopics: session.registry.knownIds() } : {}),
  };
}

function storedPeer(peer: Peer): StoredPeer {
  return { radio: peer.radio.name, address: peer.address, ...(peer.wirelessNodeId ? { wirelessNodeId: peer.wirelessNodeId.toString('hex') } : {}) };
}

/** The stored peer on one of this gateway's radios, or nowhere when that radio is no longer configured. */
function restoredPeer(stored: StoredPeer | undefined, radioNamed: (name: string) => Radio | undefined): Peer {
  const radio = stored && radioNamed(stored.radio);
  if (!stored || !radio) return NOWHERE;
  return makePeer(radio, stored.address, stored.wirelessNodeId === undefined ? undefined : Buffer.from(stored.wirelessNodeId, 'hex'));
}

/** QoS 2 MsgIds already PUBREC'd: after a restart, a repeated PUBLISH with one of them is not forwarded again. */
function released(session: Session): number[] {
  return [...session.qos2Received].filter(([, state]) => state === 'received').map(([msgId]) => msgId);
}

/**
 * Rebuilds a session after a restart, so the device does not notice it. One that was connected
 * stays connected at the same radio and address, with its topic IDs and queue; its keep-alive is
 * supervised from now. One that was asleep (or awake mid-flush) is asleep, its sleep timer
 * starting again now. A device whose radio is no longer configured is disconnected: it gets its
 * session back when it reconnects.
 */
export function fromRecord(record: StoredSession, messages: readonly StoredMessageRef[], predefined: PredefinedTopics, now: number, radioNamed: (name: string) => Radio | undefined = () => undefined): Session {
  const peer = record.state === 'lost' || record.state === 'disconnected' ? NOWHERE : restoredPeer(record.peer, radioNamed);
  const session = new Session(record.clientId, peer, predefined, now);
  session.state = record.state === 'asleep' || record.state === 'awake' ? 'asleep' : record.state === 'lost' ? 'lost' : peer === NOWHERE ? 'disconnected' : 'active';
  // Away devices keep their silence (expiry); connected and sleeping ones are supervised from now.
  if ((session.state === 'lost' || session.state === 'disconnected') && record.lastSeen !== undefined) session.lastSeen = Math.min(record.lastSeen, now);
  session.cleanSession = record.cleanSession;
  session.keepAlive = record.keepAlive;
  session.sleepDuration = record.sleepDuration;
  if (record.will) session.will = { ...record.will };
  for (const subscription of record.subscriptions) session.subscriptions.set(subscription.filter, { ...subscription });
  for (const [name, id] of record.topics) session.registry.restore(name, id);
  for (const id of record.predefinedInUse) session.predefinedInUse.add(id);
  if (session.state === 'active') for (const id of record.knownTopics ?? []) session.registry.markKnown(id);
  for (const msgId of record.qos2Received ?? []) session.qos2Received.set(msgId, 'received');
  // Listed, not kept in memory: read back from the store when the device is reachable.
  for (const message of messages) {
    session.spilled.push(message.seq, message.size);
    session.nextSeq = Math.max(session.nextSeq, message.seq + 1);
  }
  return session;
}

/**
 * Keeps sessions and buffered messages in the durable store. Session records are written at most
 * once per session per event-loop turn, however many changes the turn made.
 */
export class SessionPersistence {
  private readonly dirty = new Set<Session>();
  private scheduled = false;
  /**
   * Session records on their way to the store, and whether the session changed again meanwhile:
   * one write per session queued at a time, however far behind the disk is (a flood of sessions
   * changing faster than the disk writes them had queued records without bound).
   */
  private readonly writing = new Map<Session, { again: boolean; readonly done: Promise<void> }>();

  constructor(
    readonly store: DurableStore,
    private readonly logger: Logger,
  ) {}

  save(session: Session): void {
    this.dirty.add(session);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  forget(session: Session): void {
    this.dirty.delete(session);
    this.writing.delete(session); // a write on its way is not repeated after the deletion
    this.store.deleteSession(session.clientId, session.nextSeq > 1).catch((error: Error) => this.failed('delete session', session, error));
  }

  storeMessage(session: Session, message: OutboundMessage & { seq: number }): Promise<void> {
    // The session record goes first: the store drops messages whose session it does not know.
    if (this.dirty.delete(session)) this.writeSession(session);
    const { seq, topic, payload, qos, retain } = message;
    return this.store.putMessage(session.clientId, { seq, topic, payload, qos, retain });
  }

  forgetMessage(session: Session, seq: number): void {
    this.store.deleteMessage(session.clientId, seq).catch((error: Error) => this.failed('delete message', session, error));
  }

  /** Writes pending session records now (shutdown). */
  async flushNow(): Promise<void> {
    this.flush();
    while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()].map((write) => write.done));
    await this.store.sync();
  }

  private flush(): void {
    this.scheduled = false;
    for (const session of this.dirty) this.writeSession(session);
    this.dirty.clear();
  }

  private writeSession(session: Session): void {
    const pending = this.writing.get(session);
    if (pending) {
      pending.again = true; // already queued ahead of anything issued now: the next write follows it
      return;
    }
    const done = this.store.putSession(toRecord(session)).then(
      () => undefined,
      (error: Error) => this.failed('save session', session, error),
    );
    const write = { again: false, done };
    this.writing.set(session, write);
    void done.then(() => {
      if (this.writing.get(session) !== write) return; // forgotten meanwhile
      this.writing.delete(session);
      if (write.again) this.writeSession(session);
    });
  }

  private failed(what: string, session: Session, error: Error): void {
    this.logger.error({ clientId: session.clientId, err: error.message }, `durable store: ${what} failed`);
  }
}
