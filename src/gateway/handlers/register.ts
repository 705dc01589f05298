import { ReturnCode, type Regack, type Register } from '../../codec/packets.js';
import type { GatewayContext } from '../context.js';
import { backOff, dequeue, settle } from '../delivery.js';
import type { Session } from '../session.js';

/** REGISTER from the device (§6.5): the same name always gets the same ID. */
export function handleRegister(ctx: GatewayContext, session: Session, packet: Register): void {
  // A predefined name gets a normal ID too: REGACK carries no topic type, so handing back the
  // predefined ID would make the device publish it as a normal one.
  if (atTopicLimit(ctx, session, packet.topicName)) {
    ctx.send(session.peer, { type: 'regack', topicId: 0, msgId: packet.msgId, returnCode: ReturnCode.Congestion });
    return;
  }
  const result = session.registry.register(packet.topicName);
  if (!result.ok) {
    // Wildcards, empty names and names a broker would refuse cannot be registered; an exhausted ID
    // space will not heal by waiting.
    if (result.reason === 'invalid') ctx.stats.refusedNames++;
    ctx.send(session.peer, { type: 'regack', topicId: 0, msgId: packet.msgId, returnCode: ReturnCode.NotSupported });
    const log = result.reason === 'exhausted' ? 'warn' : 'debug';
    ctx.logger[log]({ clientId: session.clientId, topic: packet.topicName, reason: result.reason }, result.reason === 'exhausted' ? 'REGISTER refused: every topic ID of this device (0x0001-0xFFFE, less predefined ones) is in use' : 'REGISTER refused');
    return;
  }
  session.registry.markKnown(result.id);
  session.registeredNames.add(packet.topicName);
  if (result.created) ctx.saveSession(session);
  ctx.send(session.peer, { type: 'regack', topicId: result.id, msgId: packet.msgId, returnCode: ReturnCode.Accepted });
}

/** REGACK from the device, answering the gateway's REGISTER before a delivery (§6.10). */
export function handleRegack(ctx: GatewayContext, session: Session, packet: Regack): void {
  const awaiting = session.awaiting;
  if (awaiting?.kind !== 'register' || awaiting.msgId !== packet.msgId) return; // unexpected MsgId: ignore
  settle(ctx, session);
  if (packet.returnCode === ReturnCode.Accepted) {
    session.registry.markKnown(awaiting.topicId);
  } else if (packet.returnCode === ReturnCode.Congestion) {
    backOff(ctx, session);
    return;
  } else {
    // "I don't want this topic": drop the messages waiting on it (§6.10).
    for (let index = session.outbound.length - 1; index >= 0; index--) {
      if (session.outbound[index]!.topic !== awaiting.topic) continue;
      dequeue(ctx, session, index);
      ctx.stats.deliveryFailed++;
    }
  }
  ctx.pump(session);
}

/**
 * limits.maxTopics: a device may hold this many topic names (REGISTER or SUBSCRIBE by name); a
 * new one beyond it is refused with "rejected: congestion" (§5.3.10), counted and logged.
 */
export function atTopicLimit(ctx: GatewayContext, session: Session, name: string): boolean {
  const { maxTopics, maxTopicNamesLength } = ctx.config.limits;
  const { registry } = session;
  if (registry.idOf(name) !== undefined || (registry.size < maxTopics && registry.namesLength + name.length <= maxTopicNamesLength)) return false;
  ctx.stats.congestion++;
  ctx.logger.warn({ clientId: session.clientId, limit: maxTopics, lengthLimit: maxTopicNamesLength }, 'topic refused: the device holds limits.maxTopics topic names or limits.maxTopicNamesLength characters of them');
  return true;
}
