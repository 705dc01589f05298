import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { MQTTSN_SERVICE_UUID, Reassembler, segment, TO_DEVICE_UUID, TO_GATEWAY_UUID } from '../../radios/ble-profile.js';
import type { ReassemblyResult } from '../../radios/ble-profile.js';

/*
 * A fake of the lowest layer under noble: the *binding* (what noble's lib/resolve-bindings.js
 * creates, e.g. lib/hci-socket/bindings.js). Noble's real Noble class and its real Peripheral,
 * Service and Characteristic objects run on top of it, so a radio under test meets noble's real
 * quirks (callbacks, event names, duplicate filtering, state handling).
 *
 * The binding contract, as the HCI binding of @stoprocent/noble 2.8 implements it:
 *  - methods noble calls: start, stop, setScanParameters, setAddress, startScanning(serviceUuids,
 *    allowDuplicates), stopScanning, connect(id, parameters), cancelConnect(id, parameters),
 *    disconnect(id), updateRssi(id), discoverServices(id, uuids), discoverIncludedServices,
 *    discoverCharacteristics(id, serviceUuid, uuids), read, write(id, s, c, data, withoutResponse),
 *    broadcast, notify(id, s, c, on), discoverDescriptors, readValue, writeValue, readHandle,
 *    writeHandle, addressToId(address); optional: reset, pair, addService, addCharacteristics.
 *  - events it emits (argument order matters, noble binds them positionally):
 *    stateChange(state), addressChange(address), scanParametersSet(), scanStart(filterDuplicates),
 *    scanStop(), discover(id, address, addressType, connectable, advertisement, rssi, scannable),
 *    connect(id, error|null), disconnect(id, hciReason:number), rssiUpdate(id, rssi),
 *    servicesDiscovered(id, serviceObjects), servicesDiscover(id, serviceUuids),
 *    characteristicsDiscovered(id, serviceUuid, rawCharacteristics),
 *    characteristicsDiscover(id, serviceUuid, [{ uuid, properties: string[] }]),
 *    read(id, s, c, data, isNotification) (notifications are 'read' with isNotification true),
 *    write(id, s, c) (no error argument: an ATT error response simply never emits 'write'),
 *    notify(id, s, c, state), broadcast(id, s, c, state), descriptorsDiscover(id, s, c, uuids),
 *    valueRead(id, s, c, d, data), valueWrite(id, s, c, d), handleRead(id, handle, data),
 *    handleWrite(id, handle), handleNotify(id, handle, data), onMtu(id, mtu).
 *  - peripheral ids are the address without colons, lowercased (addressToId).
 *  - the HCI binding filters advertisements by service UUID in software (advertised service UUIDs
 *    plus service-data UUIDs); noble itself drops repeated discoveries per scan unless
 *    allowDuplicates.
 *  - connecting stops a running scan first (scanStop reaches noble) and does not restart it;
 *    connections are made one at a time, in order; an LE connection attempt has no timeout (it
 *    completes when the device next advertises, or never: cancelConnect ends it, silently).
 *  - 'connect' comes first, then 'onMtu' with the MTU the device answered in the exchange, before
 *    any answer to a GATT request made after the connect.
 */

/** HCI status and disconnect reason codes the binding passes on (reasons are plain numbers). */
export const HCI = {
  HARDWARE_FAILURE: 0x03,
  CONNECTION_TIMEOUT: 0x08,
  REMOTE_USER_TERMINATED: 0x13,
  LOCAL_HOST_TERMINATED: 0x16,
  CONNECTION_FAILED_TO_BE_ESTABLISHED: 0x3e,
} as const;

export type AdapterState = 'poweredOn' | 'poweredOff' | 'unsupported' | 'unauthorized';

export interface FakeNobleBindingOptions {
  /** What the adapter reports once started (default poweredOn). */
  readonly state?: AdapterState;
  /** How often an advertising, unconnected device is reported while scanning (default 100 ms). */
  readonly advertiseIntervalMs?: number;
  /** The adapter's own address, reported with addressChange. */
  readonly address?: string;
}

export interface FakeBleDeviceOptions {
  /** e.g. 'c0:ff:ee:00:00:01' (the peripheral id becomes 'c0ffee000001'). */
  readonly address: string;
  /** The ATT MTU the device answers in the MTU exchange (default 23). */
  readonly mtu?: number;
  readonly name?: string;
  /** Whether the advertisement carries MQTTSN_SERVICE_UUID (default true). */
  readonly advertisesService?: boolean;
  readonly addressType?: 'public' | 'random';
  readonly rssi?: number;
  /** The device's reassembly limit for frames from the gateway (default 65535). */
  readonly maxFrameSize?: number;
}

interface PendingConnection {
  readonly id: string;
}

const GAP_SERVICE = '1800';
const GATT_SERVICE = '1801';

const uuidOf = (uuid: string): string => uuid.toLowerCase().replace(/-/g, '');

/**
 * The GATT server side of one device (its firmware): notifies segmented frames on TO_GATEWAY_UUID,
 * reassembles what the gateway writes to TO_DEVICE_UUID. Events: 'connect', 'disconnect'(reason,
 * byDevice), 'subscribe'(state), 'segment'(bytes), 'frame'(frame), 'reassemblyError'(reason).
 */
export class FakeBleDevice extends EventEmitter {
  readonly address: string;
  /** The peripheral id noble uses: the address without colons, lowercase. */
  readonly id: string;
  readonly addressType: 'public' | 'random';
  readonly name: string | undefined;
  readonly advertisesService: boolean;
  mtu: number;
  rssi: number;
  connected = false;
  /** Whether the device is advertising (it stops while connected and after disconnect()). */
  advertising = true;
  /** Whether the gateway has enabled notifications on TO_GATEWAY_UUID on the current link. */
  subscribed = false;
  /** Whole frames reassembled from the gateway's writes to TO_DEVICE_UUID. */
  readonly received: Buffer[] = [];
  /** Every value written to TO_DEVICE_UUID, as written. */
  readonly segmentsReceived: Buffer[] = [];
  /** Writes that exceeded ATT_MTU - 3 (a segmenter bug; the real binding would long-write or send an oversized PDU). */
  readonly oversizedWrites: Buffer[] = [];
  readonly reassemblyErrors: Array<Exclude<ReassemblyResult, { ok: true }>['reason']> = [];
  /** Connection attempts that reached the device (including refused ones). */
  connectAttempts = 0;
  /** Completed connections. */
  connections = 0;

  private refusals = 0;
  private withheldAcks = 0;
  private taken = 0;
  private reassembler: Reassembler;

  constructor(
    private readonly binding: FakeNobleBinding,
    options: FakeBleDeviceOptions,
  ) {
    super();
    this.address = options.address.toLowerCase();
    this.id = binding.addressToId(options.address);
    this.addressType = options.addressType ?? 'random';
    this.name = options.name;
    this.advertisesService = options.advertisesService ?? true;
    this.mtu = options.mtu ?? 23;
    this.rssi = options.rssi ?? -60;
    this.reassembler = new Reassembler(options.maxFrameSize ?? 65_535);
  }

  /** Sends one MQTT-SN frame to the gateway as notifications, segmented for this link's MTU. */
  notify(frame: Buffer): Buffer[] {
    const segments = segment(frame, this.mtu);
    this.notifySegments(segments);
    return segments;
  }

  /** Sends raw segments as notifications (to test loss, reordering, garbage). */
  notifySegments(segments: readonly Buffer[]): void {
    if (!this.connected) throw new Error(`${this.address}: cannot notify, not connected`);
    if (!this.subscribed) throw new Error(`${this.address}: cannot notify, the gateway has not subscribed to TO_GATEWAY_UUID`);
    for (const bytes of segments) {
      if (bytes.length > this.mtu - 3) throw new Error(`${this.address}: notification of ${bytes.length} octets exceeds ATT_MTU ${this.mtu} - 3`);
      this.binding.deliverNotification(this, Buffer.from(bytes));
    }
  }

  /** Resolves with the next frame from the gateway not yet returned by nextFrame. */
  nextFrame(timeoutMs = 2000): Promise<Buffer> {
    const ready = this.received[this.taken];
    if (ready) {
      this.taken++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const onFrame = (): void => {
        clearTimeout(timer);
        const frame = this.received[this.taken++]!;
        resolve(frame);
      };
      const timer = setTimeout(() => {
        this.off('frame', onFrame);
        reject(new Error(`${this.address}: no frame from the gateway within ${timeoutMs} ms`));
      }, timeoutMs);
      this.once('frame', onFrame);
    });
  }

  /** Calls `listener` for each frame from the gateway; returns the unsubscribe function. */
  onFrame(listener: (frame: Buffer) => void): () => void {
    this.on('frame', listener);
    return () => this.off('frame', listener);
  }

  /** Resolves once the gateway has subscribed on the current (or next) link. */
  whenSubscribed(timeoutMs = 2000): Promise<void> {
    return this.when(() => this.subscribed, 'subscribe', timeoutMs, 'the gateway to subscribe');
  }

  /** Resolves once a link is up. */
  whenConnected(timeoutMs = 2000): Promise<void> {
    return this.when(() => this.connected, 'connect', timeoutMs, 'the gateway to connect');
  }

  /** Device-initiated disconnect (default reason: remote user terminated); the device then stays silent until advertise(). */
  disconnect(reason: number = HCI.REMOTE_USER_TERMINATED): void {
    if (!this.connected) throw new Error(`${this.address}: not connected`);
    this.advertising = false;
    this.binding.dropLink(this, reason, true);
  }

  /** Starts advertising again (e.g. after waking up): reported while scanning, pending connects complete. */
  advertise(): void {
    if (this.connected) throw new Error(`${this.address}: advertise() while connected`);
    this.advertising = true;
    this.binding.deviceAdvertising(this);
  }

  /** Goes silent (asleep, out of range): not discovered, connection attempts wait. */
  stopAdvertising(): void {
    this.advertising = false;
  }

  /** The next `count` connection attempts fail with HCI status 0x3e (Connection Failed to be Established). */
  refuseConnections(count: number): void {
    this.refusals += count;
  }

  /**
   * The next `count` writes with response are answered with an ATT error: the real HCI binding
   * then emits no 'write' at all, so the central's writeAsync never settles until disconnect.
   */
  withholdWriteAcks(count: number): void {
    this.withheldAcks += count;
  }

  /** @internal binding side: a connection attempt reached the device; false if it refuses it. */
  acceptConnection(): boolean {
    this.connectAttempts++;
    if (this.refusals > 0) {
      this.refusals--;
      return false;
    }
    this.connected = true;
    this.advertising = false;
    this.subscribed = false;
    this.connections++;
    this.reassembler.reset();
    this.emit('connect');
    return true;
  }

  /** @internal binding side: the link is gone. */
  linkDown(reason: number, byDevice: boolean): void {
    this.connected = false;
    this.subscribed = false;
    this.reassembler.reset();
    this.emit('disconnect', reason, byDevice);
  }

  /** @internal binding side: the gateway wrote `value` to TO_DEVICE_UUID; returns whether the write is acknowledged. */
  written(value: Buffer, withoutResponse: boolean): boolean {
    const bytes = Buffer.from(value);
    this.segmentsReceived.push(bytes);
    if (bytes.length > this.mtu - 3) this.oversizedWrites.push(bytes);
    this.emit('segment', bytes);
    for (const result of this.reassembler.push(bytes)) {
      if (result.ok) {
        this.received.push(result.frame);
        this.emit('frame', result.frame);
      } else {
        this.reassemblyErrors.push(result.reason);
        this.emit('reassemblyError', result.reason);
      }
    }
    if (!withoutResponse && this.withheldAcks > 0) {
      this.withheldAcks--;
      return false;
    }
    return true;
  }

  /** @internal binding side: the gateway wrote the CCCD of TO_GATEWAY_UUID. */
  setSubscribed(state: boolean): void {
    this.subscribed = state;
    this.emit('subscribe', state);
  }

  /** @internal the advertisement as the HCI binding's GAP layer reports it. */
  advertisement(): NobleAdvertisement {
    return {
      localName: this.name,
      txPowerLevel: undefined,
      manufacturerData: undefined,
      serviceData: [],
      serviceUuids: this.advertisesService ? [MQTTSN_SERVICE_UUID] : [],
      serviceSolicitationUuids: [],
    };
  }

  private when(done: () => boolean, event: string, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.off(event, check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off(event, check);
        reject(new Error(`${this.address}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.on(event, check);
    });
  }
}

export interface NobleAdvertisement {
  localName: string | undefined;
  txPowerLevel: number | undefined;
  manufacturerData: Buffer | undefined;
  serviceData: Array<{ uuid: string; data: Buffer }>;
  serviceUuids: string[];
  serviceSolicitationUuids: string[];
}

/** A stand-in for noble's HCI binding with simulated devices instead of an adapter. */
export class FakeNobleBinding extends EventEmitter {
  /** Every binding method call noble made, in order (for assertions on what the radio asked for). */
  readonly calls: Array<{ readonly method: string; readonly args: readonly unknown[] }> = [];
  readonly devices = new Map<string, FakeBleDevice>();
  /** Requests for a peripheral without a link (the HCI binding console.warns them; noble then waits forever). */
  readonly warnings: string[] = [];
  /** Times a scan actually started (the controller answered; not counting calls while already scanning). */
  scanStarts = 0;

  private state: AdapterState | 'unknown' = 'unknown';
  private started = false;
  private stopped = false;
  private scanning = false;
  private scanStarting = false;
  private scanServiceUuids: string[] = [];
  private allowDuplicates = false;
  private scanTimer: NodeJS.Timeout | undefined;
  private readonly immediates = new Set<NodeJS.Immediate>();
  private readonly queue: PendingConnection[] = [];
  private pending: PendingConnection | undefined;
  private readonly initialState: AdapterState;
  private readonly advertiseIntervalMs: number;
  private readonly adapterAddress: string;

  constructor(options: FakeNobleBindingOptions = {}) {
    super();
    this.initialState = options.state ?? 'poweredOn';
    this.advertiseIntervalMs = options.advertiseIntervalMs ?? 100;
    this.adapterAddress = options.address ?? '00:1a:7d:da:71:13';
  }

  /** Adds a simulated device (advertising from the start). */
  addDevice(options: FakeBleDeviceOptions): FakeBleDevice {
    const device = new FakeBleDevice(this, options);
    if (this.devices.has(device.id)) throw new Error(`device ${device.address} already added`);
    this.devices.set(device.id, device);
    if (this.scanning) this.report(device);
    return device;
  }

  device(address: string): FakeBleDevice {
    const device = this.devices.get(this.addressToId(address));
    if (!device) throw new Error(`no device ${address}`);
    return device;
  }

  get isScanning(): boolean {
    return this.scanning;
  }

  /** The service filter of the current scan (as the HCI binding keeps it: set when a scan starts). */
  get scanFilter(): readonly string[] {
    return this.scanServiceUuids;
  }

  get adapterState(): AdapterState | 'unknown' {
    return this.state;
  }

  /** The adapter changes state (e.g. unplugged: 'poweredOff'); leaving poweredOn drops every link with reason 0x03 first, as the HCI binding does. */
  setState(state: AdapterState): void {
    this.later(() => this.changeState(state));
  }

  // ---- the binding interface noble calls --------------------------------------------------

  start(): void {
    this.record('start', []);
    if (this.started) return;
    this.started = true;
    this.later(() => {
      if (this.initialState === 'poweredOn') this.emit('addressChange', this.adapterAddress);
      this.changeState(this.initialState);
    });
  }

  /** noble.stop(): stops scanning and drops links without further events (the HCI socket is closed), clears every timer. */
  stop(): void {
    this.record('stop', []);
    if (this.stopped) return;
    if (!this.scanning) this.emit('scanStop'); // the HCI binding emits this synchronously when not scanning
    this.stopped = true;
    this.endScan();
    for (const device of this.devices.values()) if (device.connected) device.linkDown(HCI.LOCAL_HOST_TERMINATED, false);
    for (const immediate of this.immediates) clearImmediate(immediate);
    this.immediates.clear();
    this.queue.length = 0;
    this.pending = undefined;
  }

  /** Not part of the HCI binding (noble skips it when missing); a no-op here. */
  reset(): void {
    this.record('reset', []);
  }

  setScanParameters(interval?: number, window?: number): void {
    this.record('setScanParameters', [interval, window]);
    this.later(() => this.emit('scanParametersSet'));
  }

  setAddress(address: string): void {
    this.record('setAddress', [address]);
    this.later(() => this.emit('addressChange', address));
  }

  startScanning(serviceUuids?: string[], allowDuplicates?: boolean): void {
    this.record('startScanning', [serviceUuids, allowDuplicates]);
    // As the HCI binding: already scanning → just scanStart again, keeping the old filter.
    if (this.scanning) {
      this.later(() => this.emit('scanStart'));
      return;
    }
    if (this.scanStarting) return;
    this.scanStarting = true;
    this.scanServiceUuids = (serviceUuids ?? []).map(uuidOf);
    this.allowDuplicates = allowDuplicates ?? false;
    this.later(() => {
      if (!this.scanStarting) return;
      this.scanStarting = false;
      if (this.state !== 'poweredOn') return; // the controller refuses: no scanStart
      this.scanning = true;
      this.scanStarts++;
      this.emit('scanStart', !this.allowDuplicates);
      for (const device of this.devices.values()) this.report(device);
      this.scanTimer = setInterval(() => {
        for (const device of this.devices.values()) this.report(device);
      }, this.advertiseIntervalMs);
      this.scanTimer.unref();
    });
  }

  stopScanning(): void {
    this.record('stopScanning', []);
    if (!this.scanning) {
      this.scanStarting = false;
      this.emit('scanStop'); // synchronously, as the HCI binding does when not scanning
      return;
    }
    this.later(() => {
      if (!this.scanning) return;
      this.endScan();
      this.emit('scanStop');
      this.processConnectionQueue();
    });
  }

  connect(peripheralId: string, parameters?: object): void {
    this.record('connect', [peripheralId, parameters]);
    if (this.state !== 'poweredOn') {
      this.emit('connect', peripheralId, new Error(`Cannot connect while adapter state is ${this.state} (not poweredOn)`));
      return;
    }
    if (this.queue.some((connection) => connection.id === peripheralId)) return;
    this.queue.push({ id: peripheralId });
    this.processConnectionQueue();
  }

  cancelConnect(peripheralId: string, parameters?: object): void {
    this.record('cancelConnect', [peripheralId, parameters]);
    const index = this.queue.findIndex((connection) => connection.id === peripheralId);
    if (index >= 0) this.queue.splice(index, 1);
    if (this.pending?.id === peripheralId) {
      this.pending = undefined; // the controller answers the cancel with a failed completion: no event reaches noble
      this.later(() => this.processConnectionQueue());
    }
  }

  disconnect(peripheralId: string): void {
    this.record('disconnect', [peripheralId]);
    const device = this.devices.get(peripheralId);
    if (!device?.connected) return; // HCI: a disconnect for an unknown handle fails silently
    this.later(() => {
      if (!device.connected) return;
      this.dropLink(device, HCI.LOCAL_HOST_TERMINATED, false);
      device.advertise(); // firmware advertises again after the central lets go
    });
  }

  updateRssi(peripheralId: string): void {
    this.record('updateRssi', [peripheralId]);
    const device = this.linked(peripheralId);
    if (device) this.later(() => this.emit('rssiUpdate', peripheralId, device.rssi));
  }

  discoverServices(peripheralId: string, uuids?: string[]): void {
    this.record('discoverServices', [peripheralId, uuids]);
    if (!this.linked(peripheralId)) return;
    const wanted = (uuids ?? []).map(uuidOf);
    const all = [
      { startHandle: 0x0001, endHandle: 0x0007, uuid: GAP_SERVICE },
      { startHandle: 0x0008, endHandle: 0x000b, uuid: GATT_SERVICE },
      { startHandle: 0x000c, endHandle: 0xffff, uuid: MQTTSN_SERVICE_UUID },
    ];
    this.later(() => {
      this.emit('servicesDiscovered', peripheralId, all.map((service) => ({ ...service })));
      this.emit('servicesDiscover', peripheralId, all.map((service) => service.uuid).filter((uuid) => wanted.length === 0 || wanted.includes(uuid)));
    });
  }

  discoverIncludedServices(peripheralId: string, serviceUuid: string, serviceUuids?: string[]): void {
    this.record('discoverIncludedServices', [peripheralId, serviceUuid, serviceUuids]);
    if (this.linked(peripheralId)) this.later(() => this.emit('includedServicesDiscover', peripheralId, serviceUuid, []));
  }

  discoverCharacteristics(peripheralId: string, serviceUuid: string, characteristicUuids?: string[]): void {
    this.record('discoverCharacteristics', [peripheralId, serviceUuid, characteristicUuids]);
    if (!this.linked(peripheralId)) return;
    const wanted = (characteristicUuids ?? []).map(uuidOf);
    const table: Record<string, Array<{ uuid: string; properties: string[]; raw: number; startHandle: number }>> = {
      [GAP_SERVICE]: [
        { uuid: '2a00', properties: ['read'], raw: 0x02, startHandle: 0x0002 },
        { uuid: '2a01', properties: ['read'], raw: 0x02, startHandle: 0x0004 },
      ],
      [GATT_SERVICE]: [{ uuid: '2a05', properties: ['indicate'], raw: 0x20, startHandle: 0x0009 }],
      [MQTTSN_SERVICE_UUID]: [
        { uuid: TO_GATEWAY_UUID, properties: ['notify'], raw: 0x10, startHandle: 0x000d },
        { uuid: TO_DEVICE_UUID, properties: ['writeWithoutResponse', 'write'], raw: 0x0c, startHandle: 0x0010 },
      ],
    };
    const characteristics = table[serviceUuid] ?? [];
    this.later(() => {
      this.emit(
        'characteristicsDiscovered',
        peripheralId,
        serviceUuid,
        characteristics.map((c) => ({ startHandle: c.startHandle, properties: c.raw, valueHandle: c.startHandle + 1, uuid: c.uuid })),
      );
      this.emit(
        'characteristicsDiscover',
        peripheralId,
        serviceUuid,
        characteristics.filter((c) => wanted.length === 0 || wanted.includes(c.uuid)).map((c) => ({ uuid: c.uuid, properties: [...c.properties] })),
      );
    });
  }

  read(peripheralId: string, serviceUuid: string, characteristicUuid: string): void {
    this.record('read', [peripheralId, serviceUuid, characteristicUuid]);
    const device = this.linked(peripheralId);
    if (!device) return;
    const value = characteristicUuid === '2a00' ? Buffer.from(device.name ?? '') : Buffer.alloc(0);
    this.later(() => this.emit('read', peripheralId, serviceUuid, characteristicUuid, value, false));
  }

  write(peripheralId: string, serviceUuid: string, characteristicUuid: string, data: Buffer, withoutResponse?: boolean): void {
    this.record('write', [peripheralId, serviceUuid, characteristicUuid, data, withoutResponse]);
    const device = this.linked(peripheralId);
    if (!device) return;
    const value = Buffer.from(data);
    this.later(() => {
      if (!device.connected) return;
      let acknowledged = true;
      if (serviceUuid === MQTTSN_SERVICE_UUID && characteristicUuid === TO_DEVICE_UUID) acknowledged = device.written(value, withoutResponse === true);
      // Without response the HCI binding reports 'write' once the PDU is sent; with response, on the ATT Write Response.
      if (acknowledged) this.emit('write', peripheralId, serviceUuid, characteristicUuid);
    });
  }

  broadcast(peripheralId: string, serviceUuid: string, characteristicUuid: string, broadcast: boolean): void {
    this.record('broadcast', [peripheralId, serviceUuid, characteristicUuid, broadcast]);
    if (this.linked(peripheralId)) this.later(() => this.emit('broadcast', peripheralId, serviceUuid, characteristicUuid, broadcast));
  }

  notify(peripheralId: string, serviceUuid: string, characteristicUuid: string, notify: boolean): void {
    this.record('notify', [peripheralId, serviceUuid, characteristicUuid, notify]);
    const device = this.linked(peripheralId);
    if (!device) return;
    this.later(() => {
      if (!device.connected) return;
      if (serviceUuid === MQTTSN_SERVICE_UUID && characteristicUuid === TO_GATEWAY_UUID) device.setSubscribed(notify);
      this.emit('notify', peripheralId, serviceUuid, characteristicUuid, notify);
    });
  }

  discoverDescriptors(peripheralId: string, serviceUuid: string, characteristicUuid: string): void {
    this.record('discoverDescriptors', [peripheralId, serviceUuid, characteristicUuid]);
    if (!this.linked(peripheralId)) return;
    const descriptors = characteristicUuid === TO_GATEWAY_UUID || characteristicUuid === '2a05' ? ['2902'] : [];
    this.later(() => this.emit('descriptorsDiscover', peripheralId, serviceUuid, characteristicUuid, descriptors));
  }

  readValue(peripheralId: string, serviceUuid: string, characteristicUuid: string, descriptorUuid: string): void {
    this.record('readValue', [peripheralId, serviceUuid, characteristicUuid, descriptorUuid]);
    const device = this.linked(peripheralId);
    if (!device) return;
    const value = descriptorUuid === '2902' ? Buffer.of(characteristicUuid === TO_GATEWAY_UUID && device.subscribed ? 1 : 0, 0) : Buffer.alloc(0);
    this.later(() => this.emit('valueRead', peripheralId, serviceUuid, characteristicUuid, descriptorUuid, value));
  }

  writeValue(peripheralId: string, serviceUuid: string, characteristicUuid: string, descriptorUuid: string, data: Buffer): void {
    this.record('writeValue', [peripheralId, serviceUuid, characteristicUuid, descriptorUuid, data]);
    const device = this.linked(peripheralId);
    if (!device) return;
    this.later(() => {
      if (descriptorUuid === '2902' && characteristicUuid === TO_GATEWAY_UUID) device.setSubscribed((data[0] ?? 0) !== 0);
      this.emit('valueWrite', peripheralId, serviceUuid, characteristicUuid, descriptorUuid);
    });
  }

  readHandle(peripheralId: string, handle: number): void {
    this.record('readHandle', [peripheralId, handle]);
    if (this.linked(peripheralId)) this.later(() => this.emit('handleRead', peripheralId, handle, Buffer.alloc(0)));
  }

  writeHandle(peripheralId: string, handle: number, data: Buffer, withoutResponse?: boolean): void {
    this.record('writeHandle', [peripheralId, handle, data, withoutResponse]);
    if (this.linked(peripheralId)) this.later(() => this.emit('handleWrite', peripheralId, handle));
  }

  /** Present in the HCI binding; noble passes discovered GATT tables down through them. No-ops here. */
  addService(peripheralId: string, service: unknown): void {
    this.record('addService', [peripheralId, service]);
  }

  addCharacteristics(peripheralId: string, serviceUuid: string, characteristics: unknown): void {
    this.record('addCharacteristics', [peripheralId, serviceUuid, characteristics]);
  }

  addressToId(address: string): string {
    return address.replace(/:/g, '').toLowerCase();
  }

  // Deliberately no pair(): the HCI binding has none, and noble answers pairAsync() with
  // "Pairing is not supported on this platform" only when the method is missing.

  // ---- device side ------------------------------------------------------------------------

  /** @internal */
  deliverNotification(device: FakeBleDevice, value: Buffer): void {
    this.later(() => {
      if (device.connected && device.subscribed) this.emit('read', device.id, MQTTSN_SERVICE_UUID, TO_GATEWAY_UUID, value, true);
    });
  }

  /** @internal */
  dropLink(device: FakeBleDevice, reason: number, byDevice: boolean): void {
    device.linkDown(reason, byDevice);
    this.later(() => this.emit('disconnect', device.id, reason));
  }

  /** @internal */
  deviceAdvertising(device: FakeBleDevice): void {
    if (this.scanning) this.report(device);
    if (this.pending?.id === device.id) this.later(() => this.completeConnection());
  }

  // ---- internals --------------------------------------------------------------------------

  private changeState(state: AdapterState): void {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    if (previous === 'poweredOn' && state !== 'poweredOn') {
      for (const device of this.devices.values()) {
        if (!device.connected) continue;
        device.linkDown(HCI.HARDWARE_FAILURE, false);
        this.emit('disconnect', device.id, HCI.HARDWARE_FAILURE);
      }
      this.queue.length = 0;
      this.pending = undefined;
      this.endScan();
    }
    this.emit('stateChange', state);
  }

  private processConnectionQueue(): void {
    if (this.pending || this.queue.length === 0 || this.stopped) return;
    if (this.scanning) {
      this.stopScanning(); // the HCI binding stops the scan before creating a connection; scanStop resumes the queue
      return;
    }
    this.pending = this.queue[0]!;
    this.later(() => this.completeConnection());
  }

  /** The controller connects when the target advertises; a silent or unknown target leaves the attempt pending. */
  private completeConnection(): void {
    const attempt = this.pending;
    if (!attempt) return;
    const device = this.devices.get(attempt.id);
    if (!device || !device.advertising || device.connected) return;
    this.pending = undefined;
    this.queue.shift();
    if (device.acceptConnection()) {
      this.emit('connect', attempt.id, null);
      // The MTU exchange starts with the link and is answered before any GATT request made after 'connect'.
      this.later(() => {
        if (device.connected) this.emit('onMtu', attempt.id, device.mtu);
      });
    } else {
      const status = HCI.CONNECTION_FAILED_TO_BE_ESTABLISHED;
      this.emit('connect', attempt.id, new Error(`Connection Failed to be Established (0x${status.toString(16)})`));
    }
    this.processConnectionQueue();
  }

  /** Reports `device` as the HCI binding would: only while scanning, advertising, and matching the filter in software. */
  private report(device: FakeBleDevice): void {
    if (!this.scanning || !device.advertising || device.connected || this.state !== 'poweredOn') return;
    const advertisement = device.advertisement();
    const advertised = [...advertisement.serviceUuids, ...advertisement.serviceData.map((entry) => entry.uuid)];
    if (this.scanServiceUuids.length > 0 && !advertised.some((uuid) => this.scanServiceUuids.includes(uuid))) return;
    this.later(() => {
      if (!this.scanning || !device.advertising || device.connected) return;
      this.emit('discover', device.id, device.address, device.addressType, true, advertisement, device.rssi, false);
    });
  }

  private linked(peripheralId: string): FakeBleDevice | undefined {
    const device = this.devices.get(peripheralId);
    if (device?.connected) return device;
    this.warnings.push(`noble warning: unknown peripheral ${peripheralId}`); // the HCI binding console.warns and emits nothing
    return undefined;
  }

  private endScan(): void {
    this.scanning = false;
    this.scanStarting = false;
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
  }

  private later(task: () => void): void {
    if (this.stopped) return;
    const immediate = setImmediate(() => {
      this.immediates.delete(immediate);
      if (!this.stopped) task();
    });
    this.immediates.add(immediate);
  }

  private record(method: string, args: readonly unknown[]): void {
    this.calls.push({ method, args });
  }
}

// ---- the real noble on top ------------------------------------------------------------------

/** The slice of noble's Characteristic the tests use (noble ships no types for its lib/ files). */
export interface NobleCharacteristicUnderTest extends EventEmitter {
  readonly uuid: string;
  readonly properties: string[];
  subscribeAsync(): Promise<void>;
  unsubscribeAsync(): Promise<void>;
  readAsync(): Promise<Buffer>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
}

export interface NobleServiceUnderTest extends EventEmitter {
  readonly uuid: string;
  readonly characteristics: NobleCharacteristicUnderTest[] | null;
}

export interface NoblePeripheralUnderTest extends EventEmitter {
  readonly id: string;
  readonly uuid: string;
  readonly address: string;
  readonly addressType: string;
  readonly connectable: boolean;
  readonly advertisement: NobleAdvertisement;
  readonly rssi: number;
  readonly mtu: number | null;
  readonly state: 'disconnected' | 'connecting' | 'connected' | 'disconnecting' | 'error';
  connectAsync(options?: object): Promise<void>;
  cancelConnect(options?: object): void;
  disconnectAsync(): Promise<void>;
  discoverSomeServicesAndCharacteristicsAsync(
    serviceUuids: string[],
    characteristicUuids: string[],
  ): Promise<{ services: NobleServiceUnderTest[]; characteristics: NobleCharacteristicUnderTest[] }>;
}

export interface NobleUnderTest extends EventEmitter {
  readonly state: string;
  readonly address: string;
  waitForPoweredOnAsync(timeoutMs?: number): Promise<void>;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  connectAsync(idOrAddress: string, parameters?: object): Promise<NoblePeripheralUnderTest>;
  stop(): void;
}

type NobleConstructor = new (binding: FakeNobleBinding) => unknown;

const require = createRequire(import.meta.url);

/** Whether the optional @stoprocent/noble package is installed. */
export function nobleAvailable(): boolean {
  try {
    require.resolve('@stoprocent/noble/lib/noble.js');
    return true;
  } catch {
    return false;
  }
}

/** noble's real Noble class (lib/noble.js: `module.exports = Noble`) over `binding`. */
export function createNobleWithFakeBinding<T = NobleUnderTest>(binding: FakeNobleBinding): T {
  const Noble = require('@stoprocent/noble/lib/noble.js') as NobleConstructor;
  return new Noble(binding) as T;
}
