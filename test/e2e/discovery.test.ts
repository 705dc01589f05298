import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { startTestGateway } from '../helpers/gateway.js';
import { freeUdpPort } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

/** A UDP listener on the loopback broadcast address's port: what a device hears over the air. */
async function listener(port: number): Promise<{ frames: Array<{ bytes: string; at: number }>; close: () => void }> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const frames: Array<{ bytes: string; at: number }> = [];
  socket.on('message', (frame) => frames.push({ bytes: frame.toString('hex'), at: Date.now() }));
  await new Promise<void>((resolve) => socket.bind(port, '0.0.0.0', resolve));
  return { frames, close: () => socket.close() };
}

describe('gateway discovery (MQTT-SN 1.2 §6.1)', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('ADVERTISE is broadcast at start and every T_ADV, with the gateway ID and the period', async () => {
    const broker = await startEmbeddedBroker(0);
    cleanup.push(() => broker.close());
    const heard = await freeUdpPort();
    const air = await listener(heard);
    cleanup.push(air.close);
    const gateway = await startTestGateway(broker.url, { radios: [`udp://127.0.0.1:0?broadcast=127.255.255.255:${heard}`], gatewayId: 7, discovery: { advertiseSeconds: 1, gwinfoMaxDelayMs: 0 } });
    cleanup.push(() => gateway.stop());
    for (let i = 0; i < 40 && air.frames.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    // 05 00 GwId Duration(2): length 5, ADVERTISE, gateway 7, next one in 1 s.
    expect(air.frames.slice(0, 2).map((f) => f.bytes)).toEqual(['05000700' + '01', '05000700' + '01']);
    const gap = air.frames[1]!.at - air.frames[0]!.at;
    expect(gap).toBeGreaterThan(800);
    expect(gap).toBeLessThan(1500);
  });

  it('SEARCHGW is answered with GWINFO after a random delay within the configured bound, once per asker', async () => {
    const broker = await startEmbeddedBroker(0);
    cleanup.push(() => broker.close());
    const gateway = await startTestGateway(broker.url, { gatewayId: 9, discovery: { advertiseSeconds: 0, gwinfoMaxDelayMs: 400 } });
    cleanup.push(() => gateway.stop());
    const dev = await RawDevice.open(gateway.port);
    cleanup.push(() => dev.close());
    const asked = Date.now();
    dev.sendBytes(Buffer.from('030100', 'hex')); // SEARCHGW, radius 0
    dev.sendBytes(Buffer.from('030100', 'hex')); // asked twice within the delay: answered once
    const gwinfo = await dev.expect('gwinfo', 2000);
    expect(Date.now() - asked).toBeLessThan(900);
    expect(gwinfo).toEqual({ type: 'gwinfo', gwId: 9, gwAdd: Buffer.alloc(0) });
    expect(dev.frames.map((frame) => frame.toString('hex'))).toEqual(['030209']); // 03 02 GwId, no address
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(dev.frames).toHaveLength(1);
  });

  it('a gateway without its broker does not advertise, and advertises as soon as the broker is back', async () => {
    const brokerPort = await freeUdpPort(); // a TCP port number nobody listens on yet
    const heard = await freeUdpPort();
    const air = await listener(heard);
    cleanup.push(air.close);
    const gateway = await startTestGateway(`mqtt://127.0.0.1:${brokerPort}`, {
      radios: [`udp://127.0.0.1:0?broadcast=127.255.255.255:${heard}`],
      broker: { url: `mqtt://127.0.0.1:${brokerPort}`, reconnectMs: 200, reconnectMaxMs: 300 },
      discovery: { advertiseSeconds: 600, gwinfoMaxDelayMs: 0 },
    });
    cleanup.push(() => gateway.stop());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(air.frames).toEqual([]);
    const broker = await startEmbeddedBroker(brokerPort);
    cleanup.push(() => broker.close());
    for (let i = 0; i < 40 && air.frames.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(air.frames.map((f) => f.bytes)).toEqual(['0500010258']); // gateway 1, next in 600 s
  });
});
