import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { kernelDrops } from '../../radios/udp-drops.js';

const linux = process.platform === 'linux';

describe.skipIf(!linux)('kernel drop counter (/proc/net/udp)', () => {
  it('reports datagrams dropped on a socket whose owner does not read', async () => {
    // A process that binds a small-buffered socket and then never gets to read it.
    const child = spawn(process.execPath, [
      '-e',
      `const s = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 4096 });
       s.bind(0, '127.0.0.1', () => { console.log(s.address().port); setTimeout(() => { const end = Date.now() + 60000; while (Date.now() < end); }, 50); });`,
    ]);
    const port = Number(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await kernelDrops('udp4', port)).toBe(0);
      const sender = dgram.createSocket('udp4');
      const frame = Buffer.alloc(200, 1);
      for (let i = 0; i < 500; i++) sender.send(frame, port, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, 300));
      sender.close();
      const drops = await kernelDrops('udp4', port);
      expect(drops).toBeGreaterThan(100);
      expect(drops).toBeLessThanOrEqual(500);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says nothing for a port with no socket', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    expect(await kernelDrops('udp4', port)).toBeUndefined();
  });
});
