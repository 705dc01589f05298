/**
 * What was sent just before something went wrong. A broker-link drop is seen in mosquitto's log a
 * few milliseconds to a few hundred after the datagram that caused it (gateway queue, broker, log
 * write), so the ring keeps far more than the 50 datagrams printed, and the likely culprits are
 * picked from all of it by what the generator says they carry.
 */
import type { FuzzDatagram } from './generator.js';

export interface SentRecord {
  readonly seq: number;
  readonly device: number;
  readonly datagram: FuzzDatagram;
}

export interface Incident {
  /** The mosquitto log line (or other evidence). */
  readonly line: string;
  /** When it was seen (ms since the epoch). */
  readonly at: number;
  /** Datagrams sent before it was seen. */
  readonly sentBefore: number;
  /** The last datagrams sent, oldest first. */
  readonly last: readonly string[];
  /** Datagrams carrying text a broker refuses, newest first, one per kind of suspicion. */
  readonly suspects: readonly string[];
  /** For a broker-link drop: who closed the TCP link first, and the gateway's last MQTT packets. */
  readonly mqtt?: { readonly closedBy: string; readonly offences: readonly string[]; readonly last: readonly string[] };
}

export class SentRing {
  private readonly items: (SentRecord | undefined)[];
  private next = 0;

  constructor(readonly capacity = 8192) {
    this.items = new Array<SentRecord | undefined>(capacity);
  }

  push(record: SentRecord): void {
    this.items[this.next % this.capacity] = record;
    this.next++;
  }

  /** Newest first. */
  *newest(): Generator<SentRecord> {
    for (let i = this.next - 1; i >= Math.max(0, this.next - this.capacity); i--) {
      const item = this.items[i % this.capacity];
      if (item) yield item;
    }
  }

  incident(line: string, lastCount = 50, suspectCount = 10): Incident {
    const last: string[] = [];
    const suspects: string[] = [];
    const seen = new Set<string>();
    for (const record of this.newest()) {
      if (last.length < lastCount) last.unshift(describe(record));
      const why = record.datagram.suspect;
      // Damaged frames are dropped before anything is forwarded: rank the intact ones.
      if (why === undefined || !intact(record.datagram) || seen.has(why) || suspects.length >= suspectCount) continue;
      seen.add(why);
      suspects.push(`${describe(record)}  <- ${why}`);
    }
    return { line, at: Date.now(), sentBefore: this.next, last, suspects };
  }
}

/** Mutations that keep the frame valid (the 3-octet length form, one forwarder encapsulation). */
function intact(datagram: FuzzDatagram): boolean {
  return datagram.mutation === undefined || datagram.mutation === 'long-form' || datagram.mutation === 'encapsulate';
}

function describe(record: SentRecord): string {
  const { bytes, kind, mutation } = record.datagram;
  const hex = bytes.length > 64 ? `${bytes.subarray(0, 64).toString('hex')}...(${bytes.length} octets)` : bytes.toString('hex');
  return `#${record.seq} dev ${record.device} ${kind}${mutation ? ` ~${mutation}` : ''}: ${hex}`;
}
