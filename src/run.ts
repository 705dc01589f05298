import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { DurableStore } from './store/durable-store.js';
import { MemoryStore } from './store/memory-store.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { GatewayConfig } from './config/schema.js';
import { Gateway } from './gateway/gateway.js';
import type { Logger } from './log.js';
import type { Radio } from './radio.js';
import { createRadio } from './radios.js';
import type { EmbeddedBroker } from './upstream/embedded-broker.js';
import { MqttUpstream } from './upstream/mqtt-upstream.js';
import { zeroConfigBroker } from './upstream/zero-config.js';
import type { DeviceLinkOptions } from './gateway/device-links.js';
import { gatewayWill, statusTopics } from './monitor/device-state.js';
import type { MonitoringServer } from './monitor/http-server.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  /** The broker the gateway forwards to (the embedded one when none was configured). */
  readonly brokerUrl: string;
  readonly radios: readonly Radio[];
  readonly embeddedBroker: EmbeddedBroker | undefined;
  /** /metrics, /api/status and the status page, when `http.listen` is set. */
  readonly http: MonitoringServer | undefined;
  stop(): Promise<void>;
}

/**
 * Stable per data directory, so a restarted gateway resumes its own broker session and two
 * gateways on one host (with their own data directories) never take over each other's.
 */
function defaultClientId(dataDir: string): string {
  const suffix = dataDir === 'none' ? randomBytes(3).toString('hex') : createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8);
  return `mqttsn-gateway-${hostname()}-${suffix}`;
}

/** The durable store under `dataDir`, or memory only for `none`; the native LevelDB binding loads only when used. */
async function openStore(dataDir: string): Promise<DurableStore> {
  if (dataDir === 'none') return new MemoryStore({ volatile: true });
  const { LevelStore } = await import('./store/level-store.js');
  return new LevelStore(resolve(dataDir));
}

export interface RunOptions {
  readonly clock?: Clock;
  /** Builds a radio from its URL; tests use it to put a fake noble binding under the real BLE radio. */
  readonly makeRadio?: (url: string, config: GatewayConfig) => Promise<Radio>;
}

/** Starts a whole gateway from a validated config: embedded broker if needed, upstream, radios. */
export async function runGateway(config: GatewayConfig, logger: Logger, options: RunOptions = {}): Promise<RunningGateway> {
  const { clock, makeRadio = createRadio } = options;
  const radios = await Promise.all(config.radios.map((url) => makeRadio(url, config)));
  const zeroConfig = config.broker.url === undefined ? await zeroConfigBroker(config.embeddedPort, logger) : undefined;
  const embeddedBroker = zeroConfig?.embedded;
  const brokerUrl = config.broker.url ?? zeroConfig!.url;
  const { broker, status } = config;
  const upstream = new MqttUpstream({
    url: brokerUrl,
    clientId: broker.clientId ?? defaultClientId(config.dataDir),
    protocol: broker.protocol,
    // With a data directory the gateway's broker session persists too: what the broker queued for
    // it during a reconnect or a restart is delivered afterwards instead of being dropped.
    persistentSession: config.dataDir !== 'none',
    sessionExpiry: broker.sessionExpiry,
    keepAlive: broker.keepAlive,
    reconnectMs: broker.reconnectMs,
    reconnectMaxMs: broker.reconnectMaxMs,
    maxInflightQos2: broker.maxInflightQos2,
    logger,
    // A gateway that dies or is cut off shows `offline` at <prefix>/<gatewayId>/state.
    ...(status.enabled ? { will: gatewayWill(statusTopics(status.topicPrefix, config.gatewayId)) } : {}),
    ...(broker.username !== undefined ? { username: broker.username } : {}),
    ...(broker.password !== undefined ? { password: broker.password } : {}),
    ...(broker.tls ? { tls: broker.tls } : {}),
  });
  // Transparent mode: each device's own connection, with the same broker settings as the gateway's.
  const deviceLinks = (device: DeviceLinkOptions): MqttUpstream =>
    new MqttUpstream({
      url: brokerUrl,
      clientId: device.clientId,
      name: device.clientId,
      protocol: broker.protocol,
      persistentSession: device.persistentSession,
      sessionExpiry: broker.sessionExpiry,
      keepAlive: device.keepAlive,
      reconnectMs: broker.reconnectMs,
      reconnectMaxMs: broker.reconnectMaxMs,
    maxInflightQos2: broker.maxInflightQos2,
      retryRefused: false,
      logger,
      ...(device.will ? { will: device.will } : {}),
      ...(device.username !== undefined ? { username: device.username } : {}),
      ...(device.password !== undefined ? { password: device.password } : {}),
      ...(broker.tls ? { tls: broker.tls } : {}),
    });
  const store = await openStore(config.dataDir);
  const gateway = new Gateway({ config, radios, upstream, logger, store, deviceLinks, ...(clock ? { clock } : {}) });
  // Loaded only when asked for: a gateway without monitoring never initialises prom-client or node:http.
  const http = config.http.listen !== undefined ? new (await import('./monitor/http-server.js')).MonitoringServer({ listen: config.http.listen, token: config.http.token, gateway, brokerUrl, logger }) : undefined;
  try {
    await gateway.start();
    await http?.start();
  } catch (error) {
    await gateway.stop().catch(() => undefined);
    await embeddedBroker?.close();
    throw error;
  }
  if (http) logger.info({ url: http.url }, 'monitoring at /metrics, /api/status and the status page /');
  return {
    gateway,
    brokerUrl,
    radios,
    embeddedBroker,
    http,
    stop: async () => {
      await http?.close();
      await gateway.stop();
      await embeddedBroker?.close();
    },
  };
}
