import type { Packet } from '../../src/codec/index.js';
import type { RawDevice } from './raw-device.js';

/** Acknowledges REGISTER and QoS 1 PUBLISH as a device does; collects payloads. */
export function answer(dev: RawDevice, packet: Packet, payloads: string[]): void {
  if (packet.type === 'register') dev.send({ type: 'regack', topicId: packet.topicId, msgId: packet.msgId, returnCode: 0 });
  if (packet.type === 'publish') {
    payloads.push(packet.payload.toString());
    if (packet.qos === 1) dev.send({ type: 'puback', topicId: packet.topic.kind === 'normal' ? packet.topic.id : 0, msgId: packet.msgId, returnCode: 0 });
  }
}

/** Wakes the device and acknowledges everything until PINGRESP; returns the payloads in arrival order. */
export async function wakeAndCollect(dev: RawDevice, clientId: string): Promise<{ payloads: string[]; sequence: Packet['type'][] }> {
  dev.send({ type: 'pingreq', clientId });
  const payloads: string[] = [];
  const sequence: Packet['type'][] = [];
  for (;;) {
    const packet = await dev.next(5000);
    sequence.push(packet.type);
    if (packet.type === 'pingresp') return { payloads, sequence };
    answer(dev, packet, payloads);
  }
}
