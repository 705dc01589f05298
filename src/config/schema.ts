import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';

/** `{ "1": "sensors/temp" }`: predefined topic ID → name (MQTT-SN 1.2 §6.7). */
const predefinedTable = z.record(z.string().regex(/^\d+$/, 'a topic ID (1-65534)'), z.string().min(1));

const radioUrl = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:\/\//i, 'a radio URL such as udp://0.0.0.0:1884 or udp6://[::]:1884');

export const brokerSchema = z.strictObject({
  /** Omitted: the gateway starts its embedded broker. */
  url: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL').optional(),
  clientId: z.string().min(1).max(65535).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  keepAlive: z.number().int().min(0).max(65535).default(30),
  reconnectMs: z.number().int().min(100).default(1000),
});

export const configSchema = z.strictObject({
  radios: z.array(radioUrl).min(1).default(['udp://0.0.0.0:1884', 'udp6://[::]:1884']),
  /** A URL string is shorthand for `{ url }`. */
  broker: z.preprocess((value) => (typeof value === 'string' ? { url: value } : value), brokerSchema).default({
    keepAlive: 30,
    reconnectMs: 1000,
  }),
  embeddedPort: z.number().int().min(0).max(65535).default(1883),
  gatewayId: z.number().int().min(0).max(255).default(1),
  predefined: predefinedTable.default({}),
  clients: z.record(z.string().min(1), z.strictObject({ predefined: predefinedTable.default({}) })).default({}),
  /** Accept QoS -1 publishes from devices with no connection (MQTT-SN 1.2 §6.8). */
  qosMinusOne: z.boolean().default(true),
  limits: z
    .strictObject({
      maxClients: z.number().int().min(1).default(100_000),
      /** Device publishes waiting for the broker's acknowledgement, per device; beyond it PUBACK says congestion. */
      maxInflight: z.number().int().min(1).default(64),
      /** Messages queued towards one device (asleep, disconnected or slow); beyond it the oldest is dropped. */
      maxQueued: z.number().int().min(1).default(1000),
      maxMessageSize: z.number().int().min(16).max(65535).default(65507),
    })
    .default({ maxClients: 100_000, maxInflight: 64, maxQueued: 1000, maxMessageSize: 65507 }),
  timers: z
    .strictObject({
      /** T_RETRY: wait for the device's acknowledgement before sending again (MQTT-SN 1.2 §7.2). */
      retryMs: z.number().int().min(10).default(10_000),
      /** N_RETRY: retransmissions before the device is considered lost. */
      retries: z.number().int().min(0).default(3),
      /** A device silent for keep-alive × this is lost (MQTT convention 1.5). */
      keepAliveTolerance: z.number().min(1).default(1.5),
    })
    .default({ retryMs: 10_000, retries: 3, keepAliveTolerance: 1.5 }),
  logLevel: z.enum(LOG_LEVELS as [string, ...string[]]).default('info'),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
