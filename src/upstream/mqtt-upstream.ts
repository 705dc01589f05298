import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';
// The client class alone: the package's entry also loads WebSocket, SOCKS and browser transports
// the gateway never uses (several MB of memory on a Raspberry Pi). It is CommonJS: Node's ESM
// loader hands over `module.exports` (class at `.default`), other loaders the class itself.
import clientModule from 'mqtt/lib/client';

type MqttClientConstructor = typeof clientModule.default;
const MqttClientClass = ((clientModule as { default?: MqttClientConstructor }).default ?? clientModule) as MqttClientConstructor;
import type { Logger } from '../log.js';
import type { MqttQos, Upstream, UpstreamEvents, UpstreamMessage, UpstreamState } from './upstream.js';

export interface MqttUpstreamOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly clientId: string;
  /**
   * Keep the gateway's session at the broker across reconnects and restarts (MQTT clean
   * session off): messages queued for the gateway while its link was down are not lost.
   */
  readonly persistentSession?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly keepAlive: number;
  /** Milliseconds between reconnect attempts. */
  readonly reconnectMs: number;
  readonly logger: Logger;
}

/** Opens the TCP (mqtt://) or TLS (mqtts://) connection MQTT.js speaks over; called again on every reconnect. */
function brokerStream(url: string): () => net.Socket {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'mqtts:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port === '' ? (secure ? 8883 : 1883) : Number(parsed.port);
  return () => (secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port }));
}

/** The broker over TCP with MQTT.js, which keeps the session, queues while offline and resubscribes. */
export class MqttUpstream extends EventEmitter<UpstreamEvents> implements Upstream {
  private client: MqttClient | undefined;
  private currentState: UpstreamState = 'connecting';
  private corked = false;
  private handler: ((message: UpstreamMessage) => Promise<unknown> | undefined) | undefined;
  private readonly pendingAcks = new Map<object, Promise<unknown>>();

  constructor(private readonly options: MqttUpstreamOptions) {
    super();
  }

  get state(): UpstreamState {
    return this.currentState;
  }

  setMessageHandler(handler: (message: UpstreamMessage) => Promise<unknown> | undefined): void {
    this.handler = handler;
  }

  get backlogBytes(): number {
    return (this.client?.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
  }

  start(): Promise<void> {
    const { url, clientId, username, password, keepAlive, reconnectMs, logger } = this.options;
    const clientOptions: IClientOptions = {
      clientId,
      keepalive: keepAlive,
      reconnectPeriod: reconnectMs,
      connectTimeout: 10_000,
      clean: !this.options.persistentSession,
      protocolVersion: 4,
      resubscribe: true,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers (6 MB of heap) to save a tiny
      // allocation per packet; on a Raspberry Pi the memory matters more.
      writeCache: false,
      // MQTT.js logs every packet through `debug`; even disabled, that is ~4% of the hot path.
      log: () => undefined,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
    const client = new MqttClientClass(brokerStream(url), clientOptions);
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload, qos: packet.qos, retain: packet.retain };
      this.emit('message', message);
      const work = this.handler?.(message);
      if (work) this.pendingAcks.set(packet, work);
    });
    // MQTT.js sends PUBACK when this calls back: held until the gateway's handler is done.
    client.handleMessage = (packet, callback) => {
      const work = this.pendingAcks.get(packet);
      if (!work) {
        callback();
        return;
      }
      this.pendingAcks.delete(packet);
      work.then(
        () => callback(),
        (error: Error) => {
          logger.error({ topic: packet.topic, err: error.message }, 'message not stored: not acknowledged to the broker');
          callback(error);
        },
      );
    };
    client.on('connect', () => {
      // Device messages are small and latency matters more than packet count: no Nagle delay.
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      this.setState('connected', url);
    });
    client.on('reconnect', () => this.setState('reconnecting', url));
    client.on('offline', () => this.setState('offline', url));
    client.on('error', (error) => logger.warn({ err: error.message, broker: url }, 'upstream broker error'));
    return new Promise((resolve) => {
      const settle = (): void => {
        client.off('connect', settle);
        client.off('offline', settle);
        resolve();
      };
      client.once('connect', settle);
      client.once('offline', settle);
    });
  }

  publish(message: UpstreamMessage, done?: (error?: Error) => void): void {
    const client = this.client;
    if (!client) {
      done?.(new Error('upstream is not started'));
      return;
    }
    this.batchWrites(client);
    client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, done && ((error) => done(error ?? undefined)));
  }

  async subscribe(filter: string, qos: MqttQos): Promise<MqttQos> {
    const client = this.requireClient();
    const grants = await client.subscribeAsync(filter, { qos });
    const granted = grants[0]?.qos;
    if (granted === undefined || granted === 128) throw new Error(`broker refused subscription to "${filter}"`);
    return granted as MqttQos;
  }

  async unsubscribe(filter: string): Promise<void> {
    await this.requireClient().unsubscribeAsync(filter);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    this.setState('closed');
  }

  /**
   * Datagrams arrive one callback each, and MQTT.js flushes the socket after each callback: one
   * syscall and one TCP segment per message. Holding the socket corked until the event loop has
   * handled every datagram of this turn sends them all in one write.
   */
  private batchWrites(client: MqttClient): void {
    const stream = client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    if (this.corked || !stream?.cork || !stream.uncork) return;
    this.corked = true;
    stream.cork();
    setImmediate(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('upstream is not started');
    return this.client;
  }

  private setState(state: UpstreamState, detail?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    // Losing the broker is worth a warning; (re)connecting and closing are news.
    const level = state === 'offline' || state === 'reconnecting' ? 'warn' : 'info';
    this.options.logger[level]({ state, broker: detail }, `upstream ${state}`);
    this.emit('state', state, detail);
  }
}
