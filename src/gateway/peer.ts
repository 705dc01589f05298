import type { Radio } from '../radio.js';

/**
 * Where a device is reached: a radio, the radio's address for it and, behind a forwarder
 * (MQTT-SN 1.2 §5.5), the wireless node ID the forwarder relays for.
 */
export interface Peer {
  readonly radio: Radio;
  readonly address: string;
  readonly wirelessNodeId?: Buffer;
  /** `radio|address[|nodeId]`: identifies the device's current link. */
  readonly key: string;
}

export function makePeer(radio: Radio, address: string, wirelessNodeId?: Buffer): Peer {
  const base = `${radio.name}|${address}`;
  return wirelessNodeId
    ? { radio, address, wirelessNodeId, key: `${base}|${wirelessNodeId.toString('hex')}` }
    : { radio, address, key: base };
}
