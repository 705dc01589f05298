import { pino, type LogFn, type Logger as PinoLogger } from 'pino';
import { LogLimiter, type LogLimitOptions } from './log-limit.js';

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

/** Per kind of line (level and message): at most this many per window; see LogLimiter. */
export const LOG_LINES_PER_KIND = 10;
export const LOG_WINDOW_MS = 10_000;

/** Logs to stderr (stdout stays free for tools), written asynchronously off the hot path, rate-limited per kind. */
export async function createLogger(level: LogLevel, format: LogFormat = 'json', limits: LogLimitOptions = { perWindow: LOG_LINES_PER_KIND, windowMs: LOG_WINDOW_MS }): Promise<Logger> {
  const options = { level, base: { name: 'mqttsn-gateway' }, hooks: { logMethod: rateLimited(new LogLimiter(limits), limits.windowMs) } };
  if (format === 'json') return pino(options, pino.destination({ fd: 2, sync: false }));
  // Loaded only for a terminal: a service logging JSON never pays for it.
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ destination: 2, sync: false, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true });
  return pino(options, stream);
}

type LogMethodHook = (this: PinoLogger, args: Parameters<LogFn>, method: LogFn, level: number) => void;

/** A pino logMethod hook that asks `limiter` before each line and reports what it held back. */
function rateLimited(limiter: LogLimiter, windowMs: number): LogMethodHook {
  let reporter: NodeJS.Timeout | undefined;
  let reporting = false;
  return function (this: PinoLogger, args, method, level) {
    if (reporting) return method.apply(this, args);
    const message = args.find((arg): arg is string => typeof arg === 'string') ?? '';
    const verdict = limiter.admit(`${level}\t${message}`);
    if (!verdict.log) {
      // Untold lines are reported once their kind goes quiet, even if it never logs again.
      reporter ??= setInterval(() => {
        reporting = true;
        for (const { key, suppressed } of limiter.flush()) {
          const [levelText = '30', text = ''] = key.split('\t');
          const label = (this.levels.labels[Number(levelText)] ?? 'info') as LogLevel;
          if (label !== 'silent') this[label]({ suppressed }, `${text} (${suppressed} more like this in the last ${windowMs / 1000} s, not logged)`);
        }
        reporting = false;
      }, windowMs).unref();
      return;
    }
    if (verdict.suppressedBefore > 0) {
      const [first, ...rest] = args;
      if (typeof first === 'object' && first !== null) return method.apply(this, [{ ...first, suppressed: verdict.suppressedBefore }, ...rest] as Parameters<LogFn>);
      return method.apply(this, [{ suppressed: verdict.suppressedBefore }, ...args] as Parameters<LogFn>);
    }
    return method.apply(this, args);
  };
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
