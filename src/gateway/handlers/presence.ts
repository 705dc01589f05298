import type { Disconnect, PingReq } from '../../codec/packets.js';
import type { GatewayContext } from '../context.js';
import { settle, spillStored } from '../delivery.js';
import type { Peer } from '../peer.js';
import type { Session } from '../session.js';

/**
 * PINGREQ (§6.14): from an active device, answered at once; carrying a client ID, a sleeping
 * device wakes up: its buffered messages go out first and PINGRESP closes the flush (see pump).
 */
export function handlePingReq(ctx: GatewayContext, peer: Peer, packet: PingReq): void {
  if (packet.clientId !== undefined) {
    const session = ctx.sessions.get(packet.clientId);
    if (session && (session.state === 'asleep' || session.state === 'awake')) {
      if (!ctx.access.allowsAddress(peer.radio.name, peer.address)) {
        ctx.denied('wake-up PINGREQ', { clientId: session.clientId, radio: peer.radio.name, address: peer.address });
        return; // a sleeping session is not moved to an address the rules do not allow
      }
      ctx.sessions.move(session, peer); // it may wake up behind a new port
      session.lastSeen = ctx.clock.now();
      if (session.state === 'asleep') ctx.stats.wakeUps++;
      session.state = 'awake';
      ctx.pump(session);
      return;
    }
    if (!session || session.peer.key !== peer.key) return; // wrong client ID: ignore (§6.14)
  }
  const session = ctx.sessions.atPeer(peer);
  if (!session || !session.reachable) {
    ctx.stats.unexpected++;
    ctx.send(peer, { type: 'disconnect' });
    return;
  }
  ctx.send(peer, { type: 'pingresp' });
}

/** DISCONNECT (§6.14): with a duration the device goes to sleep, otherwise it leaves; no will either way. */
export function handleDisconnect(ctx: GatewayContext, peer: Peer, packet: Disconnect): void {
  const session = ctx.sessions.atPeer(peer);
  ctx.send(peer, { type: 'disconnect' });
  if (!session) return;
  // A zero duration is unspecified; treat it as a plain DISCONNECT (as Paho does).
  // Whatever was on the air stays at the head of the queue for the next wake-up (§6.14).
  settle(ctx, session);
  if (packet.duration !== undefined && packet.duration > 0) {
    session.state = 'asleep';
    session.sleepDuration = packet.duration;
    session.lastSeen = ctx.clock.now();
    spillStored(ctx, session); // what is held for it waits in the store, not in memory
    ctx.saveSession(session);
    return;
  }
  disconnect(ctx, session);
}

/** The device is gone without sleeping: a clean session ends, a persistent one waits disconnected (§6.14). */
export function disconnect(ctx: GatewayContext, session: Session): void {
  if (session.cleanSession) {
    ctx.destroy(session);
    return;
  }
  session.state = 'disconnected';
  spillStored(ctx, session);
  ctx.sessions.unbindPeer(session);
  ctx.sessions.markAway(session);
  ctx.saveSession(session);
  ctx.closeLink(session); // its broker session stays (clean session off) and queues for it
}
