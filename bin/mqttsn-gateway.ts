#!/usr/bin/env node
// First: it holds V8's start-up tuning, which must be in place before the rest is set up.
import { startupDone } from '../src/startup-memory.js';
import { Command } from 'commander';
import { readConfigFile, parseConfig, ConfigError } from '../src/config/load.js';
import { applyOverrides, DEFAULT_HTTP_LISTEN } from '../src/config/overrides.js';
import { printStatus } from '../src/monitor/status-command.js';
import { createLogger, defaultLogFormat, LOG_FORMATS, type LogFormat, type LogLevel } from '../src/log.js';
import { createReloader } from '../src/reload.js';
import { runGateway } from '../src/run.js';
import { VERSION } from '../src/version.js';

/** Longest a clean stop may take before the process exits anyway (systemd's TimeoutStopSec is 20 s). */
const STOP_DEADLINE_MS = 10_000;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const program = new Command()
  .name('mqttsn-gateway')
  .version(VERSION)
  .description('MQTT-SN v1.2 gateway: devices on UDP (IPv4 and IPv6), serial lines, XBee radios and Bluetooth LE reach an MQTT broker over TCP.\nWith no --broker, an embedded broker starts on 127.0.0.1:1883.')
  .option('-c, --config <file>', 'YAML or JSON config file (flags override it)')
  .option('-r, --radio <url>', 'radio to listen on, repeatable: udp://HOST:PORT, udp6://[HOST]:PORT, serial:///dev/ttyUSB0?baud=115200&framing=slip, xbee:///dev/ttyUSB0?baud=9600&api=2, ble://hci0 (default udp://0.0.0.0:1884 and udp6://[::]:1884)', collect)
  .option('-b, --broker <url>', 'upstream broker, mqtt://HOST:PORT or mqtts://HOST:PORT (default: embedded broker)')
  .option('--embedded-port <n>', 'TCP port of the embedded broker on 127.0.0.1 (default 1883)')
  .option('-p, --predefined <id=topic>', 'predefined topic ID, repeatable, e.g. 1=sensors/temp', collect)
  .option('--gateway-id <n>', 'gateway ID in GWINFO/ADVERTISE, 0-255 (default 1)')
  .option('-d, --data-dir <dir>', 'where sessions and buffered messages survive restarts (default ./data; none = memory only)')
  .option('-l, --log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)')
  .option('--log-format <format>', 'json|pretty: pretty is for a terminal (default pretty when stderr is a terminal, json otherwise, e.g. for journald)')
  .option('--status-interval <seconds>', 'log a status line (sessions, upstream state, messages held for the broker) this often; 0 = never (default 60). kill -USR1 logs one at once')
  .option('--http [host:port]', `serve /metrics (Prometheus), /api/status and a status page (config http.listen; ${DEFAULT_HTTP_LISTEN} when no address is given)`)
  .showHelpAfterError()
  // `status --http URL` is the subcommand's own flag, not the gateway's.
  .enablePositionalOptions()
  .action(() => main());

program
  .command('status')
  .description("print a running gateway's status and its devices (from its --http address)")
  .option('--http <url>', `the gateway's monitoring address (default http://${DEFAULT_HTTP_LISTEN})`)
  .option('--token <token>', 'http.token, when the gateway has one (or the MQTTSN_HTTP_TOKEN environment variable)')
  .option('--limit <n>', 'at most this many devices, the most recently seen (default 1000)')
  .action((options: { http?: string; token?: string; limit?: string }) => printStatus({ url: options.http ?? `http://${DEFAULT_HTTP_LISTEN}`, token: options.token ?? process.env.MQTTSN_HTTP_TOKEN, limit: options.limit }));

function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined) return defaultLogFormat();
  const format = LOG_FORMATS.find((known) => known === text);
  if (!format) throw new ConfigError(`--log-format "${text}": expected ${LOG_FORMATS.join(' or ')}`);
  return format;
}

async function main(): Promise<void> {
  const flags = program.opts<{ config?: string; radio?: string[]; broker?: string; embeddedPort?: string; predefined?: string[]; gatewayId?: string; logLevel?: string; logFormat?: string; dataDir?: string; statusInterval?: string; http?: string | boolean }>();
  const statusSeconds = Number(flags.statusInterval ?? '60');
  if (!Number.isFinite(statusSeconds) || statusSeconds < 0) throw new ConfigError(`--status-interval "${flags.statusInterval}": expected a number of seconds (0 = never)`);
  // Flags override the file, at start and at every reload.
  const loadConfig = async () => parseConfig(applyOverrides(flags.config ? await readConfigFile(flags.config) : {}, flags), flags.config ? `config (${flags.config} and flags)` : 'config (flags)');
  const config = await loadConfig();
  const logger = await createLogger(config.logLevel as LogLevel, parseLogFormat(flags.logFormat));
  const running = await runGateway(config, logger);
  startupDone();
  if (statusSeconds > 0) setInterval(() => logger.info(running.gateway.status(), 'status'), statusSeconds * 1000).unref();
  // Asked for explicitly: shown whatever the log level.
  const onRequest = logger.child({}, { level: 'info' });
  process.on('SIGUSR1', () => onRequest.info(running.gateway.status(), 'status'));
  const setLogLevel = (level: string): void => {
    logger.level = level;
    onRequest.level = 'info'; // pino passes a parent's new level on to its children
  };
  const reload = createReloader({ file: flags.config, load: loadConfig, gateway: running.gateway, initial: config, setLogLevel, logger: onRequest });
  process.on('SIGHUP', () => void reload());
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, ...running.gateway.status() }, 'stopping');
    // Every write has reached the OS already (the store loses nothing to a kill): a stop that hangs
    // (a broker that never answers) must not keep a service manager waiting.
    setTimeout(() => {
      logger.error({ signal, afterMs: STOP_DEADLINE_MS }, 'stop did not finish in time: exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  logger.info({ broker: running.brokerUrl, radios: config.radios }, 'gateway ready');
  // Scripts and tests wait for this line (and may signal at once: the handlers are in place); it
  // is also the first thing a user sees.
  process.stdout.write(`mqttsn-gateway ready: ${config.radios.join(', ')} -> ${running.brokerUrl}\n`);
  if (running.http) process.stdout.write(`mqttsn-gateway monitoring: ${running.http.url}/\n`);
}

program.parseAsync().catch((error: unknown) => {
  const known = error instanceof ConfigError || (error instanceof Error && /Error$/.test(error.name) && error.name !== 'Error');
  process.stderr.write(`mqttsn-gateway: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
