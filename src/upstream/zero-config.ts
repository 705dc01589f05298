import type { Logger } from '../log.js';
import { probeMqttBroker } from './broker-probe.js';
import type { EmbeddedBroker } from './embedded-broker.js';

export interface ZeroConfigBroker {
  readonly url: string;
  /** Undefined when a broker already listening on the port is used instead. */
  readonly embedded: EmbeddedBroker | undefined;
}

/**
 * The upstream when none is named: the embedded broker on 127.0.0.1:`port`, or, when that port
 * is taken by something that answers MQTT (a Pi already running mosquitto), that broker.
 */
export async function zeroConfigBroker(port: number, logger: Logger): Promise<ZeroConfigBroker> {
  // aedes is loaded only when it is used: a gateway with a broker named never pays for it.
  const { startEmbeddedBroker, EmbeddedBrokerError } = await import('./embedded-broker.js');
  try {
    const embedded = await startEmbeddedBroker(port);
    logger.info({ url: embedded.url }, 'no broker configured: embedded broker started');
    return { url: embedded.url, embedded };
  } catch (error) {
    if (!(error instanceof EmbeddedBrokerError) || error.code !== 'EADDRINUSE') throw error;
    const url = `mqtt://127.0.0.1:${port}`;
    const probe = await probeMqttBroker('127.0.0.1', port);
    if (probe.kind === 'mqtt') {
      logger.info({ url }, `no broker configured, and an MQTT broker already answers on 127.0.0.1:${port}: using it instead of the embedded one`);
      return { url, embedded: undefined };
    }
    if (probe.kind === 'refused') {
      throw new EmbeddedBrokerError(
        `an MQTT broker already listens on 127.0.0.1:${port} but refused the gateway (${probe.reason}). ` +
          `Name it with --broker ${url} and give broker.username and broker.password in the config file, ` +
          `or choose a free port for the embedded broker: --embedded-port ${port + 1}.`,
        error.code,
      );
    }
    throw error; // not MQTT: the listen error already says what to do
  }
}
