import { ReturnCode, type WillMsgUpd, type WillTopicUpd } from '../../codec/packets.js';
import { isValidTopicName } from '../../topics/names.js';
import type { GatewayContext } from '../context.js';
import { toMqttQos, type Session } from '../session.js';

/** WILLTOPICUPD (§6.4): an empty one deletes the will; otherwise topic, QoS and retain change. */
export function handleWillTopicUpd(ctx: GatewayContext, session: Session, packet: WillTopicUpd): void {
  if (packet.topic.length === 0) {
    session.will = undefined;
  } else if (packet.qos === -1 || !isValidTopicName(packet.topic) || !ctx.access.mayPublish(session.clientId, packet.topic)) {
    if (!isValidTopicName(packet.topic)) ctx.stats.refusedNames++;
    else if (packet.qos !== -1) ctx.denied('will topic', { clientId: session.clientId, topic: packet.topic });
    ctx.send(session.peer, { type: 'willtopicresp', returnCode: ReturnCode.NotSupported });
    return;
  } else {
    session.will = { topic: packet.topic, qos: toMqttQos(packet.qos), retain: packet.retain, payload: session.will?.payload ?? Buffer.alloc(0) };
  }
  ctx.saveSession(session);
  ctx.send(session.peer, { type: 'willtopicresp', returnCode: ReturnCode.Accepted });
  reopenWithNewWill(ctx, session);
}

/** Transparent mode: an MQTT will is fixed at CONNECT, so the device's broker connection is made again. */
function reopenWithNewWill(ctx: GatewayContext, session: Session): void {
  ctx.openLink(session).catch((error: Error) => ctx.logger.warn({ clientId: session.clientId, err: error.message }, 'device connection with the new will refused'));
}

/** WILLMSGUPD (§6.4): replaces the will message; without a will topic there is nothing to attach it to. */
export function handleWillMsgUpd(ctx: GatewayContext, session: Session, packet: WillMsgUpd): void {
  if (!session.will) {
    ctx.send(session.peer, { type: 'willmsgresp', returnCode: ReturnCode.NotSupported });
    return;
  }
  session.will = { ...session.will, payload: Buffer.from(packet.payload) };
  ctx.saveSession(session);
  ctx.send(session.peer, { type: 'willmsgresp', returnCode: ReturnCode.Accepted });
  reopenWithNewWill(ctx, session);
}
