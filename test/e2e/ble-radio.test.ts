import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode, type Packet, type PacketType } from '../../src/codec/index.js';
import { BleRadio } from '../../radios/ble.js';
import type { NobleLike } from '../../radios/noble-types.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { capturingLogger, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createNobleWithFakeBinding, FakeNobleBinding, nobleAvailable, type AdapterState, type FakeBleDevice } from '../helpers/fake-noble-binding.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

// CI installs noble the way the README says; there a missing noble is a failure, not a skip.
if (process.env.MQTTSN_REQUIRE_BLE === '1' && !nobleAvailable()) throw new Error('MQTTSN_REQUIRE_BLE=1 but @stoprocent/noble is not installed');
const skip = mosquittoSkipReason() ?? (nobleAvailable() ? undefined : '@stoprocent/noble is not installed');

type PacketOf<T extends PacketType> = Extract<Packet, { type: T }>;

/** The device's firmware side: MQTT-SN frames out as notifications, in from the gateway's writes. */
async function next<T extends PacketType>(device: FakeBleDevice, type: T, timeoutMs = 3000): Promise<PacketOf<T>> {
  for (;;) {
    const result = decode(await device.nextFrame(timeoutMs));
    if (!result.ok) throw new Error(`the gateway wrote an undecodable frame: ${result.error.code}`);
    if (result.packet.type === type) return result.packet as PacketOf<T>;
    throw new Error(`expected ${type} from the gateway, got ${result.packet.type}`);
  }
}
const send = (device: FakeBleDevice, packet: Packet): void => void device.notify(encode(packet));

describe.skipIf(skip)('BLE radio: real noble over a fake binding, real gateway, real mosquitto', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function setUp(options: { url?: string; state?: AdapterState } = {}): Promise<{ binding: FakeNobleBinding; gateway: TestGateway; broker: Mosquitto; watcher: BrokerClient; lines: ReturnType<typeof capturingLogger>['lines'] }> {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const watcher = await BrokerClient.connect(broker.url);
    cleanup.push(() => watcher.close());
    await watcher.subscribe('ble/#', 1);
    const binding = new FakeNobleBinding({ state: options.state ?? 'poweredOn', advertiseIntervalMs: 50 });
    const { logger, lines } = capturingLogger();
    const gateway = await startTestGateway(broker.url, { radios: [options.url ?? 'ble://hci0'] }, logger, {
      makeRadio: async (url) => new BleRadio({ url, loadNoble: async () => createNobleWithFakeBinding<NobleLike>(binding), retryMs: 100, maxRetryMs: 200 }),
    });
    cleanup.push(() => gateway.stop());
    return { binding, gateway, broker, watcher, lines };
  }

  it('a BLE device publishes QoS 1 and receives a subscribed message, frames segmented over a 23-byte MTU', async () => {
    const { binding, gateway, watcher } = await setUp();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:01', mtu: 23, name: 'greenhouse-1' });
    await device.whenSubscribed(5000);

    send(device, { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'ble-greenhouse-sensor-1' });
    expect(await next(device, 'connack')).toEqual({ type: 'connack', returnCode: 0 });
    send(device, { type: 'register', topicId: 0, msgId: 1, topicName: 'ble/greenhouse/sensor-1/temperature' });
    const regack = await next(device, 'regack');
    expect(regack.returnCode).toBe(0);
    const reading = Buffer.from(JSON.stringify({ t: 21.5, h: 40.2, battery: 3.31, seq: 1, note: 'more than one segment' }));
    send(device, { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: regack.topicId }, msgId: 2, payload: reading });
    expect(await next(device, 'puback')).toMatchObject({ msgId: 2, returnCode: 0 });
    const [arrived] = await watcher.waitFor(1, (m) => m.topic === 'ble/greenhouse/sensor-1/temperature');
    expect(arrived?.payload).toEqual(reading);

    send(device, { type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { kind: 'name', name: 'ble/greenhouse/sensor-1/cmd' } });
    const suback = await next(device, 'suback');
    expect(suback.returnCode).toBe(0);
    const command = Buffer.alloc(100, 0x7e); // 100 bytes: six segments toward the device
    await watcher.publish('ble/greenhouse/sensor-1/cmd', command, 1);
    const publish = await next(device, 'publish');
    expect(publish.payload).toEqual(command);
    send(device, { type: 'puback', topicId: suback.topicId, msgId: publish.msgId, returnCode: 0 });

    expect(device.oversizedWrites).toEqual([]); // every write fit MTU - 3
    expect(device.segmentsReceived.length).toBeGreaterThan(device.received.length); // really segmented
    const radio = gateway.running.gateway.status().radios['ble://hci0']!;
    expect(radio).toMatchObject({ connected: 1, connects: 1, droppedSegments: 0 });
  });

  it('a sleeping device drops its BLE link, comes back, wakes with PINGREQ and gets what arrived meanwhile', async () => {
    const { binding, watcher, gateway } = await setUp();
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:02', mtu: 40 });
    await device.whenSubscribed(5000);
    send(device, { type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 30, clientId: 'ble-sleeper' });
    await next(device, 'connack');
    send(device, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'ble/sleeper/cmd' } });
    const { topicId } = await next(device, 'suback');
    send(device, { type: 'disconnect', duration: 600 });
    expect(await next(device, 'disconnect')).toEqual({ type: 'disconnect' });
    device.disconnect(); // radio off to save power

    for (const n of [1, 2, 3]) await watcher.publish('ble/sleeper/cmd', `while asleep ${n}`, 1);
    const session = gateway.running.gateway.sessions.get('ble-sleeper');
    for (let i = 0; i < 50 && session?.heldCount !== 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect({ state: session?.state, held: session?.heldCount }).toEqual({ state: 'asleep', held: 3 });

    device.advertise(); // awake again
    await device.whenSubscribed(5000);
    send(device, { type: 'pingreq', clientId: 'ble-sleeper' });
    const payloads: string[] = [];
    for (;;) {
      const result = decode(await device.nextFrame(3000));
      if (!result.ok) throw new Error('undecodable frame');
      const packet = result.packet;
      if (packet.type === 'pingresp') break;
      if (packet.type === 'publish') {
        payloads.push(packet.payload.toString());
        send(device, { type: 'puback', topicId, msgId: packet.msgId, returnCode: 0 });
      }
    }
    expect(payloads).toEqual(['while asleep 1', 'while asleep 2', 'while asleep 3']);
    expect(device.connections).toBe(2);
  });

  it('retries a device whose connection fails, with backoff, and keeps to maxConnections', async () => {
    const { binding, gateway } = await setUp({ url: 'ble://hci0?maxConnections=1' });
    const first = binding.addDevice({ address: 'c0:ff:ee:00:00:03' });
    first.refuseConnections(2);
    await first.whenSubscribed(5000);
    expect(first.connectAttempts).toBe(3);
    const second = binding.addDevice({ address: 'c0:ff:ee:00:00:04' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(second.connected).toBe(false); // the one slot is taken
    first.disconnect();
    first.stopAdvertising();
    await second.whenSubscribed(5000); // the slot is free
    const counters = (): Record<string, number> | undefined => gateway.running.gateway.status().radios['ble://hci0?maxConnections=1'];
    for (let i = 0; i < 50 && counters()?.connects !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(counters()).toMatchObject({ connectFailures: 2, connects: 2, disconnects: 1, connected: 1 });
  });

  it('an adapter that is off is reported with what to do, and used once it powers on', async () => {
    const { binding, lines } = await setUp({ state: 'poweredOff' });
    const errors = (): string[] => lines().filter((line) => line.msg === 'radio error').map((line) => line.err ?? '');
    expect(errors()[0]).toMatch(/the Bluetooth adapter is off or missing\. Check with: hciconfig -a .*rfkill unblock bluetooth/);
    const device = binding.addDevice({ address: 'c0:ff:ee:00:00:05' });
    binding.setState('poweredOn');
    await device.whenSubscribed(5000);
  });

  it('an adapter noble may not use names setcap', async () => {
    const { lines } = await setUp({ state: 'unauthorized' });
    expect(lines().find((line) => line.msg === 'radio error')?.err).toMatch(/sudo setcap cap_net_raw,cap_net_admin\+eip \$\(readlink -f \$\(which node\)\)/);
  });
});
