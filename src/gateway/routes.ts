import { QlobberDedup } from 'qlobber';
import { MAX_TOPIC_LEVELS } from '../topics/names.js';
import type { Session } from './session.js';

/**
 * Topic filter → sessions subscribed to it, for routing broker messages (shared broker connection).
 *
 * A session can be parked: its filters leave the table while its subscriptions stay on the session
 * and at the broker. The gateway parks a device that is gone (disconnected or lost) once a message
 * for it had to be dropped: it would drop every later one too, and a flood fanned out to thousands
 * of abandoned sessions must cost nothing per message. It is routed again when it comes back.
 */
export class Routes {
  private readonly table = new QlobberDedup<Session>({ separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true, max_words: MAX_TOPIC_LEVELS });
  private readonly parked = new WeakSet<Session>();

  add(filter: string, session: Session): void {
    if (!this.parked.has(session)) this.table.add(filter, session);
  }

  remove(filter: string, session: Session): void {
    this.table.remove(filter, session);
  }

  /** The sessions with a filter matching `topic` (a fresh set: callers may park while iterating). */
  match(topic: string): Set<Session> {
    return this.table.match(topic);
  }

  /** Takes the session's filters out of the table; true when it was routed until now. */
  park(session: Session): boolean {
    if (this.parked.has(session)) return false;
    this.parked.add(session);
    for (const filter of session.subscriptions.keys()) this.table.remove(filter, session);
    return true;
  }

  /** Puts a parked session's filters back. */
  unpark(session: Session): void {
    if (!this.parked.delete(session)) return;
    for (const filter of session.subscriptions.keys()) this.table.add(filter, session);
  }

  isParked(session: Session): boolean {
    return this.parked.has(session);
  }
}
