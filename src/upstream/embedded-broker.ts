import { createRequire } from 'node:module';
import net from 'node:net';
import { fillRemainingLengthCache } from './remaining-length-cache.js';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The broker a bare machine gets when no upstream is named: aedes, in process, on loopback. */
export async function startEmbeddedBroker(port: number, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  // aedes writes with its own copy of mqtt-packet (resolved at run time, outside the bundle).
  fillRemainingLengthCache((createRequire(import.meta.url)('mqtt-packet') as typeof import('mqtt-packet')).writeToStream);
  // Imported here, not at the top: the bundle would hoist a top-level import of this external
  // package, and a gateway with a broker of its own would carry aedes for nothing (2.6 MB of idle
  // RSS measured in the bundle; 12 MB in a bare node, where nothing else shares its dependencies).
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw explainListenError(error as NodeJS.ErrnoException, host, port);
  }
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Error thrown when the embedded broker cannot start; the message says what to do instead. */
export class EmbeddedBrokerError extends Error {
  override readonly name = 'EmbeddedBrokerError';
  constructor(
    message: string,
    /** The listen error's code, e.g. EADDRINUSE when something else has the port. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function explainListenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new EmbeddedBrokerError(
      `port ${port} on ${host} is already in use, so the embedded broker cannot start. ` +
        `If an MQTT broker is already running there, use it: --broker mqtt://${host}:${port}. ` +
        `Otherwise choose a free port for the embedded broker: --embedded-port ${port === 1883 ? 1884 + 1 : port + 1}.`,
      error.code,
    );
  }
  return new EmbeddedBrokerError(`embedded broker cannot listen on ${host}:${port}: ${error.message}`, error.code);
}
