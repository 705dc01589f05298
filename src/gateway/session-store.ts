import type { Peer } from './peer.js';
import type { Session } from './session.js';

/** Sessions by client ID (their identity) and by peer (how a datagram finds its session). */
export class SessionStore {
  private readonly byClientId = new Map<string, Session>();
  private readonly byPeer = new Map<string, Session>();

  get(clientId: string): Session | undefined {
    return this.byClientId.get(clientId);
  }

  atPeer(peer: Peer): Session | undefined {
    return this.byPeer.get(peer.key);
  }

  add(session: Session): void {
    this.byClientId.set(session.clientId, session);
    this.byPeer.set(session.peer.key, session);
  }

  /** The device now talks from `peer` (NAT rebinding, reboot, another radio): follow it. */
  move(session: Session, peer: Peer): void {
    if (this.byPeer.get(session.peer.key) === session) this.byPeer.delete(session.peer.key);
    const previous = this.byPeer.get(peer.key);
    if (previous && previous !== session) this.byPeer.delete(peer.key);
    session.peer = peer;
    this.byPeer.set(peer.key, session);
  }

  /** Detaches the peer so datagrams from it no longer reach the session (the session itself stays). */
  unbindPeer(session: Session): void {
    if (this.byPeer.get(session.peer.key) === session) this.byPeer.delete(session.peer.key);
  }

  remove(session: Session): void {
    if (this.byClientId.get(session.clientId) === session) this.byClientId.delete(session.clientId);
    this.unbindPeer(session);
  }

  get size(): number {
    return this.byClientId.size;
  }

  values(): IterableIterator<Session> {
    return this.byClientId.values();
  }
}
