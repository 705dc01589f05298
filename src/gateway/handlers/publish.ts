import { ReturnCode, type Pubcomp, type Publish, type PublishTopic, type Puback, type Pubrec, type Pubrel } from '../../codec/packets.js';
import { isValidTopicName } from '../../topics/names.js';
import type { PredefinedTopics } from '../../topics/predefined.js';
import type { GatewayContext } from '../context.js';
import { awaitRelease, backOff, dequeue, settle } from '../delivery.js';
import type { Peer } from '../peer.js';
import { toMqttQos, type Session } from '../session.js';
import { InvalidTopicError, UpstreamCongestedError, type UpstreamMessage } from '../../upstream/upstream.js';
import { toBroker } from '../identity.js';
import { shedsQos0 } from '../admission.js';

/** The topic ID field to echo in a PUBACK: the ID, or the two short-name octets. */
function topicIdField(topic: PublishTopic): number {
  return topic.kind === 'short' ? Buffer.from(topic.name, 'utf8').readUInt16BE(0) : topic.id;
}

type Resolved = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly returnCode: number };

/** The topic name a device PUBLISH refers to (§6.5, §6.7, short names §3). */
function resolveTopic(topic: PublishTopic, session: Session | undefined, predefined: PredefinedTopics): Resolved {
  switch (topic.kind) {
    case 'normal': {
      const name = session?.registry.nameOf(topic.id);
      return name === undefined ? { ok: false, returnCode: ReturnCode.InvalidTopicId } : { ok: true, name };
    }
    case 'predefined': {
      const name = predefined.name(topic.id);
      return name === undefined ? { ok: false, returnCode: ReturnCode.InvalidTopicId } : { ok: true, name };
    }
    case 'short':
      // Two octets, but still a name the broker must accept (no wildcard, no control character).
      return isValidTopicName(topic.name) ? { ok: true, name: topic.name } : { ok: false, returnCode: ReturnCode.NotSupported };
  }
}

/** QoS -1 (§6.8): no session needed, no answer ever; predefined and short topics only. */
export function handlePublishWithoutSession(ctx: GatewayContext, peer: Peer, packet: Publish): void {
  const session = ctx.sessions.atPeer(peer);
  const allowedKind = packet.topic.kind !== 'normal' || session !== undefined;
  const resolved = resolveTopic(packet.topic, session, ctx.predefinedFor(session?.clientId));
  if (!ctx.config.qosMinusOne || !allowedKind || !resolved.ok) {
    ctx.stats.qosMinusOneDropped++;
    return;
  }
  if (!ctx.access.allowsQosMinusOne(peer.radio.name, peer.address) || (session && !ctx.access.mayPublish(session.clientId, resolved.name))) {
    ctx.stats.qosMinusOneDropped++;
    ctx.denied('QoS -1 PUBLISH', { radio: peer.radio.name, address: peer.address, topic: resolved.name });
    return;
  }
  ctx.stats.publishesIn++;
  ctx.stats.publishesInQosMinus1++;
  forwardReading(ctx, session, toBroker(ctx.config, peer, session?.clientId, { topic: resolved.name, payload: packet.payload, qos: 0, retain: packet.retain }, ctx.frameMeta));
}

/** A QoS 0/-1 message to the broker, or dropped and counted when the broker is behind (see shedsQos0). */
function forwardReading(ctx: GatewayContext, session: Session | undefined, message: UpstreamMessage): void {
  const link = ctx.linkFor(session);
  if (shedsQos0(link)) {
    ctx.stats.qos0Shed++; // dropped now rather than delivered late
    return;
  }
  link.publish(message);
}

/** PUBLISH QoS 0/1 from a connected device; QoS 1 is acknowledged once the broker has it. */
export function handlePublish(ctx: GatewayContext, session: Session, packet: Publish): void {
  const resolved = resolveTopic(packet.topic, session, session.registry.predefined);
  const ack = (returnCode: number): void =>
    ctx.send(session.peer, { type: 'puback', topicId: topicIdField(packet.topic), msgId: packet.msgId, returnCode });
  if (resolved.ok && packet.topic.kind === 'predefined' && !session.predefinedInUse.has(packet.topic.id)) {
    session.predefinedInUse.add(packet.topic.id);
    ctx.saveSession(session);
  }
  if (!resolved.ok) {
    // MQTT-SN 1.2 §6.6: rejected "regardless of QoS", so the device can re-register.
    ctx.stats.invalidTopic++;
    ack(resolved.returnCode);
    return;
  }
  if (!ctx.access.mayPublish(session.clientId, resolved.name)) {
    ctx.denied('PUBLISH', { clientId: session.clientId, topic: resolved.name });
    if (packet.qos > 0) ack(ReturnCode.NotSupported); // QoS 0 has no answer: dropped, counted
    return;
  }
  if (packet.qos === 0) {
    ctx.stats.publishesIn++;
    ctx.stats.publishesInQos0++;
    forwardReading(ctx, session, toBroker(ctx.config, session.peer, session.clientId, { topic: resolved.name, payload: packet.payload, qos: 0, retain: packet.retain }, ctx.frameMeta));
    return;
  }
  if (packet.qos === 2) {
    handleQos2Publish(ctx, session, packet, resolved.name, ack);
    return;
  }
  if (packet.dup && session.upstreamPending.has(packet.msgId)) return; // the broker's ack will answer it
  if (packet.dup && session.recentlyAcked.includes(packet.msgId)) {
    ack(ReturnCode.Accepted); // our PUBACK was lost; the broker already has the message
    return;
  }
  if (session.upstreamPending.size >= ctx.config.limits.maxInflight || !ctx.admit(session)) {
    ctx.stats.congestion++;
    ack(ReturnCode.Congestion);
    return;
  }
  ctx.stats.publishesIn++;
  ctx.stats.publishesInQos1++;
  session.upstreamPending.add(packet.msgId);
  ctx.linkFor(session).publish(toBroker(ctx.config, session.peer, session.clientId, { topic: resolved.name, payload: packet.payload, qos: toMqttQos(packet.qos), retain: packet.retain }, ctx.frameMeta), (error) => {
    session.upstreamPending.delete(packet.msgId);
    if (error instanceof InvalidTopicError) {
      ack(ReturnCode.NotSupported); // e.g. a predefined name with a wildcard: retrying cannot help
      return;
    }
    if (error instanceof UpstreamCongestedError) {
      ctx.stats.congestion++;
      ack(ReturnCode.Congestion); // the store for the unreachable broker is full: retry later
      return;
    }
    if (error) {
      // No PUBACK: the device retries, and the retry is forwarded again (at least once).
      ctx.logger.warn({ err: error.message, clientId: session.clientId }, 'QoS 1 publish not accepted by the broker');
      return;
    }
    session.rememberAcked(packet.msgId);
    ack(ReturnCode.Accepted);
  });
}

/**
 * QoS 2 from the device (§5.4.14, §6.6): forwarded to the broker once, at QoS 2; PUBREC when the broker (or
 * the store, while it is away) has it; a retransmission before PUBREL is answered, never forwarded.
 */
function handleQos2Publish(ctx: GatewayContext, session: Session, packet: Publish, name: string, ack: (returnCode: number) => void): void {
  const state = session.qos2Received.get(packet.msgId);
  if (state === 'forwarding') return; // the broker's acknowledgement will answer it
  if (state === 'received') {
    ctx.send(session.peer, { type: 'pubrec', msgId: packet.msgId }); // our PUBREC was lost
    return;
  }
  if (session.qos2Received.size >= ctx.config.limits.maxInflight || !ctx.admit(session)) {
    ctx.stats.congestion++;
    ack(ReturnCode.Congestion);
    return;
  }
  ctx.stats.publishesIn++;
  ctx.stats.publishesInQos2++;
  session.qos2Received.set(packet.msgId, 'forwarding');
  ctx.linkFor(session).publish(toBroker(ctx.config, session.peer, session.clientId, { topic: name, payload: packet.payload, qos: 2, retain: packet.retain }, ctx.frameMeta), (error) => {
    if (error) {
      session.qos2Received.delete(packet.msgId);
      if (error instanceof InvalidTopicError) ack(ReturnCode.NotSupported);
      else if (error instanceof UpstreamCongestedError) {
        ctx.stats.congestion++;
        ack(ReturnCode.Congestion);
      } else ctx.logger.warn({ err: error.message, clientId: session.clientId }, 'QoS 2 publish not accepted by the broker');
      return;
    }
    session.qos2Received.set(packet.msgId, 'received');
    ctx.saveSession(session); // a PUBLISH repeated after a restart must still not be forwarded twice
    ctx.send(session.peer, { type: 'pubrec', msgId: packet.msgId });
  });
}

/** PUBREL from the device: the MsgId is released; PUBCOMP always (MQTT rule, reference (k)). */
export function handlePubrel(ctx: GatewayContext, session: Session, packet: Pubrel): void {
  if (session.qos2Received.get(packet.msgId) === 'received') {
    session.qos2Received.delete(packet.msgId);
    ctx.saveSession(session);
  }
  ctx.send(session.peer, { type: 'pubcomp', msgId: packet.msgId });
}

/** PUBREC from the device for a QoS 2 delivery: the message is its; release it with PUBREL (§5.4.14, §6.6). */
export function handlePubrec(ctx: GatewayContext, session: Session, packet: Pubrec): void {
  const awaiting = session.awaiting;
  if (awaiting?.kind === 'pubrel' && awaiting.msgId === packet.msgId) {
    ctx.send(session.peer, { type: 'pubrel', msgId: packet.msgId }); // our PUBREL was lost
    return;
  }
  if (awaiting?.kind !== 'publish' || awaiting.msgId !== packet.msgId || awaiting.message.qos !== 2) return;
  settle(ctx, session);
  awaitRelease(ctx, session, packet.msgId);
}

/** PUBCOMP from the device: the QoS 2 delivery is complete. */
export function handlePubcomp(ctx: GatewayContext, session: Session, packet: Pubcomp): void {
  const awaiting = session.awaiting;
  if (awaiting?.kind !== 'pubrel' || awaiting.msgId !== packet.msgId) return;
  settle(ctx, session);
  dequeue(ctx, session);
  ctx.pump(session);
}

/** PUBACK from the device for a message the gateway delivered (§6.6). */
export function handlePuback(ctx: GatewayContext, session: Session, packet: Puback): void {
  const awaiting = session.awaiting;
  if (awaiting?.kind !== 'publish' || awaiting.msgId !== packet.msgId) return; // unknown MsgId: ignore
  settle(ctx, session);
  if (packet.returnCode === ReturnCode.InvalidTopicId && awaiting.frameTopicId !== 0) {
    // The device lost this ID: register the name again and resend (§6.10, as EMQX does). A
    // predefined ID it refuses is not used toward it again (else the same PUBLISH would loop).
    if (session.registry.predefined.id(awaiting.message.topic) === awaiting.frameTopicId) session.predefinedInUse.delete(awaiting.frameTopicId);
    session.registry.forgetKnown();
  } else if (packet.returnCode === ReturnCode.Congestion) {
    backOff(ctx, session); // keep the message and offer it again later
    return;
  } else {
    if (packet.returnCode !== ReturnCode.Accepted) ctx.stats.deliveryFailed++;
    dequeue(ctx, session);
  }
  ctx.pump(session);
}
