import type { Packet, Publish, PublishTopic } from '../codec/packets.js';
import type { MessageInfo, WillOptions } from './options.js';
import type { TopicTable } from './topics.js';

/** What the inbound handler needs from the client. */
export interface InboundDeps {
  readonly topics: TopicTable;
  readonly will: WillOptions | undefined;
  send(packet: Packet): void;
  deliver(topic: string, payload: Buffer, info: MessageInfo): void;
  /** A PUBLISH named a topic id the client does not know. */
  unknownTopic(topic: PublishTopic): void;
}

/**
 * Answers the packets the gateway originates: will prompts, REGISTER, PUBLISH (with its QoS 1
 * and QoS 2 acks), PUBREL and PINGREQ. Returns false for packets it does not handle.
 */
export class InboundHandler {
  /** QoS 2 MsgIds received and not yet released by PUBREL: deliver each once (§6.12). */
  private readonly awaitingRelease = new Set<number>();

  constructor(private readonly deps: InboundDeps) {}

  handle(packet: Packet): boolean {
    switch (packet.type) {
      case 'willtopicreq': {
        const will = this.deps.will;
        // No will configured: the empty WILLTOPIC means "no will" (§5.4.7).
        this.deps.send(
          will === undefined
            ? { type: 'willtopic', qos: 0, retain: false, topic: '' }
            : { type: 'willtopic', qos: will.qos ?? 0, retain: will.retain ?? false, topic: will.topic },
        );
        return true;
      }
      case 'willmsgreq': {
        const payload = this.deps.will?.payload ?? Buffer.alloc(0);
        this.deps.send({ type: 'willmsg', payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload });
        return true;
      }
      case 'register':
        // §6.10: the gateway names a topic before publishing on it; accept and remember it.
        this.deps.topics.learn(packet.topicId, packet.topicName);
        this.deps.send({ type: 'regack', topicId: packet.topicId, msgId: packet.msgId, returnCode: 0x00 });
        return true;
      case 'publish':
        this.onPublish(packet);
        return true;
      case 'pubrel':
        this.awaitingRelease.delete(packet.msgId);
        this.deps.send({ type: 'pubcomp', msgId: packet.msgId });
        return true;
      case 'pingreq':
        this.deps.send({ type: 'pingresp' });
        return true;
      default:
        return false;
    }
  }

  private onPublish(packet: Publish): void {
    const name = this.deps.topics.nameOf(packet.topic);
    const topicId = packet.topic.kind === 'short' ? shortNameId(packet.topic.name) : packet.topic.id;
    const acked = packet.qos === 1 || packet.qos === 2;
    if (name === undefined) {
      this.deps.unknownTopic(packet.topic);
      // §6.10: PUBACK 0x02 (invalid topic id) makes the gateway register the topic again.
      if (acked) this.deps.send({ type: 'puback', topicId, msgId: packet.msgId, returnCode: 0x02 });
      return;
    }
    let deliver = true;
    if (packet.qos === 1) this.deps.send({ type: 'puback', topicId, msgId: packet.msgId, returnCode: 0x00 });
    if (packet.qos === 2) {
      deliver = !this.awaitingRelease.has(packet.msgId);
      this.awaitingRelease.add(packet.msgId);
      this.deps.send({ type: 'pubrec', msgId: packet.msgId });
    }
    if (deliver) {
      this.deps.deliver(name, packet.payload, { qos: packet.qos, retain: packet.retain, dup: packet.dup, topic: packet.topic });
    }
  }
}

/** The TopicId field of a short-name PUBLISH holds the two name octets (§3.4); PUBACK echoes them. */
function shortNameId(name: string): number {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.length === 2 ? bytes.readUInt16BE(0) : 0;
}
