import type { Radio } from '../radio.js';
import type { Peer } from './peer.js';
import type { Session } from './session.js';

/**
 * Sessions by client ID (their identity) and by peer (how a datagram finds its session).
 * Direct peers are also indexed by radio and raw address, so the hot path finds a session
 * without building a key string per datagram.
 */
export class SessionStore {
  private readonly byClientId = new Map<string, Session>();
  private readonly byPeer = new Map<string, Session>();
  private readonly byAddress = new Map<Radio, Map<string, Session>>();
  /**
   * Sessions whose device went away (lost or disconnected), in the order they went: what a full
   * table may evict and what expires first. Entries whose session came back are skipped and
   * dropped when met.
   */
  private readonly away = new Set<Session>();
  /**
   * Sessions by the peer they last talked from, bound or not (asleep, gone): what one address has
   * left behind, for limits.sessionsPerAddress. Arrays: nearly all hold one session.
   */
  private readonly byLastPeer = new Map<string, Session[]>();

  /** Told of every state change of a session in the table (and of the last one, as it leaves). */
  constructor(private readonly onStateChange?: (session: Session) => void) {}

  get(clientId: string): Session | undefined {
    return this.byClientId.get(clientId);
  }

  atPeer(peer: Peer): Session | undefined {
    return this.byPeer.get(peer.key);
  }

  /** The session of a device talking directly (not behind a forwarder) from `address` on `radio`. */
  atAddress(radio: Radio, address: string): Session | undefined {
    return this.byAddress.get(radio)?.get(address);
  }

  add(session: Session): void {
    session.onStateChange = this.onStateChange;
    this.byClientId.set(session.clientId, session);
    this.bind(session.peer, session);
    this.remember(session);
  }

  /** A session restored from the durable store: known by client ID, not reachable until it shows up. */
  adopt(session: Session): void {
    session.onStateChange = this.onStateChange;
    this.byClientId.set(session.clientId, session);
    this.remember(session);
  }

  /** Sessions whose device last talked from `peer` (the one bound there, if any, among them). */
  lastAt(peer: Peer): readonly Session[] {
    return this.byLastPeer.get(peer.key) ?? [];
  }

  /** The device now talks from `peer` (NAT rebinding, reboot, another radio): follow it. */
  move(session: Session, peer: Peer): void {
    this.unbindPeer(session);
    const previous = this.byPeer.get(peer.key);
    if (previous && previous !== session) this.unbindPeer(previous);
    this.forgetPeer(session);
    session.peer = peer;
    this.bind(peer, session);
    this.remember(session);
  }

  /** Detaches the peer so datagrams from it no longer reach the session (the session itself stays). */
  unbindPeer(session: Session): void {
    const { peer } = session;
    if (this.byPeer.get(peer.key) !== session) return;
    this.byPeer.delete(peer.key);
    if (!peer.wirelessNodeId) this.byAddress.get(peer.radio)?.delete(peer.address);
  }

  remove(session: Session): void {
    if (this.byClientId.get(session.clientId) === session) this.byClientId.delete(session.clientId);
    this.unbindPeer(session);
    this.forgetPeer(session);
    this.away.delete(session);
  }

  /** The device has gone (lost or disconnected): its session joins the end of the away list. */
  markAway(session: Session): void {
    this.away.delete(session);
    this.away.add(session);
  }

  /** The session away the longest, if any is still away. */
  longestAway(): Session | undefined {
    for (const session of this.away) {
      if ((session.state === 'lost' || session.state === 'disconnected') && this.byClientId.get(session.clientId) === session) return session;
      this.away.delete(session); // it came back, or is gone
    }
    return undefined;
  }

  get size(): number {
    return this.byClientId.size;
  }

  values(): IterableIterator<Session> {
    return this.byClientId.values();
  }

  private remember(session: Session): void {
    const sessions = this.byLastPeer.get(session.peer.key);
    if (!sessions) this.byLastPeer.set(session.peer.key, [session]);
    else if (!sessions.includes(session)) sessions.push(session);
  }

  private forgetPeer(session: Session): void {
    const sessions = this.byLastPeer.get(session.peer.key);
    if (!sessions) return;
    const index = sessions.indexOf(session);
    if (index >= 0) sessions.splice(index, 1);
    if (sessions.length === 0) this.byLastPeer.delete(session.peer.key);
  }

  private bind(peer: Peer, session: Session): void {
    this.byPeer.set(peer.key, session);
    if (peer.wirelessNodeId) return;
    let addresses = this.byAddress.get(peer.radio);
    if (!addresses) {
      addresses = new Map();
      this.byAddress.set(peer.radio, addresses);
    }
    addresses.set(peer.address, session);
  }
}
