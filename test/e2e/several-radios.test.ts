import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode, type InnerPacket, type Packet } from '../../src/codec/index.js';
import { readConfigFile, parseConfig } from '../../src/config/load.js';
import { encodeFrame as xbeeFrame } from '../../radios/xbee-frames.js';
import type { UdpRadio } from '../../radios/udp.js';
import mqtt from 'mqtt';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway } from '../helpers/gateway.js';
import { serialCodec, xbeeModuleCodec } from '../helpers/line-codecs.js';
import { LineDevice } from '../helpers/line-device.js';
import { mosquittoSkipReason, startMosquitto } from '../helpers/mosquitto.js';
import { socatSkipReason, startPtyPair } from '../helpers/pty-pair.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = mosquittoSkipReason() ?? socatSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The next frame for `node` behind the forwarder, unwrapped; waits up to `timeoutMs`. */
async function nextFor(dev: LineDevice, node: number, type: Packet['type'], seen: Set<Buffer>, timeoutMs = 3000): Promise<InnerPacket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of dev.frames) {
      if (seen.has(frame)) continue;
      const result = decode(frame);
      if (result.ok && result.packet.type === 'encapsulated' && result.packet.wirelessNodeId.readUInt16BE(0) === node && result.packet.packet.type === type) {
        seen.add(frame);
        return result.packet.packet;
      }
    }
    if (Date.now() > deadline) throw new Error(`no ${type} for node ${node} within ${timeoutMs} ms`);
    await pause(20);
  }
}

describe.skipIf(skip)('several radios and forwarders in one gateway', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('two devices behind one forwarder on a serial line each get their own session', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const pty = await startPtyPair();
    cleanup.push(() => pty.stop());
    const gateway = await startTestGateway(broker.url, { radios: [`serial://${pty.gatewayPath}?framing=slip`] });
    cleanup.push(() => gateway.stop());
    const watcher = await BrokerClient.connect(broker.url);
    cleanup.push(() => watcher.close());
    await watcher.subscribe('fwd/#', 1);
    const forwarder = await LineDevice.open(pty.devicePath, serialCodec('slip'));
    cleanup.push(() => forwarder.close());
    const seen = new Set<Buffer>();
    const relay = (node: number, packet: InnerPacket): Promise<void> =>
      forwarder.sendBytes(serialCodec('slip').wrap(encode({ type: 'encapsulated', radius: 1, wirelessNodeId: Buffer.from([node >> 8, node & 0xff]), packet })));

    for (const node of [1, 2]) {
      await relay(node, { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: `node-${node}` });
      expect(await nextFor(forwarder, node, 'connack', seen)).toEqual({ type: 'connack', returnCode: 0 });
    }
    // Each registers the same name and publishes: two sessions, two topic tables, answers to the right node.
    for (const node of [1, 2]) {
      await relay(node, { type: 'register', topicId: 0, msgId: 10 + node, topicName: `fwd/node-${node}` });
      const regack = await nextFor(forwarder, node, 'regack', seen);
      expect(regack).toMatchObject({ msgId: 10 + node, returnCode: 0 });
      await relay(node, { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: (regack as { topicId: number }).topicId }, msgId: 20 + node, payload: Buffer.from(`from node ${node}`) });
      expect(await nextFor(forwarder, node, 'puback', seen)).toMatchObject({ msgId: 20 + node, returnCode: 0 });
    }
    const arrived = await watcher.waitFor(2);
    expect(arrived.map((m) => `${m.topic}=${m.payload.toString()}`).sort()).toEqual(['fwd/node-1=from node 1', 'fwd/node-2=from node 2']);
    const sessions = gateway.running.gateway.sessions;
    expect(sessions.get('node-1')?.peer.key).not.toBe(sessions.get('node-2')?.peer.key);
    expect(sessions.get('node-1')?.peer.address).toBe(sessions.get('node-2')?.peer.address); // the same forwarder
  });

  it('UDP, serial and XBee radios from one config file: one device on each reaches the broker', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const serialPty = await startPtyPair();
    cleanup.push(() => serialPty.stop());
    const xbeePty = await startPtyPair();
    cleanup.push(() => xbeePty.stop());
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-radios-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const configPath = join(dir, 'gateway.yaml');
    await writeFile(
      configPath,
      [
        'radios:',
        '  - udp://127.0.0.1:0',
        `  - serial://${serialPty.gatewayPath}?baud=115200&framing=slip`,
        `  - xbee://${xbeePty.gatewayPath}?baud=9600&api=2`,
        `broker: ${broker.url}`,
        'dataDir: none',
        'logLevel: silent',
      ].join('\n'),
    );
    const config = parseConfig(await readConfigFile(configPath));
    const gateway = await startTestGateway(broker.url, config);
    cleanup.push(() => gateway.stop());
    const watcher = await BrokerClient.connect(broker.url);
    cleanup.push(() => watcher.close());
    // Short topic names (two characters) are broker topics as they are.
    for (const name of ['mu', 'ms', 'mx']) await watcher.subscribe(name, 1);

    const udp = await RawDevice.open((gateway.running.radios[0] as UdpRadio).port);
    cleanup.push(async () => udp.close());
    const serial = await LineDevice.open(serialPty.devicePath, serialCodec('slip'));
    cleanup.push(() => serial.close());
    const module = xbeeModuleCodec(2, '0013a200400a0127');
    const xbee = await LineDevice.open(xbeePty.devicePath, module, 9600);
    cleanup.push(() => xbee.close());

    const publish = (name: string): Packet => ({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name }, msgId: 7, payload: Buffer.from(`via ${name}`) });
    await udp.connect('on-udp');
    udp.send(publish('mu'));
    expect((await udp.expect('puback')).returnCode).toBe(0);
    await serial.connect('on-serial');
    await serial.send(publish('ms'));
    expect((await serial.expect('puback')).returnCode).toBe(0);
    await xbee.connect('on-xbee');
    await xbee.send(publish('mx'));
    expect((await xbee.expect('puback')).returnCode).toBe(0);

    const arrived = await watcher.waitFor(3);
    expect(arrived.map((m) => `${m.topic}=${m.payload.toString()}`).sort()).toEqual(['ms=via ms', 'mu=via mu', 'mx=via mx']);
    // A device is radio + address: three sessions on three radios.
    const peers = ['on-udp', 'on-serial', 'on-xbee'].map((id) => gateway.running.gateway.sessions.get(id)?.peer.radio.name);
    expect(new Set(peers).size).toBe(3);
    // The XBee device answered through its 64-bit address; an 802.15.4 RX64 frame works too.
    await xbee.sendBytes(xbeeFrame({ type: 'rx64', src64: '0013a200400a0127', rssi: -40, options: 0, data: encode({ type: 'pingreq' }) }, 2));
    await xbee.expect('pingresp');
    expect(module.requests.every((request) => request.dest64 === '0013a200400a0127')).toBe(true);
  });

  it('an XBee 802.15.4 frame\'s RSSI reaches the broker as an MQTT 5 user property', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const pty = await startPtyPair();
    cleanup.push(() => pty.stop());
    const gateway = await startTestGateway(broker.url, { radios: [`xbee://${pty.gatewayPath}?api=2`], broker: { url: broker.url, protocol: '5', userProperties: true } });
    cleanup.push(() => gateway.stop());
    const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanup.push(() => subscriber.endAsync(true));
    const received = new Promise<Record<string, unknown> | undefined>((resolve) => subscriber.on('message', (_topic, _payload, packet) => resolve(packet.properties?.userProperties as Record<string, unknown> | undefined)));
    await subscriber.subscribeAsync('rs', { qos: 1 });
    const address = '0013a200400a0199';
    const module = xbeeModuleCodec(2, address);
    const dev = await LineDevice.open(pty.devicePath, module, 9600);
    cleanup.push(() => dev.close());
    const rx64 = (packet: Packet): Buffer => xbeeFrame({ type: 'rx64', src64: address, rssi: -67, options: 0, data: encode(packet) }, 2);
    await dev.sendBytes(rx64({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'weak-signal' }));
    await dev.expect('connack');
    await dev.sendBytes(rx64({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'rs' }, msgId: 1, payload: Buffer.from('x') }));
    await dev.expect('puback');
    expect(await received).toMatchObject({ clientId: 'weak-signal', address, rssi: '-67', radio: `xbee://${pty.gatewayPath}?api=2` });
  });
});
