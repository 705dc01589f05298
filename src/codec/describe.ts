/** One-line summaries of packets for logs, e.g. `PUBLISH qos=1 topic=normal:5 msgId=7 12B`. */
import type { Packet, PublishTopic, SubscribeTopic } from './packets.js';

function topic(t: PublishTopic | SubscribeTopic): string {
  switch (t.kind) {
    case 'normal':
    case 'predefined':
      return `${t.kind}:${t.id}`;
    case 'short':
    case 'name':
      return `${t.kind}:${JSON.stringify(t.name)}`;
  }
}

const rc = (n: number): string => `rc=0x${n.toString(16).padStart(2, '0')}`;
const flag = (on: boolean, name: string): string => (on ? ` ${name}` : '');

/** Short, human-oriented, stable enough to grep; not a serialisation format. */
export function describe(p: Packet): string {
  const name = p.type.toUpperCase();
  switch (p.type) {
    case 'advertise': return `${name} gwId=${p.gwId} duration=${p.duration}s`;
    case 'searchgw': return `${name} radius=${p.radius}`;
    case 'gwinfo': return `${name} gwId=${p.gwId}${p.gwAdd.length > 0 ? ` gwAdd=${p.gwAdd.toString('hex')}` : ''}`;
    case 'connect':
      return `${name} clientId=${JSON.stringify(p.clientId)} duration=${p.duration}s` +
        `${flag(p.will, 'will')}${flag(p.cleanSession, 'clean')}${p.protocolId === 1 ? '' : ` protocolId=${p.protocolId}`}`;
    case 'connack':
    case 'willtopicresp':
    case 'willmsgresp':
      return `${name} ${rc(p.returnCode)}`;
    case 'willtopicreq':
    case 'willmsgreq':
    case 'pingresp':
      return name;
    case 'willtopic':
    case 'willtopicupd':
      return p.topic === '' ? `${name} (empty)` : `${name} qos=${p.qos}${flag(p.retain, 'retain')} topic=${JSON.stringify(p.topic)}`;
    case 'willmsg':
    case 'willmsgupd':
      return `${name} ${p.payload.length}B`;
    case 'register': return `${name} topicId=${p.topicId} msgId=${p.msgId} name=${JSON.stringify(p.topicName)}`;
    case 'regack':
    case 'puback':
      return `${name} topicId=${p.topicId} msgId=${p.msgId} ${rc(p.returnCode)}`;
    case 'publish':
      return `${name} qos=${p.qos}${flag(p.dup, 'dup')}${flag(p.retain, 'retain')} topic=${topic(p.topic)} msgId=${p.msgId} ${p.payload.length}B`;
    case 'pubcomp':
    case 'pubrec':
    case 'pubrel':
    case 'unsuback':
      return `${name} msgId=${p.msgId}`;
    case 'subscribe': return `${name} qos=${p.qos}${flag(p.dup, 'dup')} topic=${topic(p.topic)} msgId=${p.msgId}`;
    case 'suback': return `${name} qos=${p.qos} topicId=${p.topicId} msgId=${p.msgId} ${rc(p.returnCode)}`;
    case 'unsubscribe': return `${name} topic=${topic(p.topic)} msgId=${p.msgId}`;
    case 'pingreq': return p.clientId === undefined ? name : `${name} clientId=${JSON.stringify(p.clientId)}`;
    case 'disconnect': return p.duration === undefined ? name : `${name} duration=${p.duration}s`;
    case 'encapsulated': return `ENCAPSULATED node=${p.wirelessNodeId.toString('hex')} radius=${p.radius} [${describe(p.packet)}]`;
  }
}
