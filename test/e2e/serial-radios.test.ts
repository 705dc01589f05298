import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { encodeFrame as xbeeFrame } from '../../radios/xbee-frames.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { capturingLogger, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawDevice } from '../helpers/raw-device.js';
import type { UdpRadio } from '../../radios/udp.js';
import type { SerialRadio } from '../../radios/serial.js';
import { explainOpenError } from '../../radios/serial-link.js';
import { createRadio } from '../../src/radios.js';
import { serialCodec, xbeeModuleCodec } from '../helpers/line-codecs.js';
import { LineDevice } from '../helpers/line-device.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { socatSkipReason, startPtyPair, type PtyPair } from '../helpers/pty-pair.js';

const skip = mosquittoSkipReason() ?? socatSkipReason();
const DEVICE_64 = '0013a20040a1b2c3';

interface Variant {
  readonly name: string;
  readonly url: (path: string) => string;
  readonly codec: () => ReturnType<typeof serialCodec> | ReturnType<typeof xbeeModuleCodec>;
}

const variants: Variant[] = [
  { name: 'serial, raw framing', url: (path) => `serial://${path}?baud=115200&framing=raw`, codec: () => serialCodec('raw') },
  { name: 'serial, SLIP framing', url: (path) => `serial://${path}?baud=115200&framing=slip`, codec: () => serialCodec('slip') },
  { name: 'XBee API mode 1', url: (path) => `xbee://${path}?baud=9600&api=1`, codec: () => xbeeModuleCodec(1, DEVICE_64) },
  { name: 'XBee API mode 2 (escaped)', url: (path) => `xbee://${path}?baud=9600&api=2`, codec: () => xbeeModuleCodec(2, DEVICE_64) },
];

describe.skipIf(skip)('devices on serial radios reach the broker (socat pty pairs, real mosquitto)', () => {
  let broker: Mosquitto;
  let watcher: BrokerClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('line/#', 1);
  });
  afterAll(async () => {
    await watcher?.close();
    await broker?.stop();
  });

  describe.each(variants)('$name', ({ name, url, codec }) => {
    let pty: PtyPair;
    let gateway: TestGateway;
    let dev: LineDevice;
    let line: ReturnType<Variant['codec']>;
    const tag = name.replace(/\W+/g, '-');

    beforeAll(async () => {
      pty = await startPtyPair();
      gateway = await startTestGateway(broker.url, { radios: [url(pty.gatewayPath)] });
      line = codec();
      dev = await LineDevice.open(pty.devicePath, line);
    });
    afterAll(async () => {
      await dev?.close();
      await gateway?.stop();
      await pty?.stop();
    });

    it('CONNECT, REGISTER, PUBLISH QoS 1 to the broker, and a SUBSCRIBE receiving from it', async () => {
      await dev.connect(`dev-${tag}`);
      await dev.send({ type: 'register', topicId: 0, msgId: 1, topicName: `line/${tag}/temp` });
      const regack = await dev.expect('regack');
      expect(regack.returnCode).toBe(0);
      await dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: regack.topicId }, msgId: 2, payload: Buffer.from('21.5') });
      expect(await dev.expect('puback')).toMatchObject({ msgId: 2, returnCode: 0, topicId: regack.topicId });
      const [message] = await watcher.waitFor(1, (m) => m.topic === `line/${tag}/temp`);
      expect(message?.payload.toString()).toBe('21.5');

      await dev.send({ type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { kind: 'name', name: `line/${tag}/cmd` } });
      const suback = await dev.expect('suback');
      expect(suback.returnCode).toBe(0);
      await watcher.publish(`line/${tag}/cmd`, 'open valve', 1);
      const publish = await dev.expect('publish');
      expect(publish).toMatchObject({ qos: 1, topic: { kind: 'normal', id: suback.topicId } });
      expect(publish.payload.toString()).toBe('open valve');
      await dev.send({ type: 'puback', topicId: suback.topicId, msgId: publish.msgId, returnCode: 0 });
    });

    it('reads frames split across reads, two frames in one read, and garbage between frames', async () => {
      const ping = line.wrap(encode({ type: 'pingreq' }));
      const publish = (n: number): Buffer => line.wrap(encode({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'zz' }, msgId: 0, payload: Buffer.from(`piece ${n}`) }));
      // Split: the first PINGREQ a byte at a time, then a PUBLISH in three pieces.
      await dev.sendInPieces(ping, Array.from({ length: ping.length }, () => 1), 5);
      await dev.expect('pingresp');
      const first = publish(1);
      await dev.sendInPieces(first, [1, 3, first.length - 4]);
      // Two frames in one write, garbage before and between them (no 0x7E/0xC0 so it is plain noise).
      const noise = Buffer.from([0x00, 0x00, 0x00]);
      await dev.sendBytes(Buffer.concat([noise, publish(2), noise, publish(3)]));
      await dev.send({ type: 'pingreq' });
      await dev.expect('pingresp');
      const gatewayStatus = gateway.running.gateway.status();
      const radio = Object.values(gatewayStatus.radios)[0]!;
      if (name.includes('SLIP')) {
        // Between two ENDs everything is a frame candidate: the noise arrives as two frames that fail to decode.
        expect(gatewayStatus.stats.malformed).toBe(2);
      } else {
        expect(gatewayStatus.stats.malformed).toBe(0); // the framer dropped the noise before decode
        expect(radio.droppedBytes).toBeGreaterThanOrEqual(6);
      }
      expect(radio.framesIn).toBeGreaterThanOrEqual(6);
    });

    it.runIf(name.startsWith('XBee'))('drops a frame with a bad checksum and reads the next one; counts transmit status', async () => {
      const xbee = line as ReturnType<typeof xbeeModuleCodec>;
      const good = xbee.receivePacket(encode({ type: 'pingreq' }));
      const bad = Buffer.from(good);
      bad[bad.length - 1] = (bad[bad.length - 1]! + 1) & 0xff;
      if (bad[bad.length - 1] === 0x7e || bad[bad.length - 1] === 0x7d) bad[bad.length - 1] = 0x01;
      const before = xbee.requests.length;
      await dev.sendBytes(Buffer.concat([bad, good]));
      await dev.expect('pingresp');
      expect(xbee.requests.length).toBe(before + 1); // one answer: the bad frame went nowhere
      const radio = Object.values(gateway.running.gateway.status().radios)[0]!;
      expect(radio.badChecksum).toBe(1);
      // Every answer went to the device's 64-bit address with a frame ID asking for status.
      const request = xbee.requests.at(-1)!;
      expect(request).toMatchObject({ dest64: DEVICE_64, dest16: 'fffe' });
      expect(request.frameId).toBeGreaterThan(0);
      const apiMode = name.includes('mode 1') ? 1 : 2;
      await dev.sendBytes(xbeeFrame({ type: 'transmitStatus', frameId: request.frameId, dest16: '1234', retries: 0, deliveryStatus: 0x00, discoveryStatus: 0 }, apiMode));
      await dev.sendBytes(xbeeFrame({ type: 'transmitStatus', frameId: request.frameId, dest16: '1234', retries: 3, deliveryStatus: 0x21, discoveryStatus: 0 }, apiMode));
      await dev.send({ type: 'pingreq' });
      await dev.expect('pingresp');
      const counted = Object.values(gateway.running.gateway.status().radios)[0]!;
      expect([counted.delivered, counted.deliveryFailed]).toEqual([1, 1]);
    });
  });
});

describe.skipIf(skip)('serial radio faults', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('a missing port is reported with the fix, the gateway serves its other radios, and the port is used once it appears', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const pty = await startPtyPair();
    await pty.stop(); // the paths are now free: as if the USB radio were not plugged in
    const { logger, lines } = capturingLogger();
    const gateway = await startTestGateway(broker.url, { radios: ['udp://127.0.0.1:0', `serial://${pty.gatewayPath}?framing=slip`] }, logger);
    cleanup.push(() => gateway.stop());
    const radioErrors = (): string[] => lines().filter((line) => line.msg === 'radio error').map((line) => line.err ?? '');
    expect(radioErrors()[0]).toMatch(/serial port .*gateway does not exist\. Is the radio plugged in\? List ports with: ls -l \/dev\/serial\/by-id\/.*\(retrying in \d+ s\)/);
    // The UDP radio serves meanwhile.
    const udpPort = (gateway.running.radios[0] as UdpRadio).port;
    const udpDevice = await RawDevice.open(udpPort);
    cleanup.push(async () => udpDevice.close());
    await udpDevice.connect('udp-while-serial-missing');
    // Plugged in: the same port path appears, and the radio opens it on its next attempt.
    const replugged = await startPtyPair(pty.dir);
    cleanup.push(() => replugged.stop());
    const dev = await LineDevice.open(replugged.devicePath, serialCodec('slip'));
    cleanup.push(() => dev.close());
    for (let i = 0; i < 150 && !(gateway.running.radios[1] as SerialRadio).isOpen; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await dev.connect('serial-after-replug');
  }, 30_000);

  it('a port that goes away (unplugged) is reported and reopened when it is back', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const pty = await startPtyPair();
    const { logger, lines } = capturingLogger();
    const gateway = await startTestGateway(broker.url, { radios: [`serial://${pty.gatewayPath}`] }, logger);
    cleanup.push(() => gateway.stop());
    let dev = await LineDevice.open(pty.devicePath, serialCodec('slip'));
    await dev.connect('unplugged-dev');
    await dev.close();
    await pty.stop();
    for (let i = 0; i < 30 && !lines().some((line) => line.msg === 'radio error'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines().find((line) => line.msg === 'radio error')?.err).toMatch(/closed \(unplugged\?\); reopening when it is back/);
    const back = await startPtyPair(pty.dir);
    cleanup.push(() => back.stop());
    dev = await LineDevice.open(back.devicePath, serialCodec('slip'));
    cleanup.push(() => dev.close());
    for (let i = 0; i < 150 && !(gateway.running.radios[0] as SerialRadio).isOpen; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await dev.connect('unplugged-dev'); // same client ID: its session continues
    expect((gateway.running.radios[0] as SerialRadio).counters().opens).toBe(2);
  }, 30_000);

  it('names the problem in a radio URL: bad baud rate, unknown option, bad framing or API mode', async () => {
    await expect(createRadio('serial:///dev/ttyUSB0?baud=12345')).rejects.toThrow(/baud=12345 is not a standard rate; use one of 1200, .*115200/);
    await expect(createRadio('serial:///dev/ttyUSB0?baud=115200&framming=slip')).rejects.toThrow(/unknown option "framming"; allowed: baud, framing/);
    await expect(createRadio('serial:///dev/ttyUSB0?framing=hdlc')).rejects.toThrow(/framing=hdlc is not one of raw, slip/);
    await expect(createRadio('xbee:///dev/ttyUSB0?api=3')).rejects.toThrow(/api=3 is not 1 or 2/);
    await expect(createRadio('serial://')).rejects.toThrow(/names no serial port/);
  });

  it('explains permission and busy-port errors with the fix', () => {
    // As serialport words them; root (as in CI) can open any pty, so these cannot be provoked here.
    expect(explainOpenError('serial:///dev/ttyUSB0', '/dev/ttyUSB0', new Error('Error: Permission denied, cannot open /dev/ttyUSB0')).message).toMatch(/no permission to open \/dev\/ttyUSB0\. Add the gateway's user to the dialout group: sudo usermod -aG dialout \$USER/);
    expect(explainOpenError('serial:///dev/ttyUSB0', '/dev/ttyUSB0', new Error('Error Resource temporarily unavailable Cannot lock port')).message).toMatch(/is in use by another program/);
  });
});
