import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { GatewayStatus } from '../gateway/gateway.js';
import type { SessionState } from '../gateway/session.js';
import type { GatewayStats } from '../gateway/stats.js';
import type { Radio } from '../radio.js';
import { VERSION } from '../version.js';

type Snapshot = Omit<GatewayStatus, 'eventLoop'>;
type Labelled = ReadonlyArray<readonly [Record<string, string>, number]>;

export interface MetricsSource {
  readonly radios: readonly Radio[];
  readonly config: { readonly gatewayId: number };
  snapshot(): Snapshot;
}

const SESSION_STATES: readonly SessionState[] = ['connecting', 'active', 'asleep', 'awake', 'disconnected', 'lost'];

/** Every reason a datagram (or what it carried) was dropped or refused, with the counter behind it. */
const DATAGRAM_DROPS: ReadonlyArray<readonly [string, keyof GatewayStats]> = [
  ['malformed', 'malformed'],
  ['oversized', 'oversized'],
  ['unexpected', 'unexpected'],
  ['kernel', 'kernelDrops'],
  ['shed', 'datagramsShed'],
  ['access_denied', 'accessDenied'],
  ['invalid_topic', 'invalidTopic'],
  ['refused_name', 'refusedNames'],
  ['qos_minus_one', 'qosMinusOneDropped'],
];

/** Messages dropped after they were accepted, by where: toward devices, toward the broker. */
const MESSAGE_DROPS: ReadonlyArray<readonly [string, keyof GatewayStats]> = [
  ['device_bound', 'queueDroppedDeviceBound'],
  ['gateway_bound', 'queueDroppedGatewayBound'],
  ['store_behind', 'queueDroppedStoreBehind'],
  ['gone', 'queueDroppedGone'],
  ['qos0_sleeping', 'queueDroppedQos0'],
  ['delivery_failed', 'deliveryFailed'],
  ['encode_failed', 'encodeFailed'],
  ['broker_refused', 'brokerRefused'],
  ['forward_dropped', 'forwardDropped'],
  ['qos0_broker_behind', 'qos0Shed'],
];

/** Plain counters: metric name (after `mqttsn_`), help, the counter. */
const COUNTERS: ReadonlyArray<readonly [string, string, keyof GatewayStats]> = [
  ['datagrams_received_total', 'Datagrams received from devices, on every radio.', 'datagramsIn'],
  ['datagrams_sent_total', 'Datagrams sent to devices, on every radio.', 'datagramsOut'],
  ['congestion_answers_total', 'Device publishes answered "rejected: congestion" (overload, in-flight limit, or the store for the broker full).', 'congestion'],
  ['wakeups_total', 'Sleeping devices that woke up to collect their messages.', 'wakeUps'],
  ['wills_published_total', 'Wills published for devices that were lost.', 'willsPublished'],
  ['sessions_lost_total', 'Devices lost: keep-alive or sleep duration expired, or retries ran out.', 'sessionsLost'],
  ['sessions_evicted_total', 'Sessions of long-gone devices deleted to admit a new device (limits.maxClients, limits.sessionsPerAddress).', 'sessionsEvicted'],
  ['sessions_expired_total', 'Sessions deleted after limits.sessionExpiry.', 'sessionsExpired'],
  ['sessions_parked_total', 'Times a gone device stopped being routed to because a message for it was dropped.', 'sessionsParked'],
  ['store_failures_total', 'Messages for absent devices the store could not write (kept in memory only).', 'storeFailed'],
  ['forward_stored_total', 'Device messages stored because the broker was unreachable.', 'forwardStored'],
  ['forward_delivered_total', 'Stored device messages the broker acknowledged once back.', 'forwardDelivered'],
  ['upstream_reconnects_total', 'Times the broker connection came back after it had been up.', 'upstreamReconnects'],
];

/** Radio counters by name: what they become in Prometheus. Unknown ones become `mqttsn_radio_<snake_case>_total`. */
const RADIO_COUNTERS: Readonly<Record<string, readonly [string, string]>> = {
  framesIn: ['radio_frames_received_total', 'Frames received by the radio.'],
  framesOut: ['radio_frames_sent_total', 'Frames handed to the radio to send.'],
  connected: ['radio_connected_devices', 'Devices connected to the radio (BLE).'],
};

/**
 * prom-client's process and Node.js metrics, prefixed `mqttsn_`, without the three gauges it names
 * `..._total` (active handles, requests, resources), which `promtool check metrics` rejects.
 */
function processMetrics(registry: Registry): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults, prefix: 'mqttsn_' });
  for (const object of defaults.getMetricsAsArray()) {
    const metric = object as unknown as Metric & { name: string };
    if (!(metric.name.endsWith('_total') && !(metric instanceof Counter))) registry.registerMetric(metric);
  }
}

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`);

/**
 * The gateway's counters in Prometheus text format. Nothing is counted twice: each scrape takes one
 * snapshot of the counters the gateway keeps anyway (plain integers on the hot path) and the
 * collect functions read it, so metrics cost nothing between scrapes.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private current: Snapshot | undefined;

  constructor(private readonly source: MetricsSource) {
    const registry = this.registry;
    const now = (): Snapshot => (this.current ??= source.snapshot());
    // Counters and gauges alike are set from the snapshot at each scrape (a counter by reset + inc).
    const define = (kind: 'counter' | 'gauge') => (name: string, help: string, read: (snapshot: Snapshot) => number | Labelled, labelNames: string[] = []): void => {
      const collect = function (this: Counter | Gauge): void {
        this.reset();
        const value = read(now());
        const put = kind === 'counter' ? (this as Counter).inc.bind(this) : (this as Gauge).set.bind(this);
        if (typeof value === 'number') (put as (value: number) => void)(value);
        else for (const [labels, count] of value) put(labels, count);
      };
      const options = { name: `mqttsn_${name}`, help, labelNames, registers: [registry], collect };
      if (kind === 'counter') new Counter(options);
      else new Gauge(options);
    };
    const counter = define('counter');
    const gauge = define('gauge');

    gauge('info', 'Always 1; the labels say which gateway this is.', () => [[{ version: VERSION, gateway_id: String(source.config.gatewayId) }, 1]], ['version', 'gateway_id']);
    gauge('sessions', 'Device sessions by state (MQTT-SN 1.2 section 6.14).', (s) => SESSION_STATES.map((state) => [{ state }, s.sessionsByState[state]] as const), ['state']);
    gauge('sessions_parked', 'Gone devices no longer routed to (a message for them had to be dropped) until they come back.', (s) => s.sessionsByState.parked);
    for (const [name, help, key] of COUNTERS) counter(name, help, (s) => s.stats[key]);
    counter('datagrams_dropped_total', 'Datagrams dropped or refused, by reason.', (s) => DATAGRAM_DROPS.map(([reason, key]) => [{ reason }, s.stats[key]] as const), ['reason']);
    counter('messages_dropped_total', 'Messages dropped after they were accepted, by reason (toward devices or the broker).', (s) => MESSAGE_DROPS.map(([reason, key]) => [{ reason }, s.stats[key]] as const), ['reason']);
    counter(
      'publishes_received_total',
      'PUBLISH messages received from devices, by QoS (-1: without a connection).',
      (s) => [
        [{ qos: '-1' }, s.stats.publishesInQosMinus1],
        [{ qos: '0' }, s.stats.publishesInQos0],
        [{ qos: '1' }, s.stats.publishesInQos1],
        [{ qos: '2' }, s.stats.publishesInQos2],
      ],
      ['qos'],
    );
    counter(
      'publishes_sent_total',
      'PUBLISH messages sent to devices, by QoS.',
      (s) => [
        [{ qos: '0' }, s.stats.publishesOutQos0],
        [{ qos: '1' }, s.stats.publishesOutQos1],
        [{ qos: '2' }, s.stats.publishesOutQos2],
      ],
      ['qos'],
    );
    gauge('messages_held', 'Messages held: for devices (asleep, away, slow) and for the broker (while unreachable).', (s) => [[{ for: 'devices' }, s.heldForDevices], [{ for: 'broker' }, s.upstream.held]], ['for']);
    gauge('messages_held_bytes', 'Payload bytes of the messages held.', (s) => [[{ for: 'devices' }, s.heldForDevicesBytes], [{ for: 'broker' }, s.upstream.heldBytes]], ['for']);
    gauge('messages_held_in_memory', 'Of the messages held for devices, those in memory (the rest wait in the data directory).', (s) => s.heldForDevicesInMemory);
    gauge('upstream_connected', '1 while the broker connection is up.', (s) => (s.upstream.state === 'connected' ? 1 : 0));
    gauge('broker_filters', 'Distinct topic filters subscribed at the broker on the shared connection.', (s) => s.filters);
    gauge('device_links', 'Transparent mode: per-device broker connections, open and connected.', (s) => [[{ state: 'open' }, s.upstream.deviceLinks], [{ state: 'connected' }, s.upstream.deviceLinksConnected]], ['state']);
    gauge('admission_refuse_ratio', 'Share of QoS 1 publishes being answered with congestion by admission control (0 normally).', (s) => s.refusing);
    this.radioMetrics(counter, gauge);
    processMetrics(registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; one snapshot of the gateway serves every metric in it. */
  async render(): Promise<string> {
    this.current = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  private radioMetrics(counter: (name: string, help: string, read: () => Labelled, labels: string[]) => void, gauge: (name: string, help: string, read: () => Labelled, labels: string[]) => void): void {
    const radios = this.source.radios;
    const names = new Set(radios.flatMap((radio) => Object.keys(radio.counters?.() ?? {})));
    for (const key of names) {
      const [name, help] = RADIO_COUNTERS[key] ?? [`radio_${snakeCase(key)}_total`, `The radio's own "${key}" counter.`];
      const read = (): Labelled => radios.flatMap((radio) => {
        const value = radio.counters?.()[key];
        return value === undefined ? [] : [[{ radio: radio.name }, value] as const];
      });
      if (name.endsWith('_total')) counter(name, help, read, ['radio']);
      else gauge(name, help, read, ['radio']);
    }
  }
}
