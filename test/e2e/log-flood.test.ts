import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

/** One device that makes the gateway log once per datagram must not fill a Pi's SD card. */
describe('a flood of refusals', () => {
  let dir: string;
  let gateway: ReturnType<typeof spawnBin>;
  let out: ReturnType<typeof output>;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-flood-'));
    port = await freeUdpPort();
    await writeFile(join(dir, 'config.yaml'), `radios: [udp://127.0.0.1:${port}]\naccess:\n  clients: ['only-*']\n`);
    gateway = spawnBin('mqttsn-gateway', ['--config', join(dir, 'config.yaml'), '--embedded-port', '0', '--data-dir', 'none', '--log-format', 'json']);
    out = output(gateway);
    await out.waitFor(/mqttsn-gateway ready/);
  });
  afterAll(async () => {
    await stop(gateway);
    await rm(dir, { recursive: true, force: true });
  });

  it('3,000 refused CONNECTs: every one answered and counted, ten log lines', async () => {
    const device = await RawDevice.open(port);
    const connect = encode({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'intruder' });
    let answered = 0;
    for (let burst = 0; burst < 30; burst++) {
      for (let i = 0; i < 100; i++) device.sendBytes(connect);
      for (let i = 0; i < 100; i++) if ((await device.expect('connack')).returnCode === 0x03) answered++;
    }
    device.close();
    expect(answered).toBe(3000);
    gateway.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = out.stderr().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; stats?: { accessDenied: number } });
    expect(lines.findLast((line) => line.msg === 'status')?.stats?.accessDenied).toBe(3000);
    expect(lines.filter((line) => line.msg === 'CONNECT refused by the access rules')).toHaveLength(10);
    expect(out.stderr().length).toBeLessThan(20_000);
  });
});
