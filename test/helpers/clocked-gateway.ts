import type { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { silentLogger } from '../../src/log.js';
import type { Radio } from '../../src/radio.js';
import { MqttUpstream } from '../../src/upstream/mqtt-upstream.js';

/**
 * A started gateway on an in-memory radio whose timers a manual clock drives (sessions in memory),
 * with a real broker connection: for tests that step through keep-alive, sleep or load samples.
 */
export async function startClockedGateway(options: { brokerUrl: string; radio: Radio; clock: ManualClock; clientId: string; config?: Partial<GatewayConfigInput> }): Promise<Gateway> {
  const config = parseConfig({ broker: options.brokerUrl, radios: ['udp://127.0.0.1:0'], ...options.config });
  const upstream = new MqttUpstream({ url: options.brokerUrl, clientId: options.clientId, keepAlive: 30, reconnectMs: 200, logger: silentLogger() });
  const gateway = new Gateway({ config, radios: [options.radio], upstream, logger: silentLogger(), clock: options.clock });
  await gateway.start();
  return gateway;
}
