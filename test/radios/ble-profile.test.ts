/**
 * The MQTT-SN GATT profile: exact segment bytes, reassembly (round trip over random frames and
 * MTUs, loss, stray continuations, limits), and the fake noble binding proven faithful by driving
 * noble's real Noble class through it: scan, connect, MTU, discovery, notifications, writes,
 * disconnects, re-discovery, refused connections, adapter states.
 */
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ATT_MTU,
  FIRST,
  LAST,
  MQTTSN_SERVICE_UUID,
  Reassembler,
  segment,
  TO_DEVICE_UUID,
  TO_GATEWAY_UUID,
} from '../../radios/ble-profile.js';
import {
  createNobleWithFakeBinding,
  FakeNobleBinding,
  HCI,
  nobleAvailable,
  type FakeBleDevice,
  type NobleCharacteristicUnderTest,
  type NoblePeripheralUnderTest,
  type NobleUnderTest,
} from '../helpers/fake-noble-binding.js';

const counting = (n: number, from = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('segment', () => {
  it('sends a frame that fits as one segment with header 0xC0', () => {
    const frame = Buffer.from('0504010203', 'hex');
    expect(segment(frame, DEFAULT_ATT_MTU)).toEqual([Buffer.from('c00504010203', 'hex')]);
  });

  it('cuts 50 octets at MTU 23 into 19 + 19 + 12 with headers 0x80, 0x01, 0x42', () => {
    const frame = counting(50);
    const segments = segment(frame, 23);
    expect(segments.map((s) => s.length)).toEqual([20, 20, 13]);
    expect(segments[0]).toEqual(Buffer.concat([Buffer.of(0x80), counting(19)]));
    expect(segments[1]).toEqual(Buffer.concat([Buffer.of(0x01), counting(19, 19)]));
    expect(segments[2]).toEqual(Buffer.concat([Buffer.of(0x42), counting(12, 38)]));
  });

  it('fills every segment up to ATT_MTU - 3 octets', () => {
    expect(segment(counting(20), 23).map((s) => s.length)).toEqual([20, 2]);
    expect(segment(counting(19), 23)).toEqual([Buffer.concat([Buffer.of(0xc0), counting(19)])]);
    expect(segment(counting(243), 247)).toHaveLength(1);
    expect(segment(counting(244), 247).map((s) => s.length)).toEqual([244, 2]);
  });

  it('wraps the counter after 63 (mod 64)', () => {
    const frame = counting(70); // MTU 5: one octet of frame per segment
    const segments = segment(frame, 5);
    expect(segments).toHaveLength(70);
    const headers = segments.map((s) => s[0]);
    expect(headers[0]).toBe(0x80);
    expect(headers[1]).toBe(0x01);
    expect(headers[63]).toBe(0x3f);
    expect(headers[64]).toBe(0x00);
    expect(headers[65]).toBe(0x01);
    expect(headers[69]).toBe(0x45); // LAST | (69 & 0x3f)
    expect(segments.every((s, i) => s.length === 2 && s[1] === (i & 0xff))).toBe(true);

    const reassembler = new Reassembler(1000);
    const results = segments.flatMap((s) => reassembler.push(s));
    expect(results).toEqual([{ ok: true, frame }]);
  });

  it('still makes progress at MTUs below 5 (one octet per segment)', () => {
    expect(segment(Buffer.from('abc'), 4)).toEqual([Buffer.from('8061', 'hex'), Buffer.from('0162', 'hex'), Buffer.from('4263', 'hex')]);
    expect(segment(Buffer.from('ab'), 3)).toEqual([Buffer.from('8061', 'hex'), Buffer.from('4162', 'hex')]);
  });

  it('sends an empty frame as a lone 0xC0, which reassembles to an empty frame', () => {
    expect(segment(Buffer.alloc(0), 23)).toEqual([Buffer.of(FIRST | LAST)]);
    expect(new Reassembler(10).push(Buffer.of(0xc0))).toEqual([{ ok: true, frame: Buffer.alloc(0) }]);
  });
});

describe('Reassembler', () => {
  it('round-trips any frame at any MTU, every segment within ATT_MTU - 3', () => {
    const reassembler = new Reassembler(65_535); // one stream, reused: nothing leaks from frame to frame
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.integer({ min: 5, max: 247 }), (bytes, mtu) => {
        const frame = Buffer.from(bytes);
        const segments = segment(frame, mtu);
        expect(segments.every((s) => s.length >= 2 && s.length <= mtu - 3)).toBe(true);
        expect(segments.length).toBe(Math.ceil(frame.length / (mtu - 4)));
        const results = segments.map((s) => reassembler.push(s));
        expect(results.slice(0, -1).every((r) => r.length === 0)).toBe(true);
        expect(results.at(-1)).toEqual([{ ok: true, frame }]);
      }),
      { numRuns: 300 },
    );
  });

  it('drops a frame with a lost middle segment and reassembles the next one', () => {
    const reassembler = new Reassembler(1000);
    const [a0, , a2] = segment(counting(50), 23);
    expect(reassembler.push(a0!)).toEqual([]);
    expect(reassembler.push(a2!)).toEqual([{ ok: false, reason: 'out-of-order' }]);
    const b = counting(30, 100);
    expect(segment(b, 23).flatMap((s) => reassembler.push(s))).toEqual([{ ok: true, frame: b }]);
  });

  it('reports a frame whose last segment was lost when the next frame starts, then delivers that frame', () => {
    const reassembler = new Reassembler(1000);
    const [a0, a1] = segment(counting(50), 23);
    reassembler.push(a0!);
    reassembler.push(a1!);
    const b = counting(45, 7);
    const [b0, b1, b2] = segment(b, 23);
    expect(reassembler.push(b0!)).toEqual([{ ok: false, reason: 'out-of-order' }]);
    expect(reassembler.push(b1!)).toEqual([]);
    expect(reassembler.push(b2!)).toEqual([{ ok: true, frame: b }]);
  });

  it('rejects a continuation without a FIRST segment', () => {
    const reassembler = new Reassembler(1000);
    expect(reassembler.push(Buffer.from('0102', 'hex'))).toEqual([{ ok: false, reason: 'no-start' }]);
    expect(reassembler.push(Buffer.from('4203', 'hex'))).toEqual([{ ok: false, reason: 'no-start' }]);
    const small = Buffer.from('hello');
    expect(reassembler.push(segment(small, 23)[0]!)).toEqual([{ ok: true, frame: small }]);
    expect(reassembler.push(Buffer.from('0104', 'hex'))).toEqual([{ ok: false, reason: 'no-start' }]);
  });

  it('drops a frame over maxFrameSize and ignores the rest of it', () => {
    const reassembler = new Reassembler(30);
    const [t0, t1, t2] = segment(counting(50), 23); // 19 + 19 > 30
    expect(reassembler.push(t0!)).toEqual([]);
    expect(reassembler.push(t1!)).toEqual([{ ok: false, reason: 'too-long' }]);
    expect(reassembler.push(t2!)).toEqual([{ ok: false, reason: 'no-start' }]);
    const exact = counting(30);
    expect(segment(exact, 23).flatMap((s) => reassembler.push(s))).toEqual([{ ok: true, frame: exact }]);
  });

  it('reports an empty segment without disturbing the frame in progress', () => {
    const reassembler = new Reassembler(1000);
    const frame = counting(40);
    const [s0, s1, s2] = segment(frame, 23);
    expect(reassembler.push(s0!)).toEqual([]);
    expect(reassembler.push(Buffer.alloc(0))).toEqual([{ ok: false, reason: 'empty' }]);
    expect(reassembler.push(s1!)).toEqual([]);
    expect(reassembler.push(s2!)).toEqual([{ ok: true, frame }]);
  });

  it('starts clean after reset()', () => {
    const reassembler = new Reassembler(1000);
    reassembler.push(segment(counting(50), 23)[0]!);
    reassembler.reset();
    const frame = counting(25);
    expect(segment(frame, 23).flatMap((s) => reassembler.push(s))).toEqual([{ ok: true, frame }]);
  });
});

describe.skipIf(!nobleAvailable())('the fake noble binding under the real noble', () => {
  const nobles: NobleUnderTest[] = [];
  afterEach(() => {
    for (const noble of nobles.splice(0)) noble.stop();
  });

  async function poweredOn(binding: FakeNobleBinding): Promise<NobleUnderTest> {
    const noble = createNobleWithFakeBinding(binding);
    nobles.push(noble);
    await noble.waitForPoweredOnAsync(1000);
    return noble;
  }

  /** Scans with the MQTT-SN filter until `device` is reported. */
  async function discover(noble: NobleUnderTest, device: FakeBleDevice, allowDuplicates = false): Promise<NoblePeripheralUnderTest> {
    const found = new Promise<NoblePeripheralUnderTest>((resolve) => {
      const listener = (peripheral: NoblePeripheralUnderTest): void => {
        if (peripheral.id !== device.id) return;
        noble.off('discover', listener);
        resolve(peripheral);
      };
      noble.on('discover', listener);
    });
    await noble.startScanningAsync([MQTTSN_SERVICE_UUID], allowDuplicates);
    return found;
  }

  async function openLink(peripheral: NoblePeripheralUnderTest): Promise<{ toGateway: NobleCharacteristicUnderTest; toDevice: NobleCharacteristicUnderTest }> {
    await peripheral.connectAsync();
    const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([MQTTSN_SERVICE_UUID], [TO_GATEWAY_UUID, TO_DEVICE_UUID]);
    const toGateway = characteristics.find((c) => c.uuid === TO_GATEWAY_UUID)!;
    const toDevice = characteristics.find((c) => c.uuid === TO_DEVICE_UUID)!;
    await toGateway.subscribeAsync();
    return { toGateway, toDevice };
  }

  function notifications(characteristic: NobleCharacteristicUnderTest): Buffer[] {
    const received: Buffer[] = [];
    characteristic.on('data', (data: Buffer, isNotification: boolean) => {
      if (isNotification) received.push(data);
    });
    return received;
  }

  async function until(condition: () => boolean, timeoutMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await pause(5);
    }
  }

  it('scans, connects, learns the MTU, discovers the profile, exchanges segmented frames, loses and regains the device', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'C0:FF:EE:00:00:01', mtu: 40, name: 'sensor-1' });
    const other = binding.addDevice({ address: 'c0:ff:ee:00:00:02', advertisesService: false, name: 'kettle' });
    const noble = await poweredOn(binding);
    expect(noble.state).toBe('poweredOn');
    expect(noble.address).toBe('00:1a:7d:da:71:13');

    // The HCI binding filters by service in software: the kettle is not reported.
    const seen: string[] = [];
    noble.on('discover', (p: NoblePeripheralUnderTest) => seen.push(p.id));
    const peripheral = await discover(noble, device);
    expect(peripheral.id).toBe('c0ffee000001');
    expect(peripheral.address).toBe('c0:ff:ee:00:00:01');
    expect(peripheral.addressType).toBe('random');
    expect(peripheral.connectable).toBe(true);
    expect(peripheral.rssi).toBe(-60);
    expect(peripheral.advertisement).toMatchObject({ localName: 'sensor-1', serviceUuids: [MQTTSN_SERVICE_UUID], serviceData: [] });
    expect(peripheral.mtu).toBeNull();
    await pause(250); // several advertising intervals: noble reports each device once per scan without allowDuplicates
    expect(seen).toEqual(['c0ffee000001']);
    expect(binding.calls.find((c) => c.method === 'startScanning')?.args).toEqual([[MQTTSN_SERVICE_UUID], false]);

    // Connecting stops the scan first, as the HCI binding does (noble sees scanStop).
    const scanStopped = once(noble, 'scanStop');
    const mtus: number[] = [];
    peripheral.on('mtu', (mtu: number) => mtus.push(mtu));
    await peripheral.connectAsync();
    await scanStopped;
    expect(binding.isScanning).toBe(false);
    expect(peripheral.state).toBe('connected');
    expect(device.connected).toBe(true);
    expect(peripheral.mtu).toBeNull(); // the MTU exchange answers after 'connect'...

    const { services, characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
      [MQTTSN_SERVICE_UUID],
      [TO_GATEWAY_UUID, TO_DEVICE_UUID],
    );
    expect(peripheral.mtu).toBe(40); // ...but before the answer to any GATT request made after it
    expect(mtus).toEqual([40]);
    expect(services.map((s) => s.uuid)).toEqual([MQTTSN_SERVICE_UUID]);
    expect(characteristics.map((c) => [c.uuid, c.properties])).toEqual([
      [TO_GATEWAY_UUID, ['notify']],
      [TO_DEVICE_UUID, ['writeWithoutResponse', 'write']],
    ]);
    const toGateway = characteristics.find((c) => c.uuid === TO_GATEWAY_UUID)!;
    const toDevice = characteristics.find((c) => c.uuid === TO_DEVICE_UUID)!;

    // The device cannot notify before the gateway subscribes.
    expect(() => device.notify(Buffer.from('0a0b', 'hex'))).toThrow(/not subscribed/);
    await toGateway.subscribeAsync();
    expect(device.subscribed).toBe(true);

    // Device → gateway: one frame, three notifications of at most MTU - 3 octets.
    const fromDevice = notifications(toGateway);
    const up = counting(100);
    const sent = device.notify(up);
    expect(sent.map((s) => s[0])).toEqual([0x80, 0x01, 0x42]);
    await until(() => fromDevice.length === 3);
    expect(fromDevice).toEqual(sent);
    expect(fromDevice.every((s) => s.length <= 37)).toBe(true);
    const reassembler = new Reassembler(65_535);
    expect(fromDevice.flatMap((s) => reassembler.push(s))).toEqual([{ ok: true, frame: up }]);

    // Gateway → device: each segment written with response and acknowledged.
    const down = counting(80, 200);
    const segments = segment(down, peripheral.mtu!);
    for (const s of segments) await toDevice.writeAsync(s, false);
    expect(device.segmentsReceived).toEqual(segments);
    expect(device.received).toEqual([down]);
    expect(device.oversizedWrites).toEqual([]);
    await expect(device.nextFrame(100)).resolves.toEqual(down);
    // Without response: noble still gets 'write' once the PDU is out.
    await toDevice.writeAsync(segment(Buffer.from('0201', 'hex'), 40)[0]!, true);
    expect(device.received.at(-1)).toEqual(Buffer.from('0201', 'hex'));

    // The device hangs up: the peripheral reports the HCI reason.
    const disconnected = once(peripheral, 'disconnect');
    device.disconnect();
    expect(await disconnected).toEqual([HCI.REMOTE_USER_TERMINATED]);
    expect(peripheral.state).toBe('disconnected');
    expect(device.connected).toBe(false);

    // Asleep: not discovered when scanning again, until it advertises.
    const again = discover(noble, device);
    await pause(250);
    expect(seen).toEqual(['c0ffee000001']);
    device.advertise();
    const rediscovered = await again;
    expect(rediscovered).toBe(peripheral); // noble keeps the Peripheral object per id
    expect(seen).toEqual(['c0ffee000001', 'c0ffee000001']);

    // Reconnect: fresh characteristics, subscribe again, traffic flows again.
    const link = await openLink(peripheral);
    expect(device.connections).toBe(2);
    const fromDeviceAgain = notifications(link.toGateway);
    const up2 = counting(38, 9);
    device.notify(up2);
    await until(() => fromDeviceAgain.length === 2);
    const r2 = new Reassembler(65_535);
    expect(fromDeviceAgain.flatMap((s) => r2.push(s))).toEqual([{ ok: true, frame: up2 }]);
    expect(other.connectAttempts).toBe(0);
  });

  it('reports devices without the service only when scanning without a filter', async () => {
    const binding = new FakeNobleBinding();
    const kettle = binding.addDevice({ address: 'c0:ff:ee:00:00:02', advertisesService: false, name: 'kettle' });
    const noble = await poweredOn(binding);
    const found = once(noble, 'discover');
    await noble.startScanningAsync([], false);
    const [peripheral] = (await found) as [NoblePeripheralUnderTest];
    expect(peripheral.id).toBe(kettle.id);
    expect(peripheral.advertisement.serviceUuids).toEqual([]);
  });

  it('repeats reports every advertising interval with allowDuplicates', async () => {
    const binding = new FakeNobleBinding({ advertiseIntervalMs: 20 });
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:01' });
    const noble = await poweredOn(binding);
    let reports = 0;
    noble.on('discover', () => reports++);
    await discover(noble, device, true);
    await pause(150);
    expect(reports).toBeGreaterThanOrEqual(4);
  });

  it('fails refused connection attempts with HCI status 0x3e, then connects', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:03' });
    const noble = await poweredOn(binding);
    const peripheral = await discover(noble, device);
    device.refuseConnections(2);
    await expect(peripheral.connectAsync()).rejects.toThrow('Connection Failed to be Established (0x3e)');
    expect(peripheral.state).toBe('error');
    await expect(peripheral.connectAsync()).rejects.toThrow(/0x3e/);
    await peripheral.connectAsync();
    expect(peripheral.state).toBe('connected');
    expect(device.connectAttempts).toBe(3);
    expect(device.connections).toBe(1);
  });

  it('keeps a connection attempt to a silent device pending until it advertises (no timeout), or until cancelConnect', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:04' });
    const noble = await poweredOn(binding);
    const peripheral = await discover(noble, device);
    device.stopAdvertising();

    let settled = false;
    const connecting = peripheral.connectAsync().finally(() => (settled = true));
    await pause(150);
    expect(settled).toBe(false);
    expect(peripheral.state).toBe('connecting');
    device.advertise();
    await connecting;
    expect(peripheral.state).toBe('connected');

    await peripheral.disconnectAsync();
    device.stopAdvertising();
    const cancelled = peripheral.connectAsync();
    await pause(50);
    peripheral.cancelConnect();
    await expect(cancelled).rejects.toThrow('connection canceled!');
    expect(peripheral.state).toBe('disconnected');
    expect(binding.calls.some((c) => c.method === 'cancelConnect')).toBe(true);
    device.advertise();
    await pause(50);
    expect(device.connected).toBe(false); // the cancelled attempt is gone for good
  });

  it('disconnects at the gateway with reason 0x16, after which the device advertises again', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:05' });
    const noble = await poweredOn(binding);
    const peripheral = await discover(noble, device);
    await openLink(peripheral);
    const reasons: unknown[] = [];
    peripheral.on('disconnect', (reason: unknown) => reasons.push(reason));
    await peripheral.disconnectAsync();
    expect(reasons).toEqual([HCI.LOCAL_HOST_TERMINATED]);
    expect(device.connected).toBe(false);
    expect(device.subscribed).toBe(false);
    expect(device.advertising).toBe(true);
    await expect(discover(noble, device)).resolves.toBe(peripheral);
  });

  it('never settles a write the device answers with an ATT error, until the link drops', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:06' });
    const noble = await poweredOn(binding);
    const peripheral = await discover(noble, device);
    const { toDevice } = await openLink(peripheral);
    device.withholdWriteAcks(1);
    let settled = false;
    const write = toDevice.writeAsync(Buffer.from('c00201', 'hex'), false).finally(() => (settled = true));
    write.catch(() => undefined);
    await pause(100);
    expect(settled).toBe(false);
    expect(device.received).toEqual([Buffer.from('0201', 'hex')]);
    device.disconnect(HCI.CONNECTION_TIMEOUT);
    await expect(write).rejects.toThrow('Disconnected 8');
  });

  it('drops links with reason 0x03 and reports poweredOff when the adapter goes away', async () => {
    const binding = new FakeNobleBinding();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:07' });
    const noble = await poweredOn(binding);
    const peripheral = await discover(noble, device);
    await openLink(peripheral);
    const disconnected = once(peripheral, 'disconnect');
    const state = once(noble, 'stateChange');
    binding.setState('poweredOff');
    expect(await disconnected).toEqual([HCI.HARDWARE_FAILURE]);
    expect(await state).toEqual(['poweredOff']);
    expect(device.connected).toBe(false);
    await expect(noble.startScanningAsync([MQTTSN_SERVICE_UUID], false)).rejects.toThrow(/poweredOff/);
  });

  it.each(['unsupported', 'unauthorized', 'poweredOff'] as const)('reports an adapter that is %s', async (adapterState) => {
    const binding = new FakeNobleBinding({ state: adapterState });
    const noble = createNobleWithFakeBinding(binding);
    nobles.push(noble);
    const [state] = await once(noble, 'stateChange');
    expect(state).toBe(adapterState);
    expect(noble.state).toBe(adapterState);
    await expect(noble.startScanningAsync([MQTTSN_SERVICE_UUID], false)).rejects.toThrow(`state is ${adapterState}`);
    expect(binding.calls.some((c) => c.method === 'startScanning')).toBe(false);
  });

  it('stops cleanly: no events after noble.stop(), timers cleared', async () => {
    const binding = new FakeNobleBinding({ advertiseIntervalMs: 10 });
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:08' });
    const noble = await poweredOn(binding);
    await discover(noble, device, true);
    let events = 0;
    noble.on('discover', () => events++);
    noble.stop();
    await pause(60);
    expect(events).toBe(0);
    expect(binding.isScanning).toBe(false);
  });
});
