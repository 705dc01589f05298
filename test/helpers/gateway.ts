import type { UdpRadio } from '../../radios/udp.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { runGateway, type RunningGateway } from '../../src/run.js';

export interface TestGateway {
  readonly running: RunningGateway;
  /** UDP port the gateway's radio bound (IPv4 loopback). */
  readonly port: number;
  stop(): Promise<void>;
}

/** A whole gateway in process on a free loopback UDP port, forwarding to `brokerUrl`. */
export async function startTestGateway(brokerUrl: string, overrides: Partial<GatewayConfigInput> = {}): Promise<TestGateway> {
  const config = parseConfig({
    radios: ['udp://127.0.0.1:0'],
    broker: { url: brokerUrl, reconnectMs: 200 },
    logLevel: 'silent',
    dataDir: 'none',
    ...overrides,
  });
  const running = await runGateway(config, silentLogger());
  const radio = running.radios[0] as UdpRadio;
  return { running, port: radio.port, stop: () => running.stop() };
}
