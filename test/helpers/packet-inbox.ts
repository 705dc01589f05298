import type { Packet, PacketType } from '../../src/codec/index.js';

export type PacketOf<T extends PacketType> = Extract<Packet, { type: T }>;

/**
 * Packets a test device has received from the gateway and not yet consumed, with waits for the
 * next one (of a given type or of any type) up to a timeout.
 */
export class PacketInbox {
  private readonly packets: Packet[] = [];
  private waiters: Array<() => void> = [];

  /** Queues a received packet and wakes anyone waiting. */
  push(packet: Packet): void {
    this.packets.push(packet);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The next packet of `type` (earlier packets of other types stay queued). */
  async expect<T extends PacketType>(type: T, timeoutMs = 3000): Promise<PacketOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((packet) => packet.type === type);
      if (index >= 0) return this.packets.splice(index, 1)[0] as PacketOf<T>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} from the gateway within ${timeoutMs} ms (got: ${this.packets.map((p) => p.type).join(', ') || 'nothing'})`);
      await this.arrival(left);
    }
  }

  /** The next packet of any type, in arrival order. */
  async next(timeoutMs = 3000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    while (this.packets.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing from the gateway within ${timeoutMs} ms`);
      await this.arrival(left);
    }
    return this.packets.shift()!;
  }

  /** Packets received and not yet consumed. */
  pending(): readonly Packet[] {
    return this.packets;
  }

  /** Resolves when the next packet arrives or after `ms`, whichever is first. */
  private arrival(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
