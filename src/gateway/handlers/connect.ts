import { ReturnCode, type Connect, type WillMsg, type WillTopic } from '../../codec/packets.js';
import { isValidClientId, isValidTopicName } from '../../topics/names.js';
import { disconnect } from './presence.js';
import type { GatewayContext } from '../context.js';
import { dequeue, settle } from '../delivery.js';
import type { Peer } from '../peer.js';
import { Session, toMqttQos } from '../session.js';

/** Protocol ID of MQTT-SN v1.2 (§5.3.8); anything else is refused with "not supported". */
const PROTOCOL_ID_V12 = 0x01;

/** CONNECT (§6.3): find or create the session by client ID, then ask for the will if flagged. */
export function handleConnect(ctx: GatewayContext, peer: Peer, packet: Connect): void {
  if (packet.protocolId !== PROTOCOL_ID_V12 || packet.clientId.length === 0) {
    ctx.send(peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
    return;
  }
  if (!isValidClientId(packet.clientId)) {
    // It would be stored, used as a broker client ID and in topics: refused at the door.
    ctx.stats.refusedNames++;
    ctx.send(peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
    return;
  }
  if (!ctx.access.allowsConnect(packet.clientId, peer.radio.name, peer.address)) {
    // MQTT-SN has no "not authorised": "rejected: not supported" is the closest (§5.3.10).
    ctx.denied('CONNECT', { clientId: packet.clientId, radio: peer.radio.name, address: peer.address });
    ctx.send(peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
    return;
  }
  if (ctx.config.broker.topicPrefix.includes('{clientId}') && (!isValidTopicName(packet.clientId) || packet.clientId.includes('/'))) {
    // The ID goes into every topic: a wildcard would break the broker link, a `/` would let one
    // device write into another's namespace.
    ctx.logger.warn({ clientId: packet.clientId }, 'CONNECT refused: client ID not usable in broker.topicPrefix');
    ctx.send(peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
    return;
  }
  // A different client that used this address before has gone (the address was reused). Left
  // active, it would never be supervised with keep-alive 0 and could never be evicted: a device
  // cycling client IDs would fill limits.maxClients. A sleeping one may wake from anywhere.
  const previousAtPeer = ctx.sessions.atPeer(peer);
  if (previousAtPeer && previousAtPeer.clientId !== packet.clientId) {
    ctx.sessions.unbindPeer(previousAtPeer);
    if (previousAtPeer.state === 'active' || previousAtPeer.state === 'connecting') ctx.lose(previousAtPeer, 'another client connected from its address');
  }

  let session = ctx.sessions.get(packet.clientId);
  if (!session) {
    makeRoomAtAddress(ctx, peer);
    if (ctx.sessions.size >= ctx.config.limits.maxClients) {
      // Room is made from the sessions of devices long gone, never from active or sleeping ones.
      const gone = ctx.sessions.longestAway();
      if (!gone) {
        ctx.logger.warn({ clientId: packet.clientId, limit: ctx.config.limits.maxClients }, 'CONNECT refused: maxClients reached and every session is in use');
        ctx.stats.congestion++;
        ctx.send(peer, { type: 'connack', returnCode: ReturnCode.Congestion });
        return;
      }
      ctx.evict(gone, 'evicted');
    }
    session = new Session(packet.clientId, peer, ctx.predefinedFor(packet.clientId), ctx.clock.now());
    ctx.sessions.add(session);
  } else {
    ctx.sessions.move(session, peer);
    if (packet.cleanSession) resetSession(ctx, session);
    ctx.resumeRouting(session); // parked while it was gone with a full buffer
  }
  settle(ctx, session); // an exchange in flight restarts from the queue head after CONNACK
  session.cleanSession = packet.cleanSession;
  session.keepAlive = packet.duration;
  session.lastSeen = ctx.clock.now();
  // The device may have lost its topic table (reboot): register again before using an ID (§6.10).
  session.registry.forgetKnown();
  // Nor can a MsgId acknowledged on the last connection mark a retransmission on this one: a device
  // that starts its MsgIds over (most do, after a reboot) and whose first try was lost would have
  // its new message answered as a duplicate and never forwarded. A duplicate is allowed at QoS 1.
  session.recentlyAcked.length = 0;

  if (packet.will) {
    session.state = 'connecting';
    session.pendingWill = undefined;
    ctx.send(peer, { type: 'willtopicreq' });
    return;
  }
  if (packet.cleanSession) session.will = undefined; // clean + no will: delete both (§6.3)
  accept(ctx, session);
}

/**
 * A new client ID at `peer`: if the sessions last seen there are at limits.sessionsPerAddress, the
 * longest-silent one goes, gone (lost, disconnected) before asleep. The one bound there was just
 * ended as lost above, so an active device elsewhere is never among them.
 */
function makeRoomAtAddress(ctx: GatewayContext, peer: Peer): void {
  const there = ctx.sessions.lastAt(peer);
  if (there.length < ctx.config.limits.sessionsPerAddress) return;
  const rank = (s: Session): number => (s.state === 'lost' || s.state === 'disconnected' ? 0 : s.state === 'asleep' ? 1 : 2);
  let victim: Session | undefined;
  for (const candidate of there) {
    if (rank(candidate) === 2) continue;
    if (!victim || rank(candidate) < rank(victim) || (rank(candidate) === rank(victim) && candidate.lastSeen < victim.lastSeen)) victim = candidate;
  }
  if (victim) ctx.evict(victim, 'address');
}

/** WILLTOPIC: an empty one means "no will"; otherwise ask for the message. */
export function handleWillTopic(ctx: GatewayContext, session: Session, packet: WillTopic): void {
  if (packet.topic.length === 0) {
    session.will = undefined;
    accept(ctx, session);
    return;
  }
  const valid = isValidTopicName(packet.topic);
  if (!valid) ctx.stats.refusedNames++;
  if (packet.qos === -1 || !valid || !ctx.access.mayPublish(session.clientId, packet.topic)) {
    // A will on a wildcard topic would be refused by the broker when it matters most; one outside
    // the device's publish rules would be published by the gateway on its behalf.
    if (valid && packet.qos !== -1) ctx.denied('will topic', { clientId: session.clientId, topic: packet.topic });
    ctx.send(session.peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
    refuseConnect(ctx, session);
    return;
  }
  session.pendingWill = { topic: packet.topic, qos: toMqttQos(packet.qos), retain: packet.retain };
  ctx.send(session.peer, { type: 'willmsgreq' });
}

export function handleWillMsg(ctx: GatewayContext, session: Session, packet: WillMsg): void {
  if (!session.pendingWill) {
    ctx.stats.unexpected++;
    return;
  }
  session.will = { ...session.pendingWill, payload: Buffer.from(packet.payload) };
  session.pendingWill = undefined;
  accept(ctx, session);
}

/**
 * CONNACK once the device may use the gateway: at once when devices share the gateway's broker
 * connection; in transparent mode once the broker accepted the device's own connection (its
 * credentials and ACL are the broker's decision).
 */
function accept(ctx: GatewayContext, session: Session): void {
  const connected = (): void => {
    session.state = 'active';
    ctx.saveSession(session);
    ctx.send(session.peer, { type: 'connack', returnCode: ReturnCode.Accepted });
    ctx.logger.debug({ clientId: session.clientId, peer: session.peer.key, clean: session.cleanSession }, 'client connected');
    ctx.pump(session);
  };
  if (ctx.config.broker.mode !== 'transparent') {
    connected();
    return;
  }
  session.state = 'connecting';
  ctx.openLink(session).then(
    () => {
      if (session.state === 'connecting') connected(); // unless the device moved on meanwhile
    },
    (error: Error) => {
      // MQTT-SN has no "not authorised": "rejected: not supported" is the closest (§5.3.10).
      ctx.logger.warn({ clientId: session.clientId, err: error.message }, 'CONNECT refused: the broker refused the device');
      ctx.send(session.peer, { type: 'connack', returnCode: ReturnCode.NotSupported });
      ctx.destroy(session);
    },
  );
}

/** A CONNECT refused during the will exchange: the half-open session does not linger. */
function refuseConnect(ctx: GatewayContext, session: Session): void {
  session.pendingWill = undefined;
  disconnect(ctx, session);
}

/** Clean session: subscriptions, topic IDs, will and queued messages all go (§6.3). */
function resetSession(ctx: GatewayContext, session: Session): void {
  for (const filter of [...session.subscriptions.keys()]) ctx.unsubscribe(session, filter);
  session.registry.clear();
  session.qos2Received.clear();
  session.registeredNames.clear();
  session.will = undefined;
  while (session.outbound.length > 0) dequeue(ctx, session);
  for (let spilled = session.spilled.shift(); spilled; spilled = session.spilled.shift()) {
    ctx.held.remove(spilled.size);
    ctx.forgetMessage(session, spilled.seq);
  }
}
