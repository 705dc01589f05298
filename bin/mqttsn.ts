#!/usr/bin/env node
/**
 * `mqttsn`: publish and subscribe through an MQTT-SN v1.2 gateway from the shell.
 * The only file of the client that reads process.argv or calls process.exit.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultClientId, parseNonNegativeInt, parsePositiveInt, parsePredefined, parseQos } from '../src/client/cli/args.js';
import type { CliIo } from '../src/client/cli/io.js';
import { runPub } from '../src/client/cli/pub.js';
import type { PubOptions } from '../src/client/cli/pub.js';
import { runSub } from '../src/client/cli/sub.js';
import type { SubOptions } from '../src/client/cli/sub.js';
import { DEFAULT_GATEWAY, parseGatewayUrl } from '../src/client/url.js';
import { VERSION } from '../src/version.js';

/** Adapts a throwing parser to commander's error reporting. */
function arg<T>(parse: (text: string, previous: T) => T): (text: string, previous: T) => T {
  return (text, previous) => {
    try {
      return parse(text, previous);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

let pendingWrite: Promise<void> = Promise.resolve();
const io: CliIo = {
  out(line) {
    pendingWrite = new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
  },
  err(line) {
    process.stderr.write(`${line}\n`);
  },
};

/** Exits once stdout has flushed, so piped output is never cut short. */
async function exit(code: number): Promise<never> {
  await pendingWrite;
  process.exit(code);
}

async function run(job: () => Promise<void>): Promise<void> {
  try {
    await job();
    await exit(0);
  } catch (err) {
    io.err(`mqttsn: ${err instanceof Error ? err.message : String(err)}`);
    await exit(1);
  }
}

const gatewayOption = (): Option =>
  new Option('-g, --gateway <url>', 'gateway address, udp://HOST:PORT or udp6://[ADDR]:PORT')
    .default(DEFAULT_GATEWAY)
    .argParser(arg((text) => (parseGatewayUrl(text), text)));
const predefinedOption = (): Option =>
  new Option('--predefined <id=topic>', 'pre-defined topic id shared with the gateway (repeatable)')
    .default({} as Record<string, number>, 'none')
    .argParser(arg(parsePredefined));
const retryMsOption = (): Option =>
  new Option('--retry-ms <ms>', 'wait before retransmitting an unanswered request')
    .default(2000)
    .argParser(arg((text) => parsePositiveInt(text, '--retry-ms')));
const retriesOption = (): Option =>
  new Option('--retries <n>', 'retransmissions before giving up')
    .default(3)
    .argParser(arg((text) => parseNonNegativeInt(text, '--retries')));

const program = new Command('mqttsn')
  .description('MQTT-SN v1.2 client: publish to and subscribe through an MQTT-SN gateway')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('pub')
  .description('publish one message')
  .addOption(gatewayOption())
  .requiredOption('-t, --topic <topic>', 'topic name (2 characters = short topic name)')
  .requiredOption('-m, --message <message>', 'payload (UTF-8)')
  .addOption(
    new Option('-q, --qos <qos>', 'QoS: 0, 1, or -1 (no connection; needs a pre-defined or 2-character topic)')
      .default(0)
      .argParser(arg((text) => parseQos(text, [-1, 0, 1] as const))),
  )
  .addOption(new Option('-i, --client-id <id>', 'client id (1-23 characters)').default(defaultClientId('pub'), 'mqttsn-pub-<random>'))
  .option('-r, --retain', 'ask the broker to retain the message', false)
  .addOption(predefinedOption())
  .addOption(retryMsOption())
  .addOption(retriesOption())
  .option('-v, --verbose', 'trace every packet received to stderr', false)
  .action(async (o: PubOptions) => {
    await run(() => runPub(o, io));
  });

program
  .command('sub')
  .description('subscribe and print one "topic payload" line per message')
  .addOption(gatewayOption())
  .requiredOption('-t, --topic <filter>', 'topic filter (wildcards allowed) or pre-defined topic name')
  .addOption(
    new Option('-q, --qos <qos>', 'requested QoS: 0, 1 or 2').default(0).argParser(arg((text) => parseQos(text, [0, 1, 2] as const))),
  )
  .addOption(
    new Option('-n, --count <n>', 'exit after this many messages (default: run until interrupted)').argParser(
      arg((text) => parsePositiveInt(text, '--count')),
    ),
  )
  .addOption(new Option('-i, --client-id <id>', 'client id (1-23 characters)').default(defaultClientId('sub'), 'mqttsn-sub-<random>'))
  .addOption(
    new Option('-k, --keep-alive <seconds>', 'keep-alive period sent in CONNECT; 0 disables pings')
      .default(60)
      .argParser(arg((text) => parseNonNegativeInt(text, '--keep-alive'))),
  )
  .addOption(predefinedOption())
  .addOption(retryMsOption())
  .addOption(retriesOption())
  .option('-v, --verbose', 'trace every packet received and message flags to stderr', false)
  .action(async (o: Omit<SubOptions, 'filter' | 'count'> & { topic: string; count?: number }) => {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await run(() => runSub({ ...o, filter: o.topic, count: o.count }, io, stop.signal));
  });

program
  .command('bench')
  .description('load a running gateway with simulated devices and count what reaches its broker')
  .addOption(gatewayOption())
  .requiredOption('-b, --broker <url>', 'the broker the gateway forwards to, mqtt://HOST:PORT (a subscriber there counts messages)')
  .addOption(new Option('-d, --devices <n>', 'simulated devices, each with its own UDP socket and client id').default(50).argParser(arg((text) => parsePositiveInt(text, '--devices'))))
  .addOption(new Option('-r, --rate <msg/s>', 'total messages per second offered').default(1000).argParser(arg((text) => parsePositiveInt(text, '--rate'))))
  .addOption(new Option('-q, --qos <qos>', 'QoS of the messages: 0 or 1').default(0).argParser(arg((text) => parseQos(text, [0, 1] as const))))
  .addOption(new Option('-w, --window <n>', 'QoS 1 flat out with n messages in flight per device (ignores --rate)').argParser(arg((text) => parsePositiveInt(text, '--window'))))
  .addOption(new Option('-s, --duration <seconds>', 'measurement time after a 1 s warm-up').default(10).argParser(arg((text) => parsePositiveInt(text, '--duration'))))
  .addOption(new Option('--payload-size <bytes>', 'payload bytes per message (at least 16)').default(32).argParser(arg((text) => parsePositiveInt(text, '--payload-size'))))
  .option('--json', 'print one JSON line instead of the summary', false)
  .action(async (o: { gateway: string; broker: string; devices: number; rate: number; qos: 0 | 1; window?: number; duration: number; payloadSize: number; json: boolean }) => {
    // Loaded only for this command: pub and sub stay small and fast to start.
    const { runBench } = await import('../src/client/cli/bench.js');
    await run(() => runBench(o, io));
  });

await program.parseAsync(process.argv);
