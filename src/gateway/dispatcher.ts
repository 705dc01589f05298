import type { InnerPacket } from '../codec/packets.js';
import type { GatewayContext } from './context.js';
import { handleConnect, handleWillMsg, handleWillTopic } from './handlers/connect.js';
import { handleDisconnect, handlePingReq } from './handlers/presence.js';
import { handlePuback, handlePubcomp, handlePublish, handlePublishWithoutSession, handlePubrec, handlePubrel } from './handlers/publish.js';
import { handleRegack, handleRegister } from './handlers/register.js';
import { handleSubscribe, handleUnsubscribe } from './handlers/subscribe.js';
import { handleWillMsgUpd, handleWillTopicUpd } from './handlers/will-update.js';
import type { Peer } from './peer.js';
import type { Session } from './session.js';

/**
 * Routes one decoded packet to its handler after checking what the sender's state allows.
 * Packets that make no sense where they arrive are counted and dropped; a device without a
 * session is told so with DISCONNECT (MQTT-SN 1.2 §5.4.21).
 */
export function dispatch(ctx: GatewayContext, peer: Peer, packet: InnerPacket): void {
  // Every valid message restarts keep-alive supervision, not only PINGREQ (§6.14 reference (e)).
  const known = ctx.sessions.atPeer(peer);
  if (known) known.lastSeen = ctx.clock.now();
  // Packets that need no session.
  switch (packet.type) {
    case 'connect':
      return handleConnect(ctx, peer, packet);
    case 'searchgw':
      return ctx.searchGw(peer);
    case 'advertise':
    case 'gwinfo':
      return; // another gateway's discovery traffic (reference (f)): not ours to answer
    case 'pingreq':
      return handlePingReq(ctx, peer, packet);
    case 'disconnect':
      return handleDisconnect(ctx, peer, packet);
    case 'publish':
      if (packet.qos === -1) return handlePublishWithoutSession(ctx, peer, packet);
      break;
    default:
      break;
  }
  const session = known;
  if (!session || session.state === 'disconnected' || session.state === 'lost') {
    ctx.stats.unexpected++;
    ctx.send(peer, { type: 'disconnect' });
    return;
  }
  if (session.state === 'connecting') return dispatchWhileConnecting(ctx, session, packet);
  dispatchConnected(ctx, session, packet);
}

/** Only the will exchange may happen before CONNACK (§6.3). */
function dispatchWhileConnecting(ctx: GatewayContext, session: Session, packet: InnerPacket): void {
  if (packet.type === 'willtopic') return handleWillTopic(ctx, session, packet);
  if (packet.type === 'willmsg') return handleWillMsg(ctx, session, packet);
  ctx.stats.unexpected++;
}

function dispatchConnected(ctx: GatewayContext, session: Session, packet: InnerPacket): void {
  switch (packet.type) {
    case 'publish':
      return handlePublish(ctx, session, packet);
    case 'puback':
      return handlePuback(ctx, session, packet);
    case 'register':
      return handleRegister(ctx, session, packet);
    case 'regack':
      return handleRegack(ctx, session, packet);
    case 'subscribe':
      return handleSubscribe(ctx, session, packet);
    case 'unsubscribe':
      return handleUnsubscribe(ctx, session, packet);
    case 'willtopicupd':
      return handleWillTopicUpd(ctx, session, packet);
    case 'willmsgupd':
      return handleWillMsgUpd(ctx, session, packet);
    case 'pubrel':
      return handlePubrel(ctx, session, packet);
    case 'pubrec':
      return handlePubrec(ctx, session, packet);
    case 'pubcomp':
      return handlePubcomp(ctx, session, packet);
    case 'willtopic':
    case 'willmsg':
    case 'connack':
    case 'willtopicreq':
    case 'willmsgreq':
    case 'suback':
    case 'unsuback':
    case 'pingresp':
    case 'willtopicresp':
    case 'willmsgresp':
    case 'connect':
    case 'searchgw':
    case 'advertise':
    case 'gwinfo':
    case 'pingreq':
    case 'disconnect':
      ctx.stats.unexpected++;
      return;
  }
}
