/**
 * The fake devices on the wire: one real UDP socket (source port) per device on 127.0.0.1,
 * paced against the clock in small batches so the rate holds without a timer per datagram.
 */
import dgram from 'node:dgram';
import type { FuzzGenerator } from './generator.js';
import type { SentRing } from './incidents.js';
import { Rng } from './rng.js';

export class FuzzSender {
  sent = 0;
  sentBytes = 0;
  mutated = 0;
  sendErrors = 0;
  /** Datagrams the gateway sent back (CONNACK, REGACK, deliveries...), counted, not read. */
  replies = 0;
  /** Datagrams by their first word (CONNECT, PUBLISH, garbage...). */
  readonly byKind: Record<string, number> = {};

  private constructor(private readonly sockets: readonly dgram.Socket[], private readonly port: number) {}

  static async open(devices: number, gatewayPort: number): Promise<FuzzSender> {
    const sockets: dgram.Socket[] = [];
    const sender = new FuzzSender(sockets, gatewayPort);
    for (let i = 0; i < devices; i++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', () => void sender.replies++);
      socket.on('error', () => void sender.sendErrors++);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      sockets.push(socket);
    }
    return sender;
  }

  /** Sends `count` datagrams at `rate`/s, or until `stop()` says so; returns the time it took. */
  async run(count: number, rate: number, generator: FuzzGenerator, ring: SentRing, stop: () => boolean, tick: () => void): Promise<number> {
    const pick = new Rng(generator.seed ^ 0x5eed);
    const started = Date.now();
    while (this.sent < count && !stop()) {
      const due = Math.min(count, Math.floor(((Date.now() - started) * rate) / 1000));
      // At most 2,000 per turn of the event loop, so replies and timers are still served.
      for (let batch = 0; this.sent < due && batch < 2000; batch++) {
        const device = pick.int(this.sockets.length);
        for (const datagram of generator.next(device)) {
          this.sockets[device]?.send(datagram.bytes, this.port, '127.0.0.1');
          ring.push({ seq: this.sent++, device, datagram });
          this.sentBytes += datagram.bytes.length;
          if (datagram.mutation !== undefined) this.mutated++;
          const kind = datagram.kind.split(' ')[0] ?? '';
          this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
        }
      }
      tick();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return Date.now() - started;
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }
}
