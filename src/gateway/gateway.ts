import { performance } from 'node:perf_hooks';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { decode, describe, encode, rejectionFor, type Packet } from '../codec/index.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FrameMeta, Radio } from '../radio.js';
import { matcherFor, topicMatches } from '../topics/match.js';
import { hasAcceptableDepth } from '../topics/names.js';
import { PredefinedTopics } from '../topics/predefined.js';
import { SharedSubscriptions } from '../upstream/shared-subscriptions.js';
import type { MqttQos, Upstream, UpstreamMessage } from '../upstream/upstream.js';
import type { GatewayContext } from './context.js';
import { Admission, isLossy, MAX_QOS1_QUEUE_DELAY_MS, MAX_RECEIVE_WAIT_MS, SAMPLE_MS, SATURATED_LOOP } from './admission.js';
import { droppedForSleepers, enqueue, keepableCopy, pump, qos0ForSleepers, settle, spillStored } from './delivery.js';
import { dispatch } from './dispatcher.js';
import { makePeer, type Peer } from './peer.js';
import { Session, type OutboundMessage, type SessionState, type Subscription } from './session.js';
import { SessionStore } from './session-store.js';
import { fromRecord, SessionPersistence } from './persistence.js';
import { MemoryStore } from '../store/memory-store.js';
import type { DurableStore, StoredMessage } from '../store/durable-store.js';
import { emptyStats, type GatewayStats } from './stats.js';
import { Budget } from '../budget.js';
import { StoreAndForward } from '../upstream/store-and-forward.js';
import { DeviceLinks, type DeviceLinkFactory } from './device-links.js';
import { toBroker } from './identity.js';
import { Discovery } from './discovery.js';
import { AccessPolicy } from './access.js';
import { disconnect } from './handlers/presence.js';
import { Routes } from './routes.js';
import { RetainedReplay } from './retained-replay.js';
import { LoopDelay } from '../loop-delay.js';
import { FairShare } from './fair-share.js';
import { DeviceStatePublisher, statusTopics } from '../monitor/device-state.js';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly radios: readonly Radio[];
  readonly upstream: Upstream;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Where sessions and buffered messages survive restarts; in memory when omitted. */
  readonly store?: DurableStore;
  /** Opens a device's own broker connection; required for `broker.mode: transparent`. */
  readonly deviceLinks?: DeviceLinkFactory;
}

export interface GatewayStatus {
  sessions: number;
  /** Sessions by state (MQTT-SN §6.14 client states); parked ones are gone devices no longer routed to. */
  sessionsByState: Record<SessionState, number> & { parked: number };
  /** Messages held for devices (asleep, away or slow), all together, against buffer.totalMessages / totalBytes. */
  heldForDevices: number;
  heldForDevicesBytes: number;
  /** Of those, held in memory (the rest wait in the store), against buffer.memoryMessages / memoryBytes. */
  heldForDevicesInMemory: number;
  /** Distinct filters subscribed at the broker on the shared connection. */
  filters: number;
  upstream: {
    state: string;
    /** While offline: time until the next connection attempt. */
    nextAttemptInMs?: number;
    lastError?: string;
    /** Device messages held for the broker (store-and-forward), all links together. */
    held: number;
    heldBytes: number;
    /** Transparent mode: open per-device broker connections, and how many of them are connected. */
    deviceLinks: number;
    deviceLinksConnected: number;
  };
  /** Each radio's own counters (frames, dropped bytes, transmit status), by radio URL. */
  radios: Record<string, Record<string, number>>;
  /** Share of QoS 1 publishes answered with congestion by admission control (0 normally). */
  refusing: number;
  /** Where the process's memory is, in MiB: a growing heap is the gateway's, a growing rest is buffers and native code (LevelDB). */
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number };
  stats: GatewayStats;
  /** Event-loop delay since the previous status: how long datagrams waited behind other work. */
  eventLoop: { p99Ms: number; maxMs: number };
}

function memoryMiB(): GatewayStatus['memory'] {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  const mib = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;
  return { rss: mib(rss), heapTotal: mib(heapTotal), heapUsed: mib(heapUsed), external: mib(external) };
}

const EVICTION_LOG = {
  evicted: 'session of a device long gone deleted to admit a new device (limits.maxClients)',
  expired: 'session expired (limits.sessionExpiry) and deleted',
  address: 'session left behind at an address deleted for a new client ID there (limits.sessionsPerAddress)',
} as const;

/** How often keep-alive and sleep timers are checked; precision is ample for second-scale durations. */
const SUPERVISION_INTERVAL_MS = 1000;

/** The one place that wires radios, sessions and the upstream broker together. */
export class Gateway implements GatewayContext {
  /** Replaced (never mutated) by `reconfigure`: handlers read limits from it on each use. */
  config: GatewayConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: GatewayStats = emptyStats();
  readonly sessions = new SessionStore((session) => this.deviceStates?.changed(session, this.sessions.get(session.clientId) === session));
  readonly held: Budget;
  readonly heldInMemory: Budget;
  readonly spillsToStore: boolean;
  /** The broker link behind store-and-forward: held messages survive outages and restarts. */
  readonly upstream: StoreAndForward;
  /** What the radio measured about the frame being handled; set only while it is dispatched. */
  frameMeta: FrameMeta | undefined;
  private readonly shared: SharedSubscriptions;
  private readonly discovery: Discovery;
  access: AccessPolicy;
  /** Messages held for the broker on every link, against `forward.maxMessages` / `maxBytes`. */
  private readonly budget: Budget;
  /** Transparent mode only: one broker connection per device. */
  private readonly links: DeviceLinks | undefined;
  private readonly persistence: SessionPersistence;
  readonly radios: readonly Radio[];
  /** Topic filter → sessions subscribed to it, for routing broker messages. */
  private readonly routes = new Routes();
  private readonly loopDelay = new LoopDelay();
  private readonly replay = new RetainedReplay(() => this.config.buffer.maxMessages);
  private readonly globalPredefined: PredefinedTopics;
  private readonly clientPredefined = new Map<string, PredefinedTopics>();
  private supervisionTimer: TimerHandle | undefined;
  private admissionTimer: TimerHandle | undefined;
  private readonly admission = new Admission();
  /** Kernel drop counters per radio at the last admission sample. */
  private readonly lastDrops = new Map<Radio, number>();
  private qos0ShedAtLastSample = 0;
  /** Event-loop use at the last load sample, for the busy share of the next one. */
  private loopAtLastSample = performance.eventLoopUtilization();
  /** Radios whose receive queue is bounded for an overload (see boundReceiveQueue). */
  private readonly boundedRadios = new Set<Radio>();
  /** Per radio: each address's share while the radio loses datagrams. */
  private readonly fairShares = new Map<Radio, FairShare>();
  private datagramsAtLastSample = 0;
  /** Retained device-state topics at the broker (config `status`); absent when turned off. */
  private readonly deviceStates: DeviceStatePublisher | undefined;
  /** `<status.topicPrefix>/`: broker messages under it are never routed to devices. */
  private readonly statusTopicsPrefix: string | undefined;
  /** When this gateway started (ms since the epoch), for uptime. */
  readonly startedAt = Date.now();
  private running = false;
  /** Transparent mode: devices whose broker connection must come back at start (held messages, sleepers). */
  private linksToReopen: string[] = [];

  constructor(options: GatewayOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.radios = options.radios;
    this.access = new AccessPolicy(this.config.access);
    this.held = new Budget(this.config.buffer.totalMessages, this.config.buffer.totalBytes);
    this.heldInMemory = new Budget(this.config.buffer.memoryMessages, this.config.buffer.memoryBytes);
    const store = options.store ?? new MemoryStore();
    this.persistence = new SessionPersistence(store, this.logger);
    this.spillsToStore = store.volatile !== true;
    const { maxMessages, maxBytes } = this.config.forward;
    const budget = new Budget(maxMessages, maxBytes);
    this.budget = budget;
    this.upstream = new StoreAndForward(options.upstream, { link: '', store, policy: this.config.forward, budget, stats: this.stats, logger: this.logger });
    if (this.config.broker.mode === 'transparent') {
      if (!options.deviceLinks) throw new Error('broker.mode transparent needs a way to open device connections (GatewayOptions.deviceLinks)');
      this.links = new DeviceLinks(this.config, options.deviceLinks, store, budget, this.stats, this.logger, (session, message) => this.deliverTo(session, message));
    }
    this.shared = new SharedSubscriptions(this.upstream);
    this.discovery = new Discovery(this.radios, {
      gatewayId: this.config.gatewayId,
      ...this.config.discovery,
      clock: this.clock,
      brokerReachable: () => this.upstream.state === 'connected',
      send: (peer, packet) => this.send(peer, packet),
      broadcast: (radio, packet) => {
        this.stats.datagramsOut++;
        radio.broadcast(encode(packet));
      },
      toGroup: (radio, packet) => {
        this.stats.datagramsOut++;
        radio.sendToGroup?.(encode(packet));
      },
    });
    // Back in touch with the broker: tell devices at once rather than at the next period.
    let everConnected = false;
    this.upstream.on('state', (state) => {
      if (state !== 'connected') return;
      if (everConnected) this.stats.upstreamReconnects++;
      everConnected = true;
      if (this.running) this.discovery.advertise();
    });
    const { status } = this.config;
    this.statusTopicsPrefix = status.enabled ? `${status.topicPrefix}/` : undefined;
    if (status.enabled) {
      this.deviceStates = new DeviceStatePublisher({ link: this.upstream.inner, topics: statusTopics(status.topicPrefix, this.config.gatewayId), maxOfflineDevices: status.maxOfflineDevices, logger: this.logger });
    }
    this.globalPredefined = new PredefinedTopics(Object.entries(this.config.predefined).map(([id, name]) => [Number(id), name]));
    for (const [clientId, client] of Object.entries(this.config.clients)) {
      const entries = Object.entries(client.predefined).map(([id, name]) => [Number(id), name] as const);
      this.clientPredefined.set(clientId, this.globalPredefined.withOverrides(entries));
    }
  }

  /** Connects upstream, then opens every radio; a radio that cannot open stops the start with its error. */
  async start(): Promise<void> {
    const restored = await this.restore();
    // A message kept for an absent device is acknowledged to the broker only once it is stored.
    this.upstream.setMessageHandler((message) => this.route(message));
    await this.upstream.start();
    for (const session of restored) {
      if (this.links) continue; // transparent: each device's own connection holds its subscriptions
      for (const subscription of session.subscriptions.values()) {
        this.routes.add(subscription.filter, session);
        this.shared.subscribe(session.clientId, subscription.filter, subscription.qos).catch((error: Error) => this.logger.warn({ clientId: session.clientId, filter: subscription.filter, err: error.message }, 'restored subscription refused by the broker'));
      }
    }
    if (this.links) {
      // A sleeping device's connection carries what the broker has for it into its buffer; a
      // device with messages still held for the broker needs its connection to send them.
      const reopen = new Set([...this.linksToReopen, ...restored.filter((session) => session.state === 'asleep' || session.state === 'active').map((session) => session.clientId)]);
      for (const clientId of reopen) {
        const session = this.sessions.get(clientId);
        if (!session) {
          this.logger.warn({ clientId }, 'messages held for the broker belong to no known session: kept until the device connects');
          continue;
        }
        this.openLink(session).catch((error: Error) => this.logger.warn({ clientId, err: error.message }, 'device connection to the broker not restored'));
      }
    }
    for (const radio of this.radios) {
      radio.on('datagram', (data, from, meta) => this.receive(radio, data, from, meta));
      radio.on('error', (error) => this.logger.warn({ radio: radio.name, err: error.message }, 'radio error'));
      // A serial radio that cannot open yet (unplugged) starts anyway and keeps trying: it has
      // said why through its error event, and the other radios serve meanwhile.
      await radio.start();
      this.logger.info({ radio: radio.name }, 'radio started');
    }
    this.running = true;
    this.loopDelay.start();
    // What was on its way to a connected device when the gateway stopped goes out now.
    for (const session of restored) if (session.state === 'active') this.pump(session);
    this.deviceStates?.publishAll(restored);
    this.discovery.start();
    this.scheduleSupervision();
    this.scheduleAdmission();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.loopDelay.stop();
    this.discovery.stop();
    if (this.supervisionTimer) this.clock.clearTimeout(this.supervisionTimer);
    if (this.admissionTimer) this.clock.clearTimeout(this.admissionTimer);
    for (const session of this.sessions.values()) {
      if (session.retryTimer) this.clock.clearTimeout(session.retryTimer);
    }
    await Promise.all(this.radios.map((radio) => radio.close()));
    await this.links?.closeAll();
    await this.deviceStates?.stop();
    await this.upstream.close();
    await this.persistence.flushNow();
    await this.persistence.store.close();
  }

  /** Sessions and buffered messages from the durable store, back in memory (not yet subscribed). */
  private async restore(): Promise<Session[]> {
    const state = await this.persistence.store.open();
    const now = this.clock.now();
    const radioNamed = (name: string): Radio | undefined => this.radios.find((radio) => radio.name === name);
    const sessions = state.sessions.map(({ session, messages }) => fromRecord(session, messages, this.predefinedFor(session.clientId), now, radioNamed));
    // Devices that were connected or asleep keep their address: their next datagram finds them.
    for (const session of sessions) {
      if (session.state === 'active' || session.state === 'asleep') this.sessions.add(session);
      else this.sessions.adopt(session);
      this.held.add(session.heldBytes, session.heldCount);
    }
    // Devices that had gone, longest gone first: the order eviction and expiry take them in.
    for (const session of sessions.filter((s) => s.state === 'lost' || s.state === 'disconnected').sort((a, b) => a.lastSeen - b.lastSeen)) this.sessions.markAway(session);
    this.upstream.restore(state.forward.filter((message) => message.link === ''));
    this.linksToReopen = this.links?.restore(state.forward.filter((message) => message.link !== '')) ?? [];
    if (sessions.length > 0) {
      const buffered = sessions.reduce((sum, session) => sum + session.heldCount, 0);
      this.logger.info({ sessions: sessions.length, buffered }, 'sessions restored from the data directory');
    }
    return sessions;
  }

  /**
   * Applies what a config reload may change live in the gateway: access rules and limits. Devices
   * the new rules no longer admit are disconnected (they may not stay on by having connected
   * earlier). Returns their client IDs.
   */
  reconfigure(next: Pick<GatewayConfig, 'access' | 'limits'>): string[] {
    this.config = { ...this.config, access: next.access, limits: next.limits };
    this.access = new AccessPolicy(next.access);
    const revoked: string[] = [];
    for (const session of [...this.sessions.values()]) {
      if (session.state === 'disconnected' || session.state === 'lost') continue;
      if (this.access.allowsConnect(session.clientId, session.peer.radio.name, session.peer.address)) continue;
      if (session.reachable) this.send(session.peer, { type: 'disconnect' });
      disconnect(this, session);
      revoked.push(session.clientId);
    }
    return revoked;
  }

  /** Transparent mode: each device's own broker connection (empty in aggregating mode). */
  deviceLinks(): readonly Upstream[] {
    return this.links?.list() ?? [];
  }

  /** A snapshot for logs and status output: what a user checks when something seems stuck. */
  status(): GatewayStatus {
    return { ...this.snapshot(), eventLoop: this.loopDelay.read() };
  }

  /** The same without the event-loop reading (which starts over when read): for /metrics and /api/status. */
  snapshot(): Omit<GatewayStatus, 'eventLoop'> {
    const nextAttemptAt = this.upstream.nextAttemptAt;
    return {
      sessions: this.sessions.size,
      sessionsByState: this.countSessionsByState(),
      heldForDevices: this.held.count,
      heldForDevicesBytes: this.held.bytes,
      heldForDevicesInMemory: this.heldInMemory.count,
      filters: this.shared.filters,
      upstream: {
        state: this.upstream.state,
        ...(nextAttemptAt !== undefined ? { nextAttemptInMs: Math.max(0, nextAttemptAt - Date.now()) } : {}),
        ...(this.upstream.lastError !== undefined ? { lastError: this.upstream.lastError } : {}),
        held: this.budget.count,
        heldBytes: this.budget.bytes,
        deviceLinks: this.links?.size ?? 0,
        deviceLinksConnected: this.deviceLinks().filter((link) => link.state === 'connected').length,
      },
      radios: Object.fromEntries(this.radios.map((radio) => [radio.name, radio.counters?.() ?? {}])),
      refusing: this.admission.refuseShare,
      memory: memoryMiB(),
      stats: { ...this.stats },
    };
  }

  private countSessionsByState(): GatewayStatus['sessionsByState'] {
    const counts = { connecting: 0, active: 0, asleep: 0, awake: 0, disconnected: 0, lost: 0, parked: 0 };
    for (const session of this.sessions.values()) {
      counts[session.state]++;
      if (this.routes.isParked(session)) counts.parked++;
    }
    return counts;
  }

  /** One frame from a radio: decode, unwrap a forwarder's encapsulation, dispatch. Never throws. */
  receive(radio: Radio, data: Buffer, from: string, meta?: FrameMeta): void {
    this.stats.datagramsIn++;
    if (!this.fairShareOf(radio).admit(from)) {
      this.stats.datagramsShed++;
      return;
    }
    if (data.length > this.config.limits.maxMessageSize) {
      this.stats.oversized++;
      return;
    }
    const result = decode(data);
    if (!result.ok) {
      this.stats.malformed++;
      this.logger.debug({ radio: radio.name, from, code: result.error.code, offset: result.error.offset }, 'malformed frame dropped');
      const answer = rejectionFor(data, result.error);
      if (answer && this.sessions.atPeer(makePeer(radio, from))) this.send(makePeer(radio, from), answer);
      return;
    }
    const packet = result.packet;
    if (meta?.viaGroup && packet.type !== 'searchgw') {
      // The discovery group carries SEARCHGW for us; ADVERTISE and GWINFO there are gateways' own.
      if (packet.type !== 'advertise' && packet.type !== 'gwinfo') this.stats.unexpected++;
      return;
    }
    this.frameMeta = meta;
    try {
      if (packet.type === 'encapsulated') {
        dispatch(this, makePeer(radio, from, Buffer.from(packet.wirelessNodeId)), packet.packet);
      } else {
        // A known device's peer is reused: no key string or object built per datagram.
        const known = this.sessions.atAddress(radio, from);
        if (known && meta?.rssi !== undefined) known.rssi = meta.rssi;
        dispatch(this, known?.peer ?? makePeer(radio, from), packet);
      }
    } catch (error) {
      // One device's fault must never take the gateway down for the others.
      this.stats.unexpected++;
      this.logger.error({ radio: radio.name, from, packet: describe(packet), err: (error as Error).stack }, 'handler failed');
    } finally {
      this.frameMeta = undefined;
    }
  }

  private fairShareOf(radio: Radio): FairShare {
    let share = this.fairShares.get(radio);
    if (!share) this.fairShares.set(radio, (share = new FairShare()));
    return share;
  }

  denied(what: string, details: Record<string, unknown>): void {
    this.stats.accessDenied++;
    this.logger.warn({ ...details, denied: this.stats.accessDenied }, `${what} refused by the access rules`);
  }

  searchGw(peer: Peer): void {
    this.discovery.searchGw(peer, this.frameMeta?.viaGroup === true);
  }

  admit(session: Session): boolean {
    return this.admission.admit(session);
  }

  predefinedFor(clientId: string | undefined): PredefinedTopics {
    return (clientId !== undefined ? this.clientPredefined.get(clientId) : undefined) ?? this.globalPredefined;
  }

  send(peer: Peer, packet: Packet): void {
    let frame: Buffer;
    try {
      const inner = encode(packet);
      frame = peer.wirelessNodeId ? encode({ type: 'encapsulated', radius: 0, wirelessNodeId: peer.wirelessNodeId, packet: packet as never }) : inner;
    } catch (error) {
      this.stats.encodeFailed++;
      this.logger.warn({ peer: peer.key, packet: packet.type, err: (error as Error).message }, 'frame not sent: cannot encode');
      return;
    }
    if (frame.length > peer.radio.maxFrameSize) {
      // Never handed to a radio that cannot carry it (UDP would fail with EMSGSIZE).
      this.stats.encodeFailed++;
      this.logger.warn({ peer: peer.key, packet: packet.type, size: frame.length, max: peer.radio.maxFrameSize }, 'frame not sent: larger than the radio can carry');
      return;
    }
    this.stats.datagramsOut++;
    peer.radio.send(peer.address, frame);
  }

  pump(session: Session): void {
    pump(this, session);
  }

  storeMessage(session: Session, message: OutboundMessage & { seq: number }): Promise<void> {
    return this.persistence.storeMessage(session, message);
  }

  storeBacklog(): number {
    return this.persistence.store.backlog;
  }

  readMessages(session: Session, seqs: readonly number[]): Promise<StoredMessage[]> {
    return this.persistence.store.readMessages(session.clientId, seqs);
  }

  forgetMessage(session: Session, seq: number): void {
    this.persistence.forgetMessage(session, seq);
  }

  saveSession(session: Session): void {
    this.persistence.save(session);
  }

  subscribe(session: Session, subscription: Subscription): Promise<MqttQos> {
    const previous = session.subscriptions.get(subscription.filter);
    session.subscriptions.set(subscription.filter, subscription);
    const replay = this.replay.subscribed(session, subscription.filter, this.clock.now());
    if (this.links) {
      const link = this.links.get(session);
      return link ? link.subscribe(subscription.filter, subscription.qos) : Promise.reject(new Error('the device has no broker connection'));
    }
    if (!previous) this.routes.add(subscription.filter, session);
    return this.shared.subscribe(session.clientId, subscription.filter, subscription.qos, replay);
  }

  unsubscribe(session: Session, filter: string): void {
    if (!session.subscriptions.delete(filter)) return;
    const done = this.links ? this.links.get(session)?.unsubscribe(filter) : (this.routes.remove(filter, session), this.shared.unsubscribe(session.clientId, filter));
    done?.catch((error: Error) => this.logger.warn({ filter, err: error.message }, 'upstream unsubscribe failed'));
  }

  stopRouting(session: Session): void {
    if (!this.links && this.routes.park(session)) this.stats.sessionsParked++;
  }

  resumeRouting(session: Session): void {
    this.routes.unpark(session);
  }

  linkFor(session: Session | undefined): Upstream {
    return (session && this.links?.get(session)) || this.upstream;
  }

  openLink(session: Session): Promise<void> {
    return this.links ? this.links.open(session) : Promise.resolve();
  }

  closeLink(session: Session): void {
    this.links?.close(session.clientId).catch((error: Error) => this.logger.warn({ clientId: session.clientId, err: error.message }, 'device connection not closed cleanly'));
  }

  lose(session: Session, reason: string): void {
    this.stats.sessionsLost++;
    this.logger.info({ clientId: session.clientId, reason }, 'client lost');
    settle(this, session);
    const will = session.will;
    if (this.links) {
      // Its own connection dies without DISCONNECT: the broker publishes the will itself.
      if (will) this.stats.willsPublished++;
      this.links.abort(session.clientId).catch((error: Error) => this.logger.warn({ clientId: session.clientId, err: error.message }, 'device connection not aborted'));
    } else if (will) {
      this.stats.willsPublished++;
      this.upstream.publish(toBroker(this.config, session.peer, session.clientId, { ...will }), (error) => {
        if (error) this.logger.warn({ clientId: session.clientId, err: error.message }, 'will not published');
      });
    }
    if (session.cleanSession) {
      this.destroy(session);
      return;
    }
    session.state = 'lost';
    spillStored(this, session);
    this.sessions.unbindPeer(session);
    this.sessions.markAway(session);
    this.saveSession(session);
  }

  destroy(session: Session): void {
    settle(this, session);
    this.held.remove(session.heldBytes, session.heldCount);
    this.heldInMemory.remove(session.outboundBytes, session.outbound.length);
    for (const filter of [...session.subscriptions.keys()]) this.unsubscribe(session, filter);
    this.closeLink(session);
    this.sessions.remove(session);
    this.replay.forget(session);
    session.state = 'disconnected';
    this.persistence.forget(session);
  }

  evict(session: Session, reason: 'evicted' | 'expired' | 'address'): void {
    if (reason === 'expired') this.stats.sessionsExpired++;
    else this.stats.sessionsEvicted++;
    this.logger.info(
      { clientId: session.clientId, state: session.state, silentFor: Math.round((this.clock.now() - session.lastSeen) / 1000), held: session.heldCount },
      EVICTION_LOG[reason],
    );
    this.destroy(session);
    this.deviceStates?.forget(session.clientId);
  }

  /** A broker message: queue it for every device whose subscriptions match, at the granted QoS. */
  private route(message: UpstreamMessage): Promise<unknown> | undefined {
    // Deeper than the matcher takes (another MQTT client published it): no device can be reached.
    if (!hasAcceptableDepth(message.topic)) return undefined;
    // The gateway's own state topics are for dashboards: a device on `#` would otherwise take in a
    // retained state per session (up to 100,000) at every replay of its subscription.
    if (this.statusTopicsPrefix !== undefined && message.topic.startsWith(this.statusTopicsPrefix)) return undefined;
    // A retained one is a replay for devices that just subscribed (RetainedReplay).
    const sessions = message.retain ? this.replay.wanting(message.topic, this.clock.now()) : this.routes.match(message.topic);
    const payload = message.payload;
    const matches = matcherFor(message.topic); // the topic split once, not once per subscription
    let copy: Buffer | undefined;
    const keptPayload = (): Buffer => (copy ??= keepableCopy(payload));
    let writes: Array<Promise<void>> | undefined;
    const live = !message.retain && !message.topic.startsWith('$');
    // QoS 0 for sleeping devices is decided once for all of them (thousands may match).
    let sleepers: 'enqueue' | 'drop' | undefined;
    let sleepersDropped = 0;
    let firstDropped: Session | undefined;
    for (const session of sessions) {
      // The matcher found this session: with one subscription, that one matches (bar the `$`
      // rule, MQTT 3.1.1 §4.7.2, which the matcher does not apply).
      let granted: MqttQos | undefined;
      if (live && session.subscriptions.size === 1) for (const only of session.subscriptions.values()) granted = only.qos;
      else granted = Session.grantedQos(session.subscriptions.values(), matches);
      if (granted === undefined) continue;
      const qos = Math.min(granted, message.qos) as MqttQos;
      if (qos === 0 && live) {
        const state = session.state;
        if (state === 'disconnected' || state === 'lost') continue; // a gone device keeps QoS 1/2 only
        if (state === 'asleep' && (sleepers ??= qos0ForSleepers(this, payload.length)) === 'drop') {
          sleepersDropped++;
          firstDropped ??= session;
          continue;
        }
      }
      const written = enqueue(this, session, { topic: message.topic, payload, qos, retain: message.retain }, keptPayload);
      if (written) (writes ??= []).push(written);
    }
    if (firstDropped) droppedForSleepers(this, firstDropped, message.topic, sleepersDropped);
    return writes && Promise.all(writes);
  }

  /** Transparent mode: a message on the device's own connection is for that device alone. */
  private deliverTo(session: Session, message: UpstreamMessage): Promise<unknown> | undefined {
    if (message.retain && !this.replay.wants(session, message.topic, this.clock.now())) return undefined;
    const granted = Session.grantedQos(session.subscriptions.values(), (filter) => topicMatches(filter, message.topic));
    if (granted === undefined) return undefined; // e.g. a subscription just dropped
    return enqueue(this, session, { topic: message.topic, payload: message.payload, qos: Math.min(granted, message.qos) as MqttQos, retain: message.retain });
  }

  /** Keep-alive and sleep supervision (§6.14): silent for duration × tolerance means lost. */
  private supervise(): void {
    const now = this.clock.now();
    const expiry = this.config.limits.sessionExpiry * 1000;
    if (expiry > 0) {
      // Oldest first; the first that has not expired ends the pass.
      for (let gone = this.sessions.longestAway(); gone && now - gone.lastSeen > expiry; gone = this.sessions.longestAway()) this.evict(gone, 'expired');
    }
    // Without this, a retained-replay window holds memory for good when no retained message comes.
    this.replay.sweep(now);
    const tolerance = this.config.timers.keepAliveTolerance;
    for (const session of [...this.sessions.values()]) {
      const period = session.state === 'asleep' ? session.sleepDuration : session.state === 'active' || session.state === 'awake' || session.state === 'connecting' ? session.keepAlive : 0;
      if (period > 0 && now - session.lastSeen > period * tolerance * 1000) {
        this.lose(session, session.state === 'asleep' ? 'sleep duration expired' : 'keep-alive expired');
      }
    }
  }

  private scheduleAdmission(): void {
    if (!this.running) return;
    this.admissionTimer = this.clock.setTimeout(() => {
      void this.sampleLoad().finally(() => this.scheduleAdmission());
    }, SAMPLE_MS);
  }

  private async sampleLoad(): Promise<void> {
    const loopBusy = performance.eventLoopUtilization(this.loopAtLastSample).utilization;
    this.loopAtLastSample = performance.eventLoopUtilization();
    let dropped = 0;
    for (const radio of this.radios) {
      const drops = await radio.receiveDrops?.().catch(() => undefined);
      if (drops === undefined) continue;
      const lost = Math.max(0, drops - (this.lastDrops.get(radio) ?? drops));
      dropped += lost;
      this.lastDrops.set(radio, drops);
      const share = this.fairShareOf(radio);
      const changed = share.sample(lost);
      this.boundReceiveQueue(radio, lost, share.lastRead, loopBusy);
      if (changed) {
        if (Number.isFinite(share.limit)) this.logger.warn({ radio: radio.name, perAddressPerSecond: Math.round((share.limit * 1000) / SAMPLE_MS), kernelDrops: this.stats.kernelDrops + dropped }, 'overloaded: datagrams are being lost, each address limited to its fair share, the excess dropped unread');
        else this.logger.info({ radio: radio.name, shed: this.stats.datagramsShed }, 'radio keeps up again: no address limited');
      }
    }
    this.stats.kernelDrops += dropped;
    const received = this.stats.datagramsIn - this.datagramsAtLastSample;
    this.datagramsAtLastSample = this.stats.datagramsIn;
    const before = this.admission.refuseShare;
    const brokerBehind = this.stats.qos0Shed > this.qos0ShedAtLastSample || this.upstream.queueDelayMs() > MAX_QOS1_QUEUE_DELAY_MS;
    this.qos0ShedAtLastSample = this.stats.qos0Shed;
    this.admission.sample(dropped, received, this.upstream.backlogBytes, brokerBehind);
    if ((before === 0) !== (this.admission.refuseShare === 0)) {
      const overloaded = this.admission.refuseShare > 0;
      this.logger.warn(
        { refusing: this.admission.refuseShare, kernelDrops: this.stats.kernelDrops, congestion: this.stats.congestion, upstreamBacklog: this.upstream.backlogBytes },
        overloaded ? 'overloaded: datagrams are being lost, answering a share of QoS 1 publishes with congestion' : 'load back to normal',
      );
    }
  }

  /**
   * While a radio keeps losing datagrams its receive queue is always full, and a full queue of
   * several MB is only waiting (issue 17: 300 ms of it, flat out): it is bounded to what the
   * gateway reads in MAX_RECEIVE_WAIT_MS, so the kernel drops the excess before it queues, and it
   * is given back its own size once the loss ends (it absorbs bursts).
   */
  private boundReceiveQueue(radio: Radio, lost: number, read: number, loopBusy: number): void {
    // Only while reading is all the gateway does: datagrams lost to a short stall (a collection,
    // a sweep over 10,000 sessions) are what the full queue is for, and bounding it then turned
    // stalls into losses, retries and more losses (measured: scenario 5a collapsed).
    // Once bounded, it stays so while the loss lasts, busy or not: a sample that caught the loop
    // waiting would otherwise give back the full queue, and the next second would wait in it.
    const lossy = isLossy(lost, read);
    if (lossy && (loopBusy >= SATURATED_LOOP || this.boundedRadios.has(radio))) {
      radio.boundReceiveQueue?.((read * MAX_RECEIVE_WAIT_MS) / SAMPLE_MS);
      this.boundedRadios.add(radio);
    } else if (!lossy && this.boundedRadios.delete(radio)) {
      radio.boundReceiveQueue?.(undefined);
    }
  }

  private scheduleSupervision(): void {
    if (!this.running) return;
    this.supervisionTimer = this.clock.setTimeout(() => {
      this.supervise();
      this.scheduleSupervision();
    }, SUPERVISION_INTERVAL_MS);
  }
}
