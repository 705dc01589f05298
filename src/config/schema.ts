import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { LOG_LEVELS } from '../log.js';

// zod/mini rather than zod: the same validation engine and messages in 20 KB instead of 450 KB
// of bundled code (about 5 MB of resident memory on a gateway that validates once at start).
// zod/mini ships no messages of its own: "expected number, received string" needs the English set.
z.config(en());

const integer = (min: number, max = Number.MAX_SAFE_INTEGER): z.ZodMiniNumberFormat => z.int().check(z.minimum(min), z.maximum(max));
const withDefault = <T extends z.ZodMiniType>(schema: T, value: z.output<T>): z.ZodMiniDefault<T> => z._default(schema, value as never);

/** `{ "1": "sensors/temp" }`: predefined topic ID → name (MQTT-SN 1.2 §6.7). */
const predefinedTable = z.record(z.string().check(z.regex(/^\d+$/, 'a topic ID (1-65534)')), z.string().check(z.minLength(1)));

const radioUrl = z.string().check(z.regex(/^[a-z][a-z0-9+.-]*:\/\//i, 'a radio URL such as udp://0.0.0.0:1884 or udp6://[::]:1884'));

export const brokerSchema = z.strictObject({
  /** Omitted: the gateway starts its embedded broker. */
  url: z.optional(z.string().check(z.regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'))),
  clientId: z.optional(z.string().check(z.minLength(1))),
  username: z.optional(z.string()),
  password: z.optional(z.string()),
  keepAlive: withDefault(integer(0, 65535), 30),
  reconnectMs: withDefault(integer(100), 1000),
});

const limitsSchema = z.strictObject({
  maxClients: withDefault(integer(1), 100_000),
  /** Device publishes waiting for the broker's acknowledgement, per device; beyond it PUBACK says congestion. */
  maxInflight: withDefault(integer(1), 64),
  maxMessageSize: withDefault(integer(16, 65535), 65507),
});

const bufferSchema = z.strictObject({
  maxMessages: withDefault(integer(1), 1000),
  /** Payload bytes held for one device. */
  maxBytes: withDefault(integer(1), 1 << 20),
  /** At the limit: drop the oldest held message to make room, or refuse the new one. Counted and logged either way. */
  overflow: withDefault(z.enum(['drop-oldest', 'drop-newest']), 'drop-oldest'),
  /** Whether QoS 0 messages are held for a sleeping device at all (the spec says all QoS; v2.0 makes QoS 0 optional). */
  qos0: withDefault(z.enum(['keep', 'drop']), 'keep'),
});

const timersSchema = z.strictObject({
  /** T_RETRY: wait for the device's acknowledgement before sending again (MQTT-SN 1.2 §7.2). */
  retryMs: withDefault(integer(10), 10_000),
  /** N_RETRY: retransmissions before the device is considered lost. */
  retries: withDefault(integer(0), 3),
  /** A device silent for keep-alive × this is lost (MQTT convention 1.5). */
  keepAliveTolerance: withDefault(z.number().check(z.minimum(1)), 1.5),
});

export const configSchema = z.strictObject({
  radios: withDefault(z.array(radioUrl).check(z.minLength(1)), ['udp://0.0.0.0:1884', 'udp6://[::]:1884']),
  /** A URL string is shorthand for `{ url }`. */
  broker: withDefault(
    z.pipe(
      z.transform((value: unknown) => (typeof value === 'string' ? { url: value } : value)),
      brokerSchema,
    ),
    { keepAlive: 30, reconnectMs: 1000 },
  ),
  embeddedPort: withDefault(integer(0, 65535), 1883),
  gatewayId: withDefault(integer(0, 255), 1),
  predefined: withDefault(predefinedTable, {}),
  clients: withDefault(z.record(z.string().check(z.minLength(1)), z.strictObject({ predefined: withDefault(predefinedTable, {}) })), {}),
  /** Accept QoS -1 publishes from devices with no connection (MQTT-SN 1.2 §6.8). */
  qosMinusOne: withDefault(z.boolean(), true),
  limits: withDefault(limitsSchema, { maxClients: 100_000, maxInflight: 64, maxMessageSize: 65507 }),
  /** Messages held for one device while it sleeps, is away or slow (MQTT-SN 1.2 §6.14). */
  buffer: withDefault(bufferSchema, { maxMessages: 1000, maxBytes: 1 << 20, overflow: 'drop-oldest', qos0: 'keep' }),
  /** Where sessions and buffered messages are kept across restarts; `none` keeps them in memory only. */
  dataDir: withDefault(z.string().check(z.minLength(1)), './data'),
  timers: withDefault(timersSchema, { retryMs: 10_000, retries: 3, keepAliveTolerance: 1.5 }),
  logLevel: withDefault(z.enum(LOG_LEVELS as [string, ...string[]]), 'info'),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
