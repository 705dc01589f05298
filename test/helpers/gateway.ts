import type { UdpRadio } from '../../radios/udp.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/log.js';
import { runGateway, type RunningGateway, type RunOptions } from '../../src/run.js';

export interface TestGateway {
  readonly running: RunningGateway;
  /** UDP port the gateway's radio bound (IPv4 loopback). */
  readonly port: number;
  stop(): Promise<void>;
}

/** A whole gateway in process on a free loopback UDP port, forwarding to `brokerUrl`. */
export async function startTestGateway(brokerUrl: string, overrides: Partial<GatewayConfigInput> = {}, logger: Logger = silentLogger(), runOptions: RunOptions = {}): Promise<TestGateway> {
  const config = parseConfig({
    radios: ['udp://127.0.0.1:0'],
    broker: { url: brokerUrl, reconnectMs: 200 },
    logLevel: 'silent',
    dataDir: 'none',
    // No ADVERTISE to 255.255.255.255 from tests: only loopback traffic (discovery tests opt in).
    discovery: { advertiseSeconds: 0, gwinfoMaxDelayMs: 0 },
    ...overrides,
  });
  const running = await runGateway(config, logger, runOptions);
  const radio = running.radios[0] as UdpRadio;
  return { running, port: radio.port, stop: () => running.stop() };
}

/** A logger that keeps what it writes (JSON lines), for tests that check what an operator would read. */
export function capturingLogger(): { logger: Logger; lines: () => Array<{ msg: string; err?: string; [key: string]: unknown }> } {
  const written: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void written.push(line) });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as { msg: string; err?: string }) };
}
