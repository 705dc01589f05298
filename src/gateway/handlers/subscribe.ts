import { ReturnCode, type Subscribe, type SubscribeTopic, type Unsubscribe } from '../../codec/packets.js';
import { hasAcceptableDepth, hasWildcard, isValidMqttText, isValidTopicFilter, isValidTopicName } from '../../topics/names.js';
import type { GatewayContext } from '../context.js';
import { atTopicLimit } from './register.js';
import { toMqttQos, type Session, type Subscription } from '../session.js';

/** The QoS this gateway grants at most: all of them (QoS 2 with PUBREC/PUBREL/PUBCOMP, §5.4.14, §6.6). */
const MAX_GRANTED_QOS = 2;

type Target =
  | { readonly ok: true; readonly filter: string; readonly topicId: number; readonly kind: Subscription['kind'] }
  | { readonly ok: false; readonly returnCode: number };

/** What a SUBSCRIBE/UNSUBSCRIBE names, as an MQTT filter plus the ID SUBACK returns (§6.9). */
function resolveTarget(ctx: GatewayContext, session: Session, topic: SubscribeTopic, forSubscribe: boolean): Target {
  switch (topic.kind) {
    case 'name': {
      if (!isValidTopicFilter(topic.name)) {
        if (!isValidMqttText(topic.name) || !hasAcceptableDepth(topic.name)) ctx.stats.refusedNames++;
        return { ok: false, returnCode: ReturnCode.NotSupported };
      }
      // A wildcard filter has no single ID: SUBACK says 0x0000 and REGISTER follows per topic.
      if (hasWildcard(topic.name) || !forSubscribe) return { ok: true, filter: topic.name, topicId: 0, kind: 'name' };
      const registered = session.registry.register(topic.name);
      if (!registered.ok) return { ok: false, returnCode: registered.reason === 'exhausted' ? ReturnCode.Congestion : ReturnCode.NotSupported };
      return { ok: true, filter: topic.name, topicId: registered.id, kind: 'name' };
    }
    case 'predefined': {
      const name = session.registry.predefined.name(topic.id);
      return name === undefined ? { ok: false, returnCode: ReturnCode.InvalidTopicId } : { ok: true, filter: name, topicId: topic.id, kind: 'predefined' };
    }
    case 'short':
      // Short names carry no wildcards; SUBACK's topic ID is "not relevant" for them (0x0000).
      if (!isValidTopicName(topic.name)) {
        if (!hasWildcard(topic.name)) ctx.stats.refusedNames++;
        return { ok: false, returnCode: ReturnCode.NotSupported };
      }
      return { ok: true, filter: topic.name, topicId: 0, kind: 'short' };
  }
}

/** SUBSCRIBE (§6.9): SUBACK once the broker granted the filter, so SUBACK precedes every delivery. */
export function handleSubscribe(ctx: GatewayContext, session: Session, packet: Subscribe): void {
  const reply = (qos: 0 | 1 | 2, topicId: number, returnCode: number): void =>
    ctx.send(session.peer, { type: 'suback', qos, topicId, msgId: packet.msgId, returnCode });
  if (packet.qos === -1) {
    reply(0, 0, ReturnCode.NotSupported);
    return;
  }
  if (packet.topic.kind === 'name' && !hasWildcard(packet.topic.name) && atTopicLimit(ctx, session, packet.topic.name)) {
    reply(0, 0, ReturnCode.Congestion);
    return;
  }
  const target = resolveTarget(ctx, session, packet.topic, true);
  if (!target.ok) {
    reply(0, 0, target.returnCode);
    return;
  }
  if (!session.subscriptions.has(target.filter) && session.subscriptions.size >= ctx.config.limits.maxSubscriptions) {
    // Wildcards count too: each is a filter the broker holds and every message is matched against.
    ctx.stats.congestion++;
    ctx.logger.warn({ clientId: session.clientId, filter: target.filter, limit: ctx.config.limits.maxSubscriptions }, 'SUBSCRIBE refused: the device holds limits.maxSubscriptions subscriptions');
    reply(0, 0, ReturnCode.Congestion);
    return;
  }
  if (!ctx.access.maySubscribe(session.clientId, target.filter)) {
    ctx.denied('SUBSCRIBE', { clientId: session.clientId, filter: target.filter });
    reply(0, 0, ReturnCode.NotSupported);
    return;
  }
  const qos = Math.min(toMqttQos(packet.qos), MAX_GRANTED_QOS) as 0 | 1 | 2;
  session.pendingSubacks++;
  ctx.subscribe(session, { filter: target.filter, qos, kind: target.kind }).then(
    (granted) => {
      session.pendingSubacks--;
      if (target.kind === 'predefined') session.predefinedInUse.add(target.topicId);
      else if (target.topicId !== 0) session.registry.markKnown(target.topicId);
      ctx.saveSession(session);
      reply(granted, target.topicId, ReturnCode.Accepted);
      ctx.pump(session);
    },
    (error: Error) => {
      session.pendingSubacks--;
      ctx.unsubscribe(session, target.filter);
      ctx.logger.warn({ clientId: session.clientId, filter: target.filter, err: error.message }, 'broker refused subscription');
      reply(0, 0, ReturnCode.NotSupported);
      ctx.pump(session);
    },
  );
}

/** UNSUBSCRIBE (§6.9): answered even for filters that were never subscribed. */
export function handleUnsubscribe(ctx: GatewayContext, session: Session, packet: Unsubscribe): void {
  const target = resolveTarget(ctx, session, packet.topic, false);
  if (target.ok) {
    ctx.unsubscribe(session, target.filter);
    // The ID SUBACK gave for a plain name is released with the subscription (it counts toward maxTopics).
    if (target.kind === 'name' && !hasWildcard(target.filter) && !session.registeredNames.has(target.filter)) session.registry.release(target.filter);
  }
  ctx.saveSession(session);
  ctx.send(session.peer, { type: 'unsuback', msgId: packet.msgId });
}
