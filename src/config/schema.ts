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
const predefinedTable = z.record(
  z.string().check(z.regex(/^\d+$/, 'a topic ID (1-65534)')),
  z.string().check(z.regex(/^[^+#\u0000]+$/, 'a topic name without wildcards (+ or #)')),
);

const radioUrl = z.string().check(z.regex(/^[a-z][a-z0-9+.-]*:\/\//i, 'a radio URL such as udp://0.0.0.0:1884 or udp6://[::]:1884'));

/** Files for a TLS (mqtts://) upstream; paths are read at start. */
const tlsSchema = z.strictObject({
  /** The CA that signed the broker's certificate (PEM); the system's CAs when omitted. */
  ca: z.optional(z.string().check(z.minLength(1))),
  /** Client certificate and key (PEM), for brokers that require them. */
  cert: z.optional(z.string().check(z.minLength(1))),
  key: z.optional(z.string().check(z.minLength(1))),
  /** The name the broker's certificate must carry, when it differs from the URL's host. */
  servername: z.optional(z.string().check(z.minLength(1))),
  /** Only for testing against a broker with a self-made certificate: never in production. */
  rejectUnauthorized: withDefault(z.boolean(), true),
});

/** MQTT 3.1.1 or 5 towards the broker; YAML reads `5` as a number and `3.1.1` as a string. */
const protocolSchema = z.pipe(
  z.transform((value: unknown) => (typeof value === 'number' ? String(value) : value)),
  z.enum(['3.1.1', '5']),
);

export const brokerSchema = z.strictObject({
  /** Omitted: the gateway starts its embedded broker. */
  url: z.optional(z.string().check(z.regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'))),
  /**
   * aggregating: one connection for the whole gateway (MQTT-SN 1.2 §4.2).
   * transparent: one connection per device, with its client ID, will and credentials.
   */
  mode: withDefault(z.enum(['aggregating', 'transparent']), 'aggregating'),
  protocol: withDefault(protocolSchema, '3.1.1'),
  /** The gateway's own client ID (aggregating mode). */
  clientId: z.optional(z.string().check(z.minLength(1))),
  /** Put before each device's client ID at the broker in transparent mode, e.g. `sn-`. */
  clientIdPrefix: withDefault(z.string(), ''),
  username: z.optional(z.string()),
  password: z.optional(z.string()),
  tls: z.optional(tlsSchema),
  keepAlive: withDefault(integer(0, 65535), 30),
  /** First reconnect delay; it doubles (with jitter) up to reconnectMaxMs. */
  reconnectMs: withDefault(integer(100), 1000),
  reconnectMaxMs: withDefault(integer(100), 30_000),
  /** MQTT 5: how long the broker keeps a persistent session after the link drops, in seconds. */
  sessionExpiry: withDefault(integer(0, 0xffffffff), 7 * 24 * 3600),
  /** MQTT 5: send radio metadata (client ID, radio, address) with each device message as user properties. */
  userProperties: withDefault(z.boolean(), false),
  /**
   * Aggregating mode: put each device publish under a per-device prefix, `{clientId}` replaced,
   * e.g. `devices/{clientId}/`, so the broker sees who sent it. Empty: topics unchanged.
   */
  topicPrefix: withDefault(z.string(), ''),
  /**
   * QoS 2 publishes in flight to the broker at once (per connection); more wait in the gateway.
   * Keep it below the broker's receive maximum: mosquitto (max_inflight_messages 20) silently
   * drops, yet acknowledges, QoS 1 messages that arrive while 20 QoS 2 ones await PUBREL.
   */
  maxInflightQos2: withDefault(integer(1, 65535), 10),
});

/** While the broker is unreachable: device messages kept for it (store-and-forward). */
const forwardSchema = z.strictObject({
  /** Messages kept in the data directory for the broker, all devices together. */
  maxMessages: withDefault(integer(1), 100_000),
  /** Payload bytes kept, all devices together. */
  maxBytes: withDefault(integer(1), 32 << 20),
  /**
   * At the bound: `refuse` answers the device's QoS 1 publish with "rejected: congestion" (the
   * device keeps it and retries later; nothing is lost); `drop-oldest` discards the oldest kept
   * message to make room. Counted and logged either way.
   */
  overflow: withDefault(z.enum(['refuse', 'drop-oldest']), 'refuse'),
  /** QoS 0 messages during an outage: kept in memory (lost if the gateway restarts) or dropped and counted. */
  qos0: withDefault(z.enum(['keep', 'drop']), 'keep'),
});

const limitsSchema = z.strictObject({
  maxClients: withDefault(integer(1), 100_000),
  /** Device publishes waiting for the broker's acknowledgement, per device; beyond it PUBACK says congestion. */
  maxInflight: withDefault(integer(1), 64),
  maxMessageSize: withDefault(integer(16, 65535), 65507),
  /** Topic names one device may REGISTER or SUBSCRIBE to by name; beyond it REGACK/SUBACK says congestion. */
  maxTopics: withDefault(integer(1, 65_534), 1000),
  /** Total length (characters) of the topic names one device holds; beyond it REGACK/SUBACK says congestion. */
  maxTopicNamesLength: withDefault(integer(1), 64 * 1024),
  /** Subscriptions one device may hold, wildcard filters included; beyond it SUBACK says congestion. */
  maxSubscriptions: withDefault(integer(1, 65_534), 100),
  /**
   * Sessions one address (radio address, or forwarder node) may leave behind: a CONNECT with a new
   * client ID beyond it deletes the longest-silent session last seen there, gone ones first. A
   * device that reboots with a new client ID each time, or a script cycling IDs, cannot fill the
   * client table with sleepers that every broker message then fans out to.
   */
  sessionsPerAddress: withDefault(integer(1), 8),
  /**
   * Seconds a persistent session is kept after its device went away (lost or disconnected) before
   * it is deleted with what was held for it; 0 = never. MQTT-SN has no expiry of its own.
   */
  sessionExpiry: withDefault(integer(0), 7 * 24 * 3600),
});

const bufferSchema = z.strictObject({
  maxMessages: withDefault(integer(1), 1000),
  /** Payload bytes held for one device. */
  maxBytes: withDefault(integer(1), 1 << 20),
  /** At the limit: drop the oldest held message to make room, or refuse the new one. Counted and logged either way. */
  overflow: withDefault(z.enum(['drop-oldest', 'drop-newest']), 'drop-oldest'),
  /** Whether QoS 0 messages are held for a sleeping device at all (the spec says all QoS; v2.0 makes QoS 0 optional). */
  qos0: withDefault(z.enum(['keep', 'drop']), 'keep'),
  /** Messages held for all devices together; at the bound new messages are dropped and counted (O(1) under a flood). */
  totalMessages: withDefault(integer(1), 1_000_000),
  /** Payload bytes held for all devices together. */
  totalBytes: withDefault(integer(1), 128 << 20),
  /**
   * Of those, messages held in memory (for devices that are connected but slow, QoS 0 for sleepers,
   * or everything without a data directory): each costs a few hundred bytes of RAM. At the bound
   * new messages are dropped and counted.
   */
  memoryMessages: withDefault(integer(1), 50_000),
  memoryBytes: withDefault(integer(1), 32 << 20),
});

const timersSchema = z.strictObject({
  /** T_RETRY: wait for the device's acknowledgement before sending again (MQTT-SN 1.2 §7.2). */
  retryMs: withDefault(integer(10), 10_000),
  /** N_RETRY: retransmissions before the device is considered lost. */
  retries: withDefault(integer(0), 3),
  /** A device silent for keep-alive × this is lost (MQTT convention 1.5). */
  keepAliveTolerance: withDefault(z.number().check(z.minimum(1)), 1.5),
});

/** Gateway discovery (MQTT-SN 1.2 §6.1). */
const discoverySchema = z.strictObject({
  /** T_ADV: ADVERTISE on every radio that can broadcast, this often (seconds); 0 = never. */
  advertiseSeconds: withDefault(integer(0, 65535), 900),
  /** SEARCHGW is answered with GWINFO after a random delay up to this, so gateways in range do not collide. */
  gwinfoMaxDelayMs: withDefault(integer(0, 60_000), 250),
});

/** `HOST:PORT`, `[IPV6]:PORT` or `PORT` (loopback then): where the monitoring HTTP server listens. */
export const httpListen = z.string().check(z.regex(/^(?:(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):)?\d{1,5}$/, 'HOST:PORT such as 127.0.0.1:9884 (or [::1]:9884, or just a port for loopback)'));

/** The monitoring HTTP server: /metrics, /api/status and the status page. Off unless `listen` is set. */
const httpSchema = z.strictObject({
  listen: z.optional(httpListen),
  /** When set, /metrics and /api/status need `Authorization: Bearer <token>`; the page asks for it. */
  token: z.optional(z.string().check(z.minLength(1))),
});

/** DTLS for `dtls://` radios (werift-dtls): the gateway's certificate; PSK is not available yet. */
const dtlsSchema = z.strictObject({
  /** PEM files: the gateway's certificate and private key (EC for ECDHE-ECDSA-AES128-GCM-SHA256, or RSA). */
  cert: z.optional(z.string().check(z.minLength(1))),
  key: z.optional(z.string().check(z.minLength(1))),
  /** Handshakes in progress at once; datagrams from further new addresses are ignored meanwhile. */
  maxHandshakes: withDefault(integer(1), 100),
  /** An association silent this long (seconds) is dropped; the device handshakes again. */
  idleSeconds: withDefault(integer(1), 3600),
});

/** Retained state topics at the broker: `<topicPrefix>/<gatewayId>/state` and `.../device/<clientId>/state`. */
const statusSchema = z.strictObject({
  enabled: withDefault(z.boolean(), true),
  topicPrefix: withDefault(z.string().check(z.regex(/^[^+#\u0000-\u001f\u007f-\u009f]+$/, 'a topic prefix without wildcards or control characters, e.g. mqttsn-gateway')), 'mqttsn-gateway'),
  /**
   * Devices gone from the session table (clean session ended) whose `offline` state stays retained;
   * beyond it the longest-gone one's retained state is cleared. Evicted and expired sessions are
   * cleared at once: the broker retains at most this many plus the session table.
   */
  maxOfflineDevices: withDefault(integer(0), 1000),
});

const topicFilters = z.array(z.string().check(z.minLength(1)));

/** Who may use the gateway and for what; everything is allowed when a field is absent. */
const accessSchema = z.strictObject({
  /** Allowed client IDs (`*` matches any characters, e.g. `greenhouse-*`); others get CONNACK "rejected: not supported". */
  clients: z.optional(z.array(z.string().check(z.minLength(1)))),
  /** Per radio URL: allowed device addresses (`*` wildcard, e.g. `192.168.1.*`, `0013a200*`). */
  addresses: withDefault(z.record(z.string(), z.array(z.string().check(z.minLength(1)))), {}),
  /** Per client ID (or pattern, or `*`): MQTT filters it may publish to and subscribe within. */
  acl: withDefault(z.record(z.string().check(z.minLength(1)), z.strictObject({ publish: z.optional(topicFilters), subscribe: z.optional(topicFilters) })), {}),
  /** Addresses allowed to send QoS -1 publishes (needs qosMinusOne: true); absent = all. */
  qosMinusOneFrom: z.optional(z.array(z.string().check(z.minLength(1)))),
});

export const configSchema = z.strictObject({
  radios: withDefault(z.array(radioUrl).check(z.minLength(1)), ['udp://0.0.0.0:1884', 'udp6://[::]:1884']),
  /** A URL string is shorthand for `{ url }`. */
  broker: withDefault(
    z.pipe(
      z.transform((value: unknown) => (typeof value === 'string' ? { url: value } : value)),
      brokerSchema,
    ),
    {
      mode: 'aggregating',
      protocol: '3.1.1',
      clientIdPrefix: '',
      keepAlive: 30,
      reconnectMs: 1000,
      reconnectMaxMs: 30_000,
      sessionExpiry: 7 * 24 * 3600,
      userProperties: false,
      topicPrefix: '',
      maxInflightQos2: 10,
    },
  ),
  forward: withDefault(forwardSchema, { maxMessages: 100_000, maxBytes: 32 << 20, overflow: 'refuse', qos0: 'keep' }),
  embeddedPort: withDefault(integer(0, 65535), 1883),
  gatewayId: withDefault(integer(0, 255), 1),
  discovery: withDefault(discoverySchema, { advertiseSeconds: 900, gwinfoMaxDelayMs: 250 }),
  predefined: withDefault(predefinedTable, {}),
  /** Per client ID: its own predefined topics, and its broker credentials in transparent mode. */
  clients: withDefault(
    z.record(
      z.string().check(z.minLength(1)),
      z.strictObject({ predefined: withDefault(predefinedTable, {}), username: z.optional(z.string()), password: z.optional(z.string()) }),
    ),
    {},
  ),
  /** Accept QoS -1 publishes from devices with no connection (MQTT-SN 1.2 §6.8). */
  qosMinusOne: withDefault(z.boolean(), true),
  access: withDefault(accessSchema, { addresses: {}, acl: {} }),
  limits: withDefault(limitsSchema, { maxClients: 100_000, maxInflight: 64, maxMessageSize: 65507, maxTopics: 1000, maxTopicNamesLength: 64 * 1024, maxSubscriptions: 100, sessionsPerAddress: 8, sessionExpiry: 7 * 24 * 3600 }),
  /** Messages held for one device while it sleeps, is away or slow (MQTT-SN 1.2 §6.14). */
  buffer: withDefault(bufferSchema, { maxMessages: 1000, maxBytes: 1 << 20, overflow: 'drop-oldest', qos0: 'keep', totalMessages: 1_000_000, totalBytes: 128 << 20, memoryMessages: 50_000, memoryBytes: 32 << 20 }),
  /** Where sessions and buffered messages are kept across restarts; `none` keeps them in memory only. */
  dataDir: withDefault(z.string().check(z.minLength(1)), './data'),
  timers: withDefault(timersSchema, { retryMs: 10_000, retries: 3, keepAliveTolerance: 1.5 }),
  logLevel: withDefault(z.enum(LOG_LEVELS as [string, ...string[]]), 'info'),
  /** `http:` with every field commented out (YAML null) means the same as leaving it out. */
  http: withDefault(
    z.pipe(
      z.transform((value: unknown) => value ?? {}),
      httpSchema,
    ),
    {},
  ),
  dtls: withDefault(dtlsSchema, { maxHandshakes: 100, idleSeconds: 3600 }),
  status: withDefault(statusSchema, { enabled: true, topicPrefix: 'mqttsn-gateway', maxOfflineDevices: 1000 }),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
