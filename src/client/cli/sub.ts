import { MqttSnClient } from '../client.js';
import { ClientError, rejected } from '../errors.js';
import type { TopicFilter } from '../options.js';
import { describe } from '../../codec/index.js';
import type { CliIo } from './io.js';

export interface SubOptions {
  readonly gateway: string;
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  /** Stop after this many messages; undefined runs until `stop` aborts. */
  readonly count: number | undefined;
  readonly clientId: string;
  readonly keepAlive: number;
  readonly predefined: Readonly<Record<string, number>>;
  readonly retryMs: number;
  readonly retries: number;
  readonly verbose: boolean;
}

/**
 * `mqttsn sub`: connect, subscribe (by pre-defined id when the filter is configured as one),
 * write `subscribed FILTER` to stderr on SUBACK 0x00, then one `topic payload` line per message
 * to stdout. Ends with a DISCONNECT after `count` messages or when `stop` aborts; rejects when
 * the gateway refuses, drops the client or stops answering.
 */
export async function runSub(options: SubOptions, io: CliIo, stop?: AbortSignal): Promise<void> {
  const client = new MqttSnClient({
    gateway: options.gateway,
    clientId: options.clientId,
    keepAlive: options.keepAlive,
    predefined: options.predefined,
    retryMs: options.retryMs,
    retries: options.retries,
  });
  if (options.verbose) client.on('packet', (packet) => io.err(`< ${describe(packet)}`));
  let received = 0;
  const finished = new Promise<void>((resolve, reject) => {
    client.on('message', (topic, payload, info) => {
      if (options.count !== undefined && received >= options.count) return;
      received++;
      io.out(`${topic} ${payload.toString('utf8')}`);
      if (options.verbose) io.err(`  qos=${info.qos} retain=${info.retain} dup=${info.dup}`);
      if (options.count !== undefined && received >= options.count) resolve();
    });
    client.on('disconnect', () => reject(new ClientError('not-connected', 'the gateway disconnected the client')));
    client.on('error', (err) => {
      // Keep-alive loss ends the session; socket hiccups are only worth a warning.
      if (err instanceof ClientError && err.code === 'timeout') reject(err);
      else io.err(`warning: ${err.message}`);
    });
    if (stop !== undefined) {
      if (stop.aborted) resolve();
      stop.addEventListener('abort', () => resolve(), { once: true });
    }
  });
  finished.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
  try {
    await client.connect();
    const id = options.predefined[options.filter];
    const filter: TopicFilter = id === undefined ? options.filter : { predefined: id };
    const ack = await client.subscribe(filter, options.qos);
    if (ack.returnCode !== 0) throw rejected(`SUBACK for "${options.filter}"`, ack.returnCode);
    io.err(`subscribed ${options.filter}`);
    await finished;
    if (client.state === 'connected') await client.disconnect();
  } finally {
    await client.close();
  }
}
