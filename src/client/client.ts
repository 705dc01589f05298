import { EventEmitter } from 'node:events';
import { decode, encode } from '../codec/index.js';
import type { Disconnect, Packet, Publish, PublishTopic } from '../codec/packets.js';
import { ClientError, rejected } from './errors.js';
import { InboundHandler } from './inbound.js';
import { KeepAlive } from './keepalive.js';
import { Lane } from './lane.js';
import type {
  ClientOptions,
  ClientState,
  MessageInfo,
  PublishOptions,
  ResolvedOptions,
  SubscribeResult,
  TopicFilter,
} from './options.js';
import { resolveOptions } from './options.js';
import { PendingRequests } from './pending.js';
import { TopicTable, hasWildcard, toSubscribeTopic } from './topics.js';
import { UdpLink } from './udp-link.js';
import { parseGatewayUrl } from './url.js';

/** Events of `MqttSnClient`. Listeners that throw are reported as `error`, never into the socket. */
export interface ClientEvents {
  /** An application message from the gateway, its topic resolved to a name. */
  message: [topic: string, payload: Buffer, info: MessageInfo];
  /** Every well-formed packet received, before the client acts on it (for tests and tracing). */
  packet: [packet: Packet];
  /** Asynchronous failures: socket errors, keep-alive loss, throwing listeners. */
  error: [err: Error];
  /** The gateway sent an unsolicited DISCONNECT (§6.14: it dropped this client). */
  disconnect: [packet: Disconnect];
}

/** Counters of inbound datagrams the client dropped. */
export interface ClientStats {
  /** Datagrams that failed to decode. */
  readonly malformed: number;
  /** PUBLISHes naming a topic id the client does not know. */
  readonly unknownTopic: number;
}

/**
 * An MQTT-SN v1.2 client over UDP with a promise API. Requests are retransmitted after
 * `retryMs` (PUBLISH and SUBSCRIBE with DUP set) up to `retries` times, then rejected with a
 * `ClientError` of code `timeout`; acks with a non-zero return code reject with code `rejected`.
 */
export class MqttSnClient extends EventEmitter<ClientEvents> {
  private readonly opts: ResolvedOptions;
  private readonly link: UdpLink;
  private readonly pending: PendingRequests;
  private readonly topics: TopicTable;
  private readonly keepAlive: KeepAlive;
  private readonly lanes = { register: new Lane(), publish: new Lane(), subscribe: new Lane() };
  /** Registrations in flight by name, so concurrent publishes to a new name register it once. */
  private readonly registering = new Map<string, Promise<number>>();
  private readonly inbound: InboundHandler;
  private pinging: Promise<void> | undefined;
  private currentState: ClientState = 'idle';
  private readonly counters = { malformed: 0, unknownTopic: 0 };

  constructor(options: ClientOptions) {
    super();
    this.opts = resolveOptions(options);
    this.topics = new TopicTable(options.predefined);
    this.pending = new PendingRequests({ retryMs: this.opts.retryMs, retries: this.opts.retries });
    this.keepAlive = new KeepAlive(this.opts.keepAlive, () => this.keepAliveTick());
    this.inbound = new InboundHandler({
      topics: this.topics,
      will: this.opts.will,
      send: (packet) => this.send(packet),
      deliver: (topic, payload, info) => this.emit('message', topic, payload, info),
      unknownTopic: () => this.counters.unknownTopic++,
    });
    this.link = new UdpLink(parseGatewayUrl(options.gateway), {
      datagram: (frame) => this.onDatagram(frame),
      error: (err) => this.report(err),
    });
  }

  get state(): ClientState {
    return this.currentState;
  }

  get stats(): ClientStats {
    return { ...this.counters };
  }

  /** The local UDP port once the socket is open. */
  get localPort(): number | undefined {
    return this.link.localPort;
  }

  /** Sends CONNECT and resolves on CONNACK 0x00; answers WILLTOPICREQ/WILLMSGREQ meanwhile (§6.3). */
  async connect(): Promise<void> {
    this.assertNotClosed();
    await this.link.open();
    if (this.opts.cleanSession) this.topics.clearNormal();
    this.currentState = 'connecting';
    const frame = encode({
      type: 'connect',
      will: this.opts.will !== undefined,
      cleanSession: this.opts.cleanSession,
      protocolId: 0x01,
      duration: this.opts.keepAlive,
      clientId: this.opts.clientId,
    });
    try {
      const ack = await this.pending.request('connack', 0, () => this.transmit(frame));
      if (ack.returnCode !== 0) throw rejected('CONNACK', ack.returnCode);
    } catch (err) {
      if (this.currentState === 'connecting') this.currentState = 'disconnected';
      throw err;
    }
    this.currentState = 'connected';
    this.keepAlive.start();
  }

  /** REGISTERs `topicName` and resolves with the gateway's topic id (§6.5). */
  register(topicName: string): Promise<number> {
    if (topicName.length === 0 || hasWildcard(topicName)) {
      return Promise.reject(new ClientError('bad-topic', `cannot register "${topicName}": empty or wildcard`));
    }
    return this.lanes.register.run(async () => {
      this.assertConnected();
      const msgId = this.pending.nextMsgId();
      const frame = encode({ type: 'register', topicId: 0, msgId, topicName });
      const ack = await this.pending.request('regack', msgId, () => this.transmit(frame));
      if (ack.returnCode !== 0) throw rejected(`REGACK for "${topicName}"`, ack.returnCode);
      this.topics.learn(ack.topicId, topicName);
      return ack.topicId;
    });
  }

  /**
   * Publishes to a topic name, choosing the form: pre-defined id when configured, short name
   * when exactly two characters, else a normal id (REGISTERed once and cached).
   * QoS 1 resolves on PUBACK 0x00; QoS -1 needs no CONNECT but only pre-defined or short topics.
   */
  async publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<void> {
    if (topic.length === 0 || hasWildcard(topic)) {
      throw new ClientError('bad-topic', `cannot publish to "${topic}": empty or wildcard`);
    }
    let form = this.topics.publishTopic(topic);
    if (form === undefined) {
      if (options.qos === -1) {
        throw new ClientError('bad-topic', `QoS -1 needs a pre-defined or 2-character topic, not "${topic}" (§6.8)`);
      }
      form = { kind: 'normal', id: await this.registerOnce(topic) };
    }
    await this.publishTo(form, payload, options);
  }

  /** Publishes with an exact topic form (no lookup, no registration). */
  async publishTo(topic: PublishTopic, payload: Buffer | string, options: PublishOptions = {}): Promise<void> {
    const qos = options.qos ?? 0;
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const packet: Publish = { type: 'publish', dup: false, qos, retain: options.retain ?? false, topic, msgId: 0, payload: data };
    if (qos === -1) {
      this.assertNotClosed();
      await this.link.open();
      await this.link.send(encode(packet));
      return;
    }
    this.assertConnected();
    if (qos === 0) {
      await this.link.send(encode(packet));
      return;
    }
    if (qos !== 1) throw new ClientError('bad-topic', `unsupported publish QoS ${String(qos)}`);
    await this.lanes.publish.run(async () => {
      const first: Publish = { ...packet, msgId: this.pending.nextMsgId() };
      const frames = { first: encode(first), dup: encode({ ...first, dup: true }) };
      const ack = await this.pending.request('puback', first.msgId, (retry) => this.transmit(retry ? frames.dup : frames.first));
      if (ack.returnCode !== 0) {
        // The gateway no longer knows this id: the next publish to the name registers again (§6.10).
        if (ack.returnCode === 0x02 && topic.kind === 'normal') this.topics.forget(topic.id);
        throw rejected('PUBACK', ack.returnCode);
      }
    });
  }

  /** SUBSCRIBEs; resolves with the SUBACK fields whatever its return code (check `returnCode`). */
  async subscribe(filter: TopicFilter, qos: 0 | 1 | 2 = 0): Promise<SubscribeResult> {
    // async: a bad filter rejects instead of throwing.
    const topic = toSubscribeTopic(filter);
    return this.lanes.subscribe.run(async () => {
      this.assertConnected();
      const msgId = this.pending.nextMsgId();
      const packet = { type: 'subscribe', dup: false, qos, msgId, topic } as const;
      const frames = { first: encode(packet), dup: encode({ ...packet, dup: true }) };
      const ack = await this.pending.request('suback', msgId, (retry) => this.transmit(retry ? frames.dup : frames.first));
      if (ack.returnCode === 0 && topic.kind === 'name' && !hasWildcard(topic.name) && ack.topicId !== 0) {
        this.topics.learn(ack.topicId, topic.name);
      }
      return { topicId: ack.topicId, grantedQos: ack.qos, returnCode: ack.returnCode };
    });
  }

  /** UNSUBSCRIBEs; resolves on UNSUBACK (which carries no return code in v1.2). */
  async unsubscribe(filter: TopicFilter): Promise<void> {
    const topic = toSubscribeTopic(filter);
    return this.lanes.subscribe.run(async () => {
      this.assertConnected();
      const msgId = this.pending.nextMsgId();
      const frame = encode({ type: 'unsubscribe', msgId, topic });
      await this.pending.request('unsuback', msgId, () => this.transmit(frame));
    });
  }

  /**
   * PINGREQ → PINGRESP. While asleep the PINGREQ carries the client id, which wakes the session
   * and makes the gateway flush buffered messages before answering (§6.14).
   */
  ping(): Promise<void> {
    this.pinging ??= (async () => {
      try {
        this.assertNotClosed();
        await this.link.open();
        const frame = encode(
          this.currentState === 'asleep' ? { type: 'pingreq', clientId: this.opts.clientId } : { type: 'pingreq' },
        );
        await this.pending.request('pingresp', 0, () => this.transmit(frame));
      } finally {
        this.pinging = undefined;
      }
    })();
    return this.pinging;
  }

  /** DISCONNECT, or with `sleepSeconds` go to sleep (§6.14); resolves on the gateway's DISCONNECT. */
  async disconnect(sleepSeconds?: number): Promise<void> {
    this.assertNotClosed();
    await this.link.open();
    this.keepAlive.stop();
    const packet: Disconnect = sleepSeconds === undefined ? { type: 'disconnect' } : { type: 'disconnect', duration: sleepSeconds };
    const frame = encode(packet);
    await this.pending.request('disconnect', 0, () => this.transmit(frame));
    this.currentState = sleepSeconds === undefined ? 'disconnected' : 'asleep';
  }

  /** Closes the socket and fails outstanding requests with a `closed` error; idempotent. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.keepAlive.stop();
    this.pending.failAll(new ClientError('closed', 'client closed'));
    await this.link.close();
  }

  /** Sends bytes as they are, opening the socket if needed (tests use it for malformed frames). */
  async sendRaw(frame: Buffer): Promise<void> {
    this.assertNotClosed();
    await this.link.open();
    await this.link.send(frame);
  }

  private registerOnce(name: string): Promise<number> {
    const known = this.topics.normalId(name);
    if (known !== undefined) return Promise.resolve(known);
    let inFlight = this.registering.get(name);
    if (inFlight === undefined) {
      inFlight = this.register(name).finally(() => this.registering.delete(name));
      this.registering.set(name, inFlight);
    }
    return inFlight;
  }

  private onDatagram(frame: Buffer): void {
    const result = decode(frame);
    if (!result.ok) {
      this.counters.malformed++;
      return;
    }
    try {
      this.emit('packet', result.packet);
      this.handle(result.packet);
    } catch (err) {
      this.report(err);
    }
  }

  private handle(packet: Packet): void {
    switch (packet.type) {
      case 'connack':
      case 'regack':
      case 'puback':
      case 'suback':
      case 'unsuback':
      case 'pingresp':
      case 'willtopicresp':
      case 'willmsgresp':
        // Acks nobody waits for (late duplicates, answers to QoS 0) are ignored.
        this.pending.settle(packet);
        return;
      case 'disconnect':
        if (this.pending.settle(packet)) return;
        this.keepAlive.stop();
        if (this.currentState !== 'closed') this.currentState = 'disconnected';
        this.emit('disconnect', packet);
        return;
      case 'willtopicreq':
      case 'willmsgreq':
        // The gateway is progressing through the will prompts (§6.3): keep CONNECT from retrying.
        this.pending.touch('connack');
        this.inbound.handle(packet);
        return;
      default:
        // REGISTER, PUBLISH, PUBREL, PINGREQ; ADVERTISE, GWINFO and the rest are ignored.
        this.inbound.handle(packet);
        return;
    }
  }

  private keepAliveTick(): void {
    if (this.currentState !== 'connected') return;
    this.ping().catch((err: unknown) => {
      if (this.currentState !== 'connected') return;
      this.currentState = 'lost';
      this.keepAlive.stop();
      this.report(new ClientError('timeout', `keep-alive failed: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  private send(packet: Packet): void {
    this.transmit(encode(packet));
  }

  /** Fire-and-forget send: failures surface as `error` events, the request timers handle loss. */
  private transmit(frame: Buffer): void {
    this.link.send(frame).catch((err: unknown) => this.report(err));
  }

  private report(err: unknown): void {
    // Emitting `error` without a listener would throw; a client nobody watches stays silent.
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error listener that throws has nowhere further to go.
    }
  }

  private assertNotClosed(): void {
    if (this.currentState === 'closed') throw new ClientError('closed', 'client closed');
  }

  private assertConnected(): void {
    this.assertNotClosed();
    if (this.currentState !== 'connected') {
      throw new ClientError('not-connected', `not connected (state ${this.currentState}); call connect() first`);
    }
  }
}
