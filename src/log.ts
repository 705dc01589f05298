import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** `json`: one JSON object per line, for journald, files and log shippers; `pretty`: for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** Pretty when a person is watching (stderr is a terminal), JSON for everything else. */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** Logs to stderr (stdout stays free for tools), written asynchronously off the hot path. */
export async function createLogger(level: LogLevel, format: LogFormat = 'json'): Promise<Logger> {
  const options = { level, base: { name: 'mqttsn-gateway' } };
  if (format === 'json') return pino(options, pino.destination({ fd: 2, sync: false }));
  // Loaded only for a terminal: a service logging JSON never pays for it.
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ destination: 2, sync: false, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true });
  return pino(options, stream);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
