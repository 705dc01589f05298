import { configChanges, LIVE_FIELDS } from './config/reload.js';
import type { GatewayConfig } from './config/schema.js';
import type { Gateway } from './gateway/gateway.js';
import type { Logger } from './log.js';

export interface ReloaderOptions {
  /** The config file, or undefined when the gateway runs on flags alone. */
  readonly file: string | undefined;
  /** Reads and validates the file with the command line's flags on top, as at start; throws ConfigError. */
  readonly load: () => Promise<GatewayConfig>;
  readonly gateway: Gateway;
  /** Sets the log level of every logger but the one that answers signals. */
  readonly setLogLevel: (level: GatewayConfig['logLevel']) => void;
  /** The config the gateway started with. */
  readonly initial: GatewayConfig;
  /** Shown whatever the log level: the user asked. */
  readonly logger: Logger;
}

/**
 * SIGHUP: re-reads the config file and applies what can change live (log level, access rules,
 * limits), saying what it applied and what needs a restart. A file that does not validate changes
 * nothing: the gateway keeps running on what it has.
 */
export function createReloader(options: ReloaderOptions): () => Promise<void> {
  const { file, load, gateway, setLogLevel, logger } = options;
  // What the gateway runs on now: the start config plus every live change applied since.
  let running = options.initial;
  return async () => {
    if (file === undefined) {
      logger.warn('SIGHUP: the gateway was started without --config, so there is no file to re-read; nothing changed');
      return;
    }
    let next: GatewayConfig;
    try {
      next = await load();
    } catch (error) {
      logger.error(`SIGHUP: ${file} not applied, the gateway keeps its current config. ${(error as Error).message}`);
      return;
    }
    const changes = configChanges(running, next);
    setLogLevel(next.logLevel);
    const disconnected = changes.live.length > 0 ? gateway.reconfigure(next) : [];
    for (const field of LIVE_FIELDS) running = { ...running, [field]: next[field] };
    const parts = [changes.live.length > 0 ? `applied ${changes.live.join(', ')}` : 'nothing to apply live'];
    if (disconnected.length > 0) parts.push(`disconnected ${disconnected.length} device(s) the new access rules refuse`);
    if (changes.restart.length > 0) parts.push(`changed but needs a restart: ${changes.restart.join(', ')}`);
    logger.info({ file, applied: changes.live, needsRestart: changes.restart, disconnected }, `SIGHUP: ${file} re-read: ${parts.join('; ')}`);
  };
}
