import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import type tls from 'node:tls';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
// The client class alone: the package's entry also loads WebSocket, SOCKS and browser transports
// the gateway never uses (several MB of memory on a Raspberry Pi). It is CommonJS: Node's ESM
// loader hands over `module.exports` (class at `.default`), other loaders the class itself.
import clientModule from 'mqtt/lib/client';
import mqttPacket from 'mqtt-packet';
import type { Logger } from '../log.js';
import { isValidTopicName } from '../topics/names.js';
import { Backoff } from '../backoff.js';
import { OrderedAcks } from './ordered-acks.js';
import { PoisonGuard } from './poison-guard.js';
import { QueueDelay } from './queue-delay.js';
import { LENGTHS_PER_BUCKET, RemainingLengthCache } from './remaining-length-cache.js';
import { ConnectionRefusedError, InvalidTopicError, RefusedByBrokerError, type MqttQos, type Upstream, type UpstreamEvents, type UpstreamMessage, type UpstreamState } from './upstream.js';

type MqttClientConstructor = typeof clientModule.default;
const MqttClientClass = ((clientModule as { default?: MqttClientConstructor }).default ?? clientModule) as MqttClientConstructor;

/** TLS material for `mqtts://`: file paths, read when the link starts. */
export interface UpstreamTls {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

export interface MqttUpstreamOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly clientId: string;
  /** 3.1.1 unless told otherwise. */
  readonly protocol?: '3.1.1' | '5';
  /**
   * Keep the session at the broker across reconnects and restarts (MQTT clean session off; with
   * MQTT 5 a session expiry): what the broker queued while the link was down is not lost.
   */
  readonly persistentSession?: boolean;
  /** MQTT 5 session expiry in seconds for a persistent session; default one week. */
  readonly sessionExpiry?: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: UpstreamTls;
  /** The MQTT will the broker publishes if this link dies without a DISCONNECT. */
  readonly will?: UpstreamMessage;
  readonly keepAlive: number;
  /** First reconnect delay; doubles with jitter up to `reconnectMaxMs`. */
  readonly reconnectMs: number;
  readonly reconnectMaxMs?: number;
  /** QoS 2 publishes in flight at once (default 10); the rest wait here, in order. */
  readonly maxInflightQos2?: number;
  /** When the broker refuses the connection: keep trying (the gateway's own link) or give up (a device's link). */
  readonly retryRefused?: boolean;
  readonly logger: Logger;
  /** Names the link in logs (e.g. the device's client ID in transparent mode). */
  readonly name?: string;
}

/** A TLS file named in the config cannot be read: the user's to fix, so a message, never a stack trace. */
export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

/** Opens the TCP (mqtt://) or TLS (mqtts://) connection MQTT.js speaks over; called again on every reconnect. */
function brokerStream(url: string, options: UpstreamTls | undefined): () => net.Socket {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'mqtts:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port === '' ? (secure ? 8883 : 1883) : Number(parsed.port);
  if (!secure) return () => net.connect({ host, port });
  // Read once: a file that is missing fails the start with its name, not every reconnect.
  const read = (path: string | undefined, what: string, field: keyof UpstreamTls): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new TlsFileError(`cannot read the TLS ${what} file ${path} (broker.tls.${field}): ${(error as Error).message}`);
    }
  };
  const ca = read(options?.ca, 'CA', 'ca');
  const cert = read(options?.cert, 'certificate', 'cert');
  const key = read(options?.key, 'key', 'key');
  const servername = options?.servername ?? (net.isIP(host) ? undefined : host);
  // Loaded for mqtts:// only: a gateway on plain mqtt:// never initialises node:tls.
  const { connect } = createRequire(import.meta.url)('node:tls') as typeof tls;
  return () =>
    connect({
      host,
      port,
      ...(servername !== undefined ? { servername } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: options?.rejectUnauthorized ?? true,
    });
}

/**
 * One MQTT connection to the broker with MQTT.js, which keeps the session, resends unacknowledged
 * QoS 1 messages after a reconnect and resubscribes. Reconnects are ours: exponential backoff with
 * jitter instead of MQTT.js's fixed period.
 */
export class MqttUpstream extends EventEmitter<UpstreamEvents> implements Upstream {
  private client: MqttClient | undefined;
  private currentState: UpstreamState = 'connecting';
  private corked = false;
  private handler: ((message: UpstreamMessage) => Promise<unknown> | undefined) | undefined;
  private readonly pendingAcks = new Map<object, Promise<unknown>>();
  /** Broker messages whose PUBACK waits for the handler: a clean close lets them finish first. */
  private readonly handlerWork = new Set<Promise<unknown>>();
  /** Acknowledgements of broker messages waiting for the handler's work, in order (see OrderedAcks). */
  private readonly acks = new OrderedAcks();
  private readonly backoff: Backoff;
  private readonly poison = new PoisonGuard();
  /** Filter → QoS of every subscription held, to restore on a new broker session. */
  private readonly filters = new Map<string, MqttQos>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** QoS 2 publishes sent and not yet completed (PUBCOMP), and those waiting for room (see publishQos2). */
  private qos2InFlight = 0;
  private readonly qos2Waiting: Array<[UpstreamMessage, ((error?: Error) => void) | undefined]> = [];
  private closing = false;
  /** The broker connection's queueing delay, probed with PINGREQ while sending. */
  private readonly queueDelay = new QueueDelay();
  /** Bytes of PUBLISH and PINGREQ written on this connection (about: topic length in UTF-16 units), for QueueDelay. */
  private written = 0;
  /** mqtt-packet's cache of length fields, filled ahead of the packets written (see RemainingLengthCache). */
  private lengths: RemainingLengthCache | undefined;
  /** When the next connection attempt is due (while offline). */
  nextAttemptAt: number | undefined;
  /** The last reason the link went down or was refused. */
  lastError: string | undefined;

  /** Opens the broker connection; built at construction so an unreadable TLS file stops the start before anything runs. */
  private readonly openStream: () => net.Socket;

  constructor(private readonly options: MqttUpstreamOptions) {
    super();
    this.openStream = brokerStream(options.url, options.tls);
    this.backoff = new Backoff(options.reconnectMs, Math.max(options.reconnectMs, options.reconnectMaxMs ?? 30_000));
  }

  get state(): UpstreamState {
    return this.currentState;
  }

  setMessageHandler(handler: (message: UpstreamMessage) => Promise<unknown> | undefined): void {
    this.handler = handler;
  }

  /** The MQTT.js client, for diagnostics and tests (its packetsend / packetreceive events); undefined before start. */
  get mqttClient(): MqttClient | undefined {
    return this.client;
  }

  get backlogBytes(): number {
    return (this.client?.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
  }

  queueDelayMs(): number {
    const client = this.client;
    if (!client || this.currentState !== 'connected') return 0;
    const now = performance.now();
    this.probeQueueDelay(client, now);
    return this.queueDelay.delayMs(now, this.written);
  }

  start(): Promise<void> {
    const { url, clientId, username, password, keepAlive, logger, will } = this.options;
    const mqtt5 = this.options.protocol === '5';
    const persistent = this.options.persistentSession === true;
    const clientOptions: IClientOptions = {
      clientId,
      keepalive: keepAlive,
      // 0: MQTT.js does not reconnect by itself; `scheduleReconnect` does, with backoff.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      clean: !persistent,
      protocolVersion: mqtt5 ? 5 : 4,
      ...(mqtt5 && persistent ? { properties: { sessionExpiryInterval: this.options.sessionExpiry ?? 7 * 24 * 3600 } } : {}),
      // MQTT.js only remembers subscriptions for its own reconnect loop: `filters` does it here.
      resubscribe: false,
      // QoS 0 while offline is the store-and-forward layer's decision, not an unbounded MQTT.js queue.
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers (6 MB of heap) to save a tiny
      // allocation per packet; on a Raspberry Pi the memory matters more.
      writeCache: false,
      // MQTT.js logs every packet through `debug`; even disabled, that is ~4% of the hot path.
      log: () => undefined,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(will ? { will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain } } : {}),
    };
    // What MQTT.js does itself for writeCache: false, done first so that filling does not build that cache.
    mqttPacket.writeToStream.cacheNumbers = false;
    this.lengths = new RemainingLengthCache(mqttPacket.writeToStream);
    // CONNECT: fixed fields, client ID, will, credentials (a string of n UTF-16 units is n to 3n bytes).
    const text = clientId.length + (will ? will.topic.length : 0) + (username?.length ?? 0) + (password?.length ?? 0);
    this.lengths.cover(10 + text, 32 + 3 * text + (will?.payload.length ?? 0));
    const client = new MqttClientClass(this.openStream, clientOptions);
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload, qos: packet.qos, retain: packet.retain };
      this.emit('message', message);
      const work = this.handler?.(message);
      if (work) this.pendingAcks.set(packet, work);
    });
    // MQTT.js sends PUBACK (PUBCOMP) when this calls back. It calls back at once, so the next
    // packets are handled meanwhile, and the acknowledgement itself waits for the gateway's
    // handler (OrderedAcks): a message waiting for the disk holds nothing else up.
    client.handleMessage = (packet, callback) => {
      const work = this.pendingAcks.get(packet);
      if (!work) {
        callback();
        return;
      }
      this.pendingAcks.delete(packet);
      this.handlerWork.add(work);
      void work.then(
        () => this.handlerWork.delete(work),
        () => this.handlerWork.delete(work),
      );
      if (packet.messageId !== undefined) this.acks.hold(packet.qos === 2 ? 'pubcomp' : 'puback', packet.messageId, work);
      callback();
    };
    const internals = client as unknown as { _sendPacket: (packet: { cmd: string; messageId?: number }, ...rest: unknown[]) => void };
    const sendPacket = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, ...rest) => {
      const stream = client.stream;
      const held = this.acks.release(
        packet.cmd,
        packet.messageId,
        // Not on a later connection: the broker resends what this one did not acknowledge.
        () => client.stream === stream && client.connected && sendPacket(packet),
        (error) => logger.error({ messageId: packet.messageId, err: error.message }, 'message not stored: not acknowledged to the broker'),
      );
      if (held) (rest[0] as (() => void) | undefined)?.(); // MQTT.js moves on to the next packet
      else sendPacket(packet, ...rest);
    };
    let refused: ConnectionRefusedError | undefined;
    // The publish a broker keeps dropping the connection over is found and taken out (PoisonGuard).
    let established = false;
    client.on('packetsend', (packet) => {
      if (packet.cmd === 'publish' && packet.qos > 0 && packet.messageId !== undefined) this.poison.sent(packet.messageId, String(packet.topic));
    });
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'pingresp') this.queueDelay.answered(performance.now());
      if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.messageId !== undefined) this.poison.acknowledged(packet.messageId);
      // MQTT.js emits 'connect' only once it has resent its stored publishes: a broker that drops
      // the connection over one of them is seen from the CONNACK on.
      if (packet.cmd === 'connack' && (packet.reasonCode ?? packet.returnCode ?? 0) === 0) {
        established = true;
        this.poison.connected();
      }
    });
    client.on('connect', (connack) => {
      // A new session at the broker (clean, expired, or the broker restarted without persistence)
      // has none of our subscriptions: take them again.
      if (!connack.sessionPresent && this.filters.size > 0) this.resubscribe(client);
      // Device messages are small and latency matters more than packet count: no Nagle delay.
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      this.queueDelay.reset();
      this.written = 0;
      this.backoff.reset();
      this.lastError = undefined;
      this.nextAttemptAt = undefined;
      this.setState('connected', url);
    });
    client.on('close', () => {
      this.acks.clear();
      if (this.closing) return;
      if (established) this.discardIfPoison(client);
      established = false;
      if (refused && this.options.retryRefused === false) {
        this.setState('closed', refused.message);
        return;
      }
      this.scheduleReconnect(client);
    });
    client.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      if (/^Connection refused/.test(error.message) && typeof code === 'number') refused = new ConnectionRefusedError(error.message, code);
      this.lastError = error.message;
      logger.warn({ err: error.message, broker: url, link: this.options.name }, 'upstream broker error');
    });
    return new Promise((resolve, reject) => {
      const settle = (state: UpstreamState): void => {
        if (state === 'connecting') return;
        this.off('state', settle);
        if (state === 'closed' && refused) reject(refused);
        else resolve();
      };
      this.on('state', settle);
    });
  }

  publish(message: UpstreamMessage, done?: (error?: Error) => void): void {
    const client = this.client;
    if (!client) {
      done?.(new Error('upstream is not started'));
      return;
    }
    if (!isValidTopicName(message.topic)) {
      // The broker would drop the whole connection (and every device's traffic) over one bad topic.
      done?.(new InvalidTopicError(`not a valid MQTT topic name: ${JSON.stringify(message.topic)}`));
      return;
    }
    if (message.qos === 2) {
      this.publishQos2(message, done);
      return;
    }
    this.send(client, message, done);
  }

  /**
   * QoS 2 within a window: a broker holds each one until PUBREL, and at its receive maximum
   * mosquitto (3.1.1) acknowledges every further QoS 1 message and drops it. A slow broker link
   * (PUBREC late) plus a burst of QoS 2 from devices would otherwise lose other devices' QoS 1.
   */
  private publishQos2(message: UpstreamMessage, done: ((error?: Error) => void) | undefined): void {
    if (this.qos2InFlight >= (this.options.maxInflightQos2 ?? 10)) {
      this.qos2Waiting.push([message, done]);
      return;
    }
    this.qos2InFlight++;
    this.send(this.client!, message, (error) => {
      this.qos2InFlight--;
      const next = this.qos2Waiting.shift();
      if (next && this.client) this.publishQos2(...next);
      else if (next) next[1]?.(new Error('upstream is closed'));
      done?.(error);
    });
  }

  private send(client: MqttClient, message: UpstreamMessage, done: ((error?: Error) => void) | undefined): void {
    this.batchWrites(client);
    // PUBLISH: topic length, topic, message ID (QoS 1/2), payload; MQTT 5 properties on top.
    const { topic, payload } = message;
    const withProperties = message.userProperties !== undefined && this.options.protocol === '5';
    this.lengths?.cover(2 + topic.length + payload.length, 4 + 3 * topic.length + payload.length + (withProperties ? LENGTHS_PER_BUCKET : 0));
    const options: IClientPublishOptions = { qos: message.qos, retain: message.retain };
    if (withProperties) options.properties = { userProperties: { ...message.userProperties } };
    client.publish(message.topic, message.payload, options, done && ((error) => done(error ?? undefined)));
    this.written += 6 + topic.length + payload.length;
    if (this.currentState === 'connected') this.probeQueueDelay(client, performance.now());
  }

  /** A PINGREQ behind what was written so far, when one is due (see QueueDelay). */
  private probeQueueDelay(client: MqttClient, now: number): void {
    if (!this.queueDelay.due(now)) return;
    this.written += 2;
    this.queueDelay.sent(now, this.written);
    client.sendPing();
  }

  async subscribe(filter: string, qos: MqttQos): Promise<MqttQos> {
    const client = this.requireClient();
    this.filters.set(filter, qos);
    this.coverFilters([filter]);
    const grants = await client.subscribeAsync(filter, { qos });
    const granted = grants[0]?.qos;
    if (granted === undefined || granted === 128) {
      this.filters.delete(filter);
      throw new Error(`broker refused subscription to "${filter}"`);
    }
    return granted as MqttQos;
  }

  async unsubscribe(filter: string): Promise<void> {
    this.filters.delete(filter);
    this.coverFilters([filter]);
    await this.requireClient().unsubscribeAsync(filter);
  }

  private resubscribe(client: MqttClient): void {
    const topics = Object.fromEntries([...this.filters].map(([filter, qos]) => [filter, { qos }]));
    this.coverFilters([...this.filters.keys()]);
    client.subscribe(topics, (error, grants) => {
      if (error) this.options.logger.warn({ err: error.message, link: this.options.name }, 'resubscribe after reconnect failed');
      const refused = (grants ?? []).filter((grant) => grant.qos === 128).map((grant) => grant.topic);
      if (refused.length > 0) this.options.logger.warn({ filters: refused, link: this.options.name }, 'broker refused subscriptions after reconnect');
    });
  }

  async close(): Promise<void> {
    await this.end(false);
  }

  /**
   * Drops the connection without a DISCONNECT, so the broker publishes this link's will (a device
   * lost in transparent mode), and stops reconnecting.
   */
  async abort(): Promise<void> {
    await this.end(true);
  }

  private async end(force: boolean): Promise<void> {
    if (!force && this.handlerWork.size > 0) {
      // A DISCONNECT before these PUBACKs would make the broker send the messages again later.
      await Promise.allSettled([...this.handlerWork]);
      await this.acks.drained();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const client = this.client;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.client = undefined;
    for (const [, done] of this.qos2Waiting.splice(0)) done?.(new Error('upstream closed before the message was sent'));
    // Offline, MQTT.js would wait for acknowledgements that cannot come: end at once.
    if (client) await client.endAsync(force || !client.connected);
    this.setState('closed');
  }

  /** The next attempt after a lost link or a failed attempt, further away each time (with jitter). */
  /** The connection dropped after it was up: a publish condemned by the guard leaves MQTT.js's queue and fails. */
  private discardIfPoison(client: MqttClient): void {
    const condemned = this.poison.dropped();
    if (!condemned) return;
    const { messageId, topic } = condemned;
    const pending = client.outgoing[messageId];
    delete client.outgoing[messageId];
    client.outgoingStore.del({ messageId } as Parameters<MqttClient['outgoingStore']['del']>[0], () => undefined);
    this.options.logger.error({ link: this.options.name, topic }, 'message dropped: the broker closed the connection right after it twice; it is not sent again');
    pending?.cb(new RefusedByBrokerError(`the broker closed the connection over this message twice (topic "${topic}"); check its limits, e.g. max_packet_size`));
  }

  private scheduleReconnect(client: MqttClient): void {
    if (this.reconnectTimer !== undefined && this.nextAttemptAt !== undefined) return;
    const delay = this.backoff.next();
    this.nextAttemptAt = Date.now() + delay;
    this.setState('offline', `${this.options.url}; next attempt in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.nextAttemptAt = undefined;
      if (this.closing) return;
      this.setState('connecting', this.options.url);
      // The same stores: unacknowledged QoS 1 messages are resent once connected.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
    this.reconnectTimer.unref?.();
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

  /** SUBSCRIBE or UNSUBSCRIBE of these filters: message ID, then length, filter and options each. */
  private coverFilters(filters: readonly string[]): void {
    const text = filters.reduce((sum, filter) => sum + filter.length, 0);
    this.lengths?.cover(2 + 2 * filters.length + text, 16 + 3 * filters.length + 3 * text);
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('upstream is not started');
    return this.client;
  }

  private setState(state: UpstreamState, detail?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    // Losing the broker is worth a warning; (re)connecting and closing are news.
    const level = state === 'offline' ? 'warn' : 'info';
    this.options.logger[level]({ state, broker: detail, link: this.options.name, reason: state === 'offline' ? this.lastError : undefined }, `upstream ${state}`);
    this.emit('state', state, detail);
  }
}
