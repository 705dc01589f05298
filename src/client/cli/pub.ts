import { MqttSnClient } from '../client.js';
import { describe } from '../../codec/index.js';
import type { CliIo } from './io.js';

export interface PubOptions {
  readonly gateway: string;
  readonly topic: string;
  readonly message: string;
  readonly qos: -1 | 0 | 1;
  readonly clientId: string;
  readonly retain: boolean;
  readonly predefined: Readonly<Record<string, number>>;
  readonly retryMs: number;
  readonly retries: number;
  readonly verbose: boolean;
}

/**
 * `mqttsn pub`: QoS -1 sends one PUBLISH without connecting (§6.8); QoS 0/1 connect, publish
 * (QoS 1 waits for PUBACK), then DISCONNECT and wait for the gateway's DISCONNECT.
 * Resolves on success, rejects with the reason otherwise.
 */
export async function runPub(options: PubOptions, io: CliIo): Promise<void> {
  const client = new MqttSnClient({
    gateway: options.gateway,
    clientId: options.clientId,
    predefined: options.predefined,
    retryMs: options.retryMs,
    retries: options.retries,
  });
  if (options.verbose) client.on('packet', (packet) => io.err(`< ${describe(packet)}`));
  client.on('error', (err) => io.err(`warning: ${err.message}`));
  try {
    if (options.qos === -1) {
      await client.publish(options.topic, options.message, { qos: -1, retain: options.retain });
      return;
    }
    await client.connect();
    await client.publish(options.topic, options.message, { qos: options.qos, retain: options.retain });
    await client.disconnect();
  } finally {
    await client.close();
  }
}
