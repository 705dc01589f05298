import type { GatewayConfig } from '../config/schema.js';
import type { UpstreamMessage } from '../upstream/upstream.js';
import type { FrameMeta } from '../radio.js';
import type { Peer } from './peer.js';

/**
 * What the broker gets for a device's message (a publish or its will) in aggregating mode, where
 * the device's identity would otherwise be lost: under the per-device topic prefix when one is
 * configured, and over MQTT 5 with who sent it as user properties. In transparent mode the
 * connection itself says who it is.
 */
export function toBroker(config: GatewayConfig, peer: Peer, clientId: string | undefined, message: UpstreamMessage, meta?: FrameMeta): UpstreamMessage {
  const { topicPrefix, userProperties, protocol, mode } = config.broker;
  const aggregating = mode === 'aggregating';
  // A QoS -1 sender has no client ID to put in the prefix: its topic goes as it is.
  const topic = aggregating && topicPrefix !== '' && clientId !== undefined ? topicPrefix.replaceAll('{clientId}', clientId) + message.topic : message.topic;
  if (!userProperties || protocol !== '5') return topic === message.topic ? message : { ...message, topic };
  const properties: Record<string, string> = { gateway: String(config.gatewayId), radio: peer.radio.name, address: peer.address };
  if (clientId !== undefined) properties.clientId = clientId;
  if (peer.wirelessNodeId) properties.wirelessNodeId = peer.wirelessNodeId.toString('hex');
  if (meta?.rssi !== undefined) properties.rssi = String(meta.rssi);
  return { ...message, topic, userProperties: properties };
}
