import { EventEmitter } from 'node:events';
import { decode, encode, type Packet } from '../../src/codec/index.js';
import type { Radio, RadioEvents } from '../../src/radio.js';

/**
 * A complete Radio that carries frames in memory, for tests that drive time with a manual
 * clock: what the gateway sends is recorded per address, what a device sends arrives at once.
 */
export class MemoryRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name = 'memory://test';
  readonly maxFrameSize = 65_535;
  readonly sent: Array<{ to: string; frame: Buffer }> = [];
  readonly broadcasts: Buffer[] = [];

  async start(): Promise<void> {}

  send(to: string, frame: Buffer): void {
    this.sent.push({ to, frame: Buffer.from(frame) });
  }

  broadcast(frame: Buffer): void {
    this.broadcasts.push(Buffer.from(frame));
  }

  async close(): Promise<void> {}

  /** A device at `from` sends `packet`. */
  inject(from: string, packet: Packet): void {
    this.emit('datagram', encode(packet), from);
  }

  /** Decoded packets sent to `to`, consumed (so the next call returns only newer ones). */
  take(to: string): Packet[] {
    const mine = this.sent.filter((entry) => entry.to === to);
    this.sent.splice(0, this.sent.length, ...this.sent.filter((entry) => entry.to !== to));
    return mine.map(({ frame }) => {
      const result = decode(frame);
      if (!result.ok) throw new Error(`gateway sent an undecodable frame: ${frame.toString('hex')}`);
      return result.packet;
    });
  }
}
