import { EventEmitter } from 'node:events';
import { Backoff } from '../src/backoff.js';
import { RadioError, type Radio, type RadioEvents } from '../src/radio.js';
import { MQTTSN_SERVICE_UUID, Reassembler, TO_DEVICE_UUID, TO_GATEWAY_UUID, DEFAULT_ATT_MTU, segment } from './ble-profile.js';
import { NOBLE_PACKAGE, nobleInstallCommand } from './ble-install.js';
import type { NobleLike, NobleCharacteristic, NoblePeripheral } from './noble-types.js';

export interface BleRadioOptions {
  /** `ble://hci0` (`maxConnections=` simultaneous devices, default 5). */
  readonly url: string;
  /** Where noble comes from; tests give the real Noble class over a fake binding. */
  readonly loadNoble?: (deviceId: number) => Promise<NobleLike>;
  /** Reconnect delays per device after a failed connect (tests shorten them). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

interface Link {
  readonly peripheral: NoblePeripheral;
  readonly toDevice: NobleCharacteristic;
  /** Segments go out one at a time, in order, each acknowledged (write with response). */
  writing: Promise<void>;
}

const MAX_BLE_FRAME = 65_535;
/** How long to wait for the adapter to report its state before telling the user why it is silent. */
const STATE_WAIT_MS = 3000;
/** noble never gives up on a connect, discovery or write by itself (a device may have gone to sleep mid-way). */
const CONNECT_TIMEOUT_MS = 10_000;
const WRITE_TIMEOUT_MS = 5000;

/** Rejects after `ms` unless `work` settles first; `onTimeout` undoes what is pending. */
function within<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} timed out after ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** What to do about an adapter state other than poweredOn. */
function explainState(radio: string, state: string): string {
  switch (state) {
    case 'unauthorized':
      return `${radio}: not allowed to use Bluetooth. Run as root, or let node use raw sockets: sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))`;
    case 'unsupported':
      return `${radio}: no usable Bluetooth LE adapter (this machine or kernel has none, or it is not hci${radio.match(/hci(\d+)/)?.[1] ?? '0'}). Check with: hciconfig -a (or bluetoothctl list)`;
    case 'poweredOff':
      return `${radio}: the Bluetooth adapter is off or missing. Check with: hciconfig -a (or bluetoothctl list); turn it on with: sudo rfkill unblock bluetooth && sudo hciconfig hci0 up`;
    default:
      return `${radio}: the Bluetooth adapter reports "${state}"`;
  }
}

/**
 * MQTT-SN over Bluetooth LE, the gateway as central (noble). Devices advertise the MQTT-SN GATT
 * service (ble-profile.ts); the gateway connects to up to `maxConnections` of them, subscribes to
 * their notify characteristic and writes to their write characteristic, with frames segmented to
 * the negotiated MTU. A device's BLE address is its radio address. A device that disconnects (to
 * sleep, or out of range) is connected again when it advertises again, with backoff after failures.
 */
export class BleRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name: string;
  readonly maxFrameSize = MAX_BLE_FRAME;
  readonly maxConnections: number;
  private readonly deviceId: number;
  private noble: NobleLike | undefined;
  private readonly links = new Map<string, Link>();
  /** Devices being connected, by peripheral ID: not connected twice from repeated advertisements. */
  private readonly connecting = new Set<string>();
  /** Per device: when it may be tried again after a failed connect, and its backoff. */
  private readonly retryAfter = new Map<string, { at: number; backoff: Backoff }>();
  private readonly counts = { connected: 0, connects: 0, connectFailures: 0, disconnects: 0, framesIn: 0, framesOut: 0, droppedSegments: 0 };
  private closed = false;
  private reportedState = 'unknown';

  constructor(private readonly options: BleRadioOptions) {
    super();
    this.name = options.url;
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new RadioError('bad-url', `radio URL "${options.url}" is not a URL; expected ble://hci0`);
    }
    const adapter = /^hci(\d+)$/.exec(parsed.hostname);
    if (parsed.protocol !== 'ble:' || !adapter) throw new RadioError('bad-url', `radio URL "${options.url}": expected ble://hciN, e.g. ble://hci0`);
    this.deviceId = Number(adapter[1]);
    for (const key of parsed.searchParams.keys()) {
      if (key !== 'maxConnections') throw new RadioError('bad-url', `radio URL "${options.url}": unknown option "${key}"; allowed: maxConnections`);
    }
    const max = Number(parsed.searchParams.get('maxConnections') ?? 5);
    if (!Number.isInteger(max) || max < 1 || max > 64) throw new RadioError('bad-url', `radio URL "${options.url}": maxConnections must be a whole number from 1 to 64`);
    this.maxConnections = max;
  }

  /** Loads noble, then scans once the adapter is on; an adapter that is off or missing is reported, not fatal. */
  async start(): Promise<void> {
    const noble = await (this.options.loadNoble ?? loadNoble)(this.deviceId).catch((error: unknown) => {
      throw new RadioError('not-found', `${this.name}: the BLE library (${NOBLE_PACKAGE}) cannot be loaded: ${(error as Error).message}. Install it (no compiler needed) with: ${nobleInstallCommand()}`, { cause: error });
    });
    this.noble = noble;
    noble.on('discover', (peripheral) => this.discovered(peripheral));
    noble.on('warning', () => undefined); // noble's chatter about unknown handles: not the user's concern
    const state = await new Promise<string>((resolve) => {
      if (noble.state !== 'unknown') {
        resolve(noble.state);
        return;
      }
      const timer = setTimeout(() => resolve(noble.state), STATE_WAIT_MS);
      noble.once('stateChange', (next) => {
        clearTimeout(timer);
        resolve(next);
      });
    });
    this.reportedState = state;
    noble.on('stateChange', (next) => this.stateChanged(next));
    if (state === 'poweredOn') await this.scan();
    else this.emit('error', new RadioError(state === 'unauthorized' ? 'permission-denied' : 'not-found', `${explainState(this.name, state)}; waiting for it`));
  }

  send(to: string, frame: Buffer): void {
    const link = this.links.get(to);
    if (!link) {
      this.emit('error', new RadioError('send-failed', `${this.name}: frame for ${to} not sent: not connected (asleep or out of range)`));
      return;
    }
    const segments = segment(frame, link.peripheral.mtu ?? DEFAULT_ATT_MTU);
    this.counts.framesOut++;
    link.writing = link.writing
      .then(async () => {
        for (const part of segments) await within(link.toDevice.writeAsync(part, false), WRITE_TIMEOUT_MS, 'write');
      })
      .catch((error: Error) => {
        this.emit('error', new RadioError('send-failed', `${this.name}: write to ${to} failed: ${error.message}; disconnecting it`, { cause: error }));
        // A link that stopped acknowledging is dead to us: drop it, the device reconnects when it advertises.
        void within(link.peripheral.disconnectAsync(), WRITE_TIMEOUT_MS, 'disconnect').catch(() => undefined);
      });
  }

  /** A central cannot broadcast to peripherals: devices find the gateway by scanning for nothing; ADVERTISE has no BLE meaning here. */
  broadcast(): void {}

  counters(): Record<string, number> {
    return { ...this.counts, connected: this.links.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    const noble = this.noble;
    if (!noble) return;
    await noble.stopScanningAsync().catch(() => undefined);
    await Promise.all([...this.links.values()].map((link) => within(link.peripheral.disconnectAsync(), 2000, 'disconnect').catch(() => undefined)));
    this.links.clear();
    noble.removeAllListeners('discover');
    noble.stop(); // otherwise the HCI socket keeps the process alive
  }

  private async scan(): Promise<void> {
    // Duplicates on: a device that disconnected to sleep is seen again when it advertises again.
    await this.noble!.startScanningAsync([MQTTSN_SERVICE_UUID], true).catch((error: Error) => {
      this.emit('error', new RadioError('io', `${this.name}: cannot scan: ${error.message}`, { cause: error }));
    });
  }

  private stateChanged(state: string): void {
    const previous = this.reportedState;
    this.reportedState = state;
    if (this.closed || state === previous) return;
    if (state === 'poweredOn') {
      void this.scan();
      return;
    }
    // An adapter without BLE support also reports "off" right after: the first reason is the useful one.
    if (previous === 'unsupported' && state === 'poweredOff') return;
    this.emit('error', new RadioError('io', explainState(this.name, state)));
  }

  private discovered(peripheral: NoblePeripheral): void {
    if (this.closed || this.links.has(peripheral.address) || this.connecting.has(peripheral.id)) return;
    if (!(peripheral.advertisement.serviceUuids ?? []).includes(MQTTSN_SERVICE_UUID)) return;
    if (this.links.size + this.connecting.size >= this.maxConnections) return;
    const retry = this.retryAfter.get(peripheral.id);
    if (retry && Date.now() < retry.at) return;
    void this.connect(peripheral);
  }

  private async connect(peripheral: NoblePeripheral): Promise<void> {
    this.connecting.add(peripheral.id);
    const address = peripheral.address;
    try {
      await within(peripheral.connectAsync(), CONNECT_TIMEOUT_MS, 'connect', () => peripheral.cancelConnect());
      // Connecting stopped the scan (noble): other devices must still be found.
      void this.scan();
      const { characteristics } = await within(peripheral.discoverSomeServicesAndCharacteristicsAsync([MQTTSN_SERVICE_UUID], [TO_GATEWAY_UUID, TO_DEVICE_UUID]), CONNECT_TIMEOUT_MS, 'service discovery');
      const toGateway = characteristics.find((c) => c.uuid === TO_GATEWAY_UUID);
      const toDevice = characteristics.find((c) => c.uuid === TO_DEVICE_UUID);
      if (!toGateway || !toDevice) throw new Error('the device lacks the MQTT-SN characteristics (see the GATT profile in the README)');
      const reassembler = new Reassembler(MAX_BLE_FRAME);
      toGateway.on('data', (data: Buffer) => {
        for (const result of reassembler.push(data)) {
          if (result.ok) {
            this.counts.framesIn++;
            // The strength of its last advertisement: the best per-device figure a central gets cheaply.
            this.emit('datagram', result.frame, address, typeof peripheral.rssi === 'number' ? { rssi: peripheral.rssi } : undefined);
          } else {
            this.counts.droppedSegments++;
          }
        }
      });
      await within(toGateway.subscribeAsync(), CONNECT_TIMEOUT_MS, 'subscribe');
      this.links.set(address, { peripheral, toDevice, writing: Promise.resolve() });
      this.retryAfter.delete(peripheral.id);
      this.counts.connects++;
      peripheral.once('disconnect', () => {
        if (this.links.get(address)?.peripheral === peripheral) this.links.delete(address);
        toGateway.removeAllListeners('data');
        this.counts.disconnects++;
        if (!this.closed) void this.scan(); // to find it again when it wakes up
      });
    } catch (error) {
      this.counts.connectFailures++;
      let retry = this.retryAfter.get(peripheral.id);
      if (!retry) this.retryAfter.set(peripheral.id, (retry = { at: 0, backoff: new Backoff(this.options.retryMs ?? 1000, this.options.maxRetryMs ?? 60_000) }));
      const delay = retry.backoff.next();
      retry.at = Date.now() + delay;
      this.emit('error', new RadioError('io', `${this.name}: cannot connect to ${address}: ${(error as Error).message} (next attempt when it advertises, after ${Math.round(delay / 1000)} s)`, { cause: error }));
      if ((peripheral as { state?: string }).state === 'connected') void within(peripheral.disconnectAsync(), 2000, 'disconnect').catch(() => undefined);
      void this.scan();
    } finally {
      this.connecting.delete(peripheral.id);
    }
  }
}

/** noble on the chosen HCI adapter, imported only when a BLE radio is configured (it is optional). */
async function loadNoble(deviceId: number): Promise<NobleLike> {
  // A specifier in a variable: TypeScript must not need the optional package's types to build.
  const specifier: string = NOBLE_PACKAGE;
  const module = (await import(specifier)) as { default?: { withBindings: (type: string, options: object) => NobleLike }; withBindings?: (type: string, options: object) => NobleLike };
  const withBindings = module.default?.withBindings ?? module.withBindings;
  if (!withBindings) throw new Error('unexpected @stoprocent/noble API: no withBindings');
  return withBindings('hci', { deviceId });
}
