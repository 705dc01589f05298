import { QlobberDedup } from 'qlobber';
import { matcherFor } from '../topics/match.js';
import { MAX_TOPIC_LEVELS } from '../topics/names.js';
import type { Session } from './session.js';

/** How long after a SUBSCRIBE retained messages from the broker are taken as that subscription's. */
export const RETAINED_REPLAY_MS = 10_000;
/**
 * Topics remembered by all open windows together (a few MB). Beyond it the windows opened first
 * end early: a flood of subscriptions to `#` against a broker with many retained topics would
 * otherwise make this bookkeeping the largest thing in the heap.
 */
export const MAX_REMEMBERED_TOPICS = 100_000;

/**
 * Which devices a retained message from the broker is for. The broker sets the retain flag only
 * when it sends retained messages for a new subscription (MQTT 3.1.1 §3.3.1.3), and the gateway
 * subscribes again for each device that subscribes, so such a message is for the devices that
 * subscribed to a matching filter just now, once each.
 *
 * Only sessions with a window open on a matching filter are looked at (an index of their filters),
 * never every subscriber of the topic nor every open window: a broker holding thousands of retained
 * topics replays them all for each new subscription, and matching each against thousands of
 * sessions made that replay cost the whole gateway its CPU.
 */
export class RetainedReplay {
  /** Sessions with a window open, for the sweep. */
  private readonly open = new Set<Session>();
  /** Entries in all open windows' `seen` sets. */
  private remembered = 0;
  /** Filter of each open window → its session. */
  /**
   * `maxPerWindow()`: retained messages one subscription takes from a replay (buffer.maxMessages:
   * more could not be held for it anyway). Its window then closes: each window remembers the
   * topics it got, and thousands of sleeping `#` subscribers each remembering every retained topic
   * of a large broker was the heap of a Pi.
   */
  constructor(private readonly maxPerWindow: () => number) {}

  private readonly index = new QlobberDedup<Session>({ separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true, max_words: MAX_TOPIC_LEVELS });

  /**
   * `session` subscribed to `filter` at `now`: true when the broker should replay retained messages
   * for it. A repeated SUBSCRIBE while its window is still open asks for nothing more (a device
   * sending SUBSCRIBE in a loop would otherwise have the broker replay its whole store each time).
   */
  subscribed(session: Session, filter: string, now: number): boolean {
    this.endWindows(session, now);
    if (session.retainedWanted.has(filter)) return false;
    session.retainedWanted.set(filter, { until: now + RETAINED_REPLAY_MS, seen: new Set() });
    this.index.add(filter, session);
    this.open.add(session);
    return true;
  }

  /** The sessions a retained message on `topic` is for; each gets it once. */
  wanting(topic: string, now: number): Session[] {
    const wanting: Session[] = [];
    if (this.open.size === 0) return wanting;
    // The index has no `$` rule (MQTT 3.1.1 §4.7.2): the matcher applies it.
    const matches = matcherFor(topic);
    for (const session of this.index.match(topic)) if (this.claim(session, topic, matches, now)) wanting.push(session);
    return wanting;
  }

  /** Whether a retained message on `topic` is for this one session (transparent mode: its own connection). */
  wants(session: Session, topic: string, now: number): boolean {
    this.endWindows(session, now);
    return this.claim(session, topic, matcherFor(topic), now);
  }

  /** True, once per topic, when one of the session's open windows matches `topic`. */
  private claim(session: Session, topic: string, matches: (filter: string) => boolean, now: number): boolean {
    for (const [filter, wanted] of session.retainedWanted) {
      if (wanted.until >= now && !wanted.seen.has(topic) && matches(filter)) {
        wanted.seen.add(topic);
        this.remembered++;
        if (wanted.seen.size >= this.maxPerWindow()) this.endWindow(session, filter);
        for (const oldest of this.open) {
          if (this.remembered <= MAX_REMEMBERED_TOPICS) break;
          this.endWindows(oldest, Number.POSITIVE_INFINITY);
        }
        return true;
      }
    }
    return false;
  }

  /** Ends windows that ran out (supervision calls this; most never see the message that would). */
  sweep(now: number): void {
    for (const session of this.open) this.endWindows(session, now);
  }

  /** The session is gone: it wants nothing more. */
  forget(session: Session): void {
    this.endWindows(session, Number.POSITIVE_INFINITY);
  }

  private endWindows(session: Session, now: number): void {
    for (const [filter, wanted] of session.retainedWanted) if (wanted.until < now) this.endWindow(session, filter);
  }

  private endWindow(session: Session, filter: string): void {
    this.remembered -= session.retainedWanted.get(filter)?.seen.size ?? 0;
    session.retainedWanted.delete(filter);
    this.index.remove(filter, session);
    if (session.retainedWanted.size === 0) this.open.delete(session);
  }
}
