import { ConfigError } from './load.js';

/** Command-line flags that override the config file. */
export interface FlagOverrides {
  readonly radio?: readonly string[];
  readonly broker?: string;
  readonly embeddedPort?: string;
  readonly predefined?: readonly string[];
  readonly logLevel?: string;
  readonly gatewayId?: string;
  readonly dataDir?: string;
  /** `--http [HOST:PORT]`: `true` when given without an address. */
  readonly http?: string | boolean;
}

/** Where `--http` without an address listens (and where `mqttsn-gateway status` looks by default). */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:9884';

/** Applies flags on top of the file's raw fields; validation happens afterwards on the result. */
export function applyOverrides(raw: Record<string, unknown>, flags: FlagOverrides): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw };
  if (flags.radio && flags.radio.length > 0) merged.radios = [...flags.radio];
  if (flags.broker !== undefined) {
    const base = typeof raw.broker === 'object' && raw.broker !== null ? raw.broker : {};
    merged.broker = { ...base, url: flags.broker };
  }
  if (flags.embeddedPort !== undefined) merged.embeddedPort = toInteger('--embedded-port', flags.embeddedPort);
  if (flags.gatewayId !== undefined) merged.gatewayId = toInteger('--gateway-id', flags.gatewayId);
  if (flags.logLevel !== undefined) merged.logLevel = flags.logLevel;
  if (flags.dataDir !== undefined) merged.dataDir = flags.dataDir;
  if (flags.http !== undefined) {
    const base = typeof raw.http === 'object' && raw.http !== null ? raw.http : {};
    merged.http = { ...base, listen: flags.http === true ? DEFAULT_HTTP_LISTEN : flags.http };
  }
  if (flags.predefined && flags.predefined.length > 0) {
    const table: Record<string, unknown> = { ...(raw.predefined as Record<string, unknown> | undefined) };
    for (const entry of flags.predefined) {
      const match = /^(\d+)=(.+)$/.exec(entry);
      if (!match) throw new ConfigError(`--predefined "${entry}": expected ID=TOPIC, e.g. --predefined 1=sensors/temperature`);
      table[match[1]!] = match[2]!;
    }
    merged.predefined = table;
  }
  return merged;
}

function toInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag} "${value}": expected a whole number`);
  return Number(value);
}
