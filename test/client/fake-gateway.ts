import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** One datagram the fake received, with its source. */
export interface Received {
  readonly bytes: Buffer;
  readonly type: number;
  readonly from: { address: string; port: number };
}

export interface FakeBehaviour {
  /** CONNACK return code. */
  connackRc: number;
  /** Return code of PUBACKs for QoS 1 PUBLISH. */
  pubackRc: number;
  /** How many QoS 1 PUBLISHes to leave unanswered before answering again (-1: never answer). */
  dropPubacks: number;
  /** Return code of SUBACKs. */
  subackRc: number;
  /** Ignore DISCONNECT instead of answering `02 18`. */
  ignoreDisconnect: boolean;
}

/**
 * A scripted MQTT-SN gateway on real UDP, loopback only. It parses frames by hand (1-octet length
 * form only, which is all the client sends for these tests) so client bytes are checked against
 * the spec, not against our own codec. Answers: CONNECT (with the will prompts when the Will flag
 * is set), REGISTER, QoS 1 PUBLISH, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and DISCONNECT.
 */
export class FakeGateway {
  readonly received: Received[] = [];
  readonly behaviour: FakeBehaviour = { connackRc: 0, pubackRc: 0, subackRc: 0, dropPubacks: 0, ignoreDisconnect: false };
  /** Normal topic ids handed out, name → id; starts at 0x0010 so ids are visibly not MsgIds. */
  readonly ids = new Map<string, number>();
  private nextId = 0x10;
  private waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  private client: { address: string; port: number } | undefined;

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (bytes, rinfo) => this.onMessage(bytes, { address: rinfo.address, port: rinfo.port }));
  }

  static async start(family: 'udp4' | 'udp6' = 'udp4'): Promise<FakeGateway> {
    const socket = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', () => resolve());
    });
    return new FakeGateway(socket);
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  get url(): string {
    return `udp://127.0.0.1:${this.port}`;
  }

  /** Datagrams of one message type, in arrival order. */
  ofType(type: number): Buffer[] {
    return this.received.filter((r) => r.type === type).map((r) => r.bytes);
  }

  /** Resolves with the next (or an already received, not yet awaited) datagram of `type`. */
  waitFor(type: number, nth = 1, timeoutMs = 5000): Promise<Buffer> {
    const seen = this.ofType(type);
    const already = seen[nth - 1];
    if (already !== undefined) return Promise.resolve(already);
    let count = seen.length;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake gateway: no message type 0x${type.toString(16)} #${nth}`)), timeoutMs);
      this.waiters.push({
        match: (r) => r.type === type && ++count === nth,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r.bytes);
        },
      });
    });
  }

  /** Sends bytes to the client that spoke last. */
  send(bytes: Buffer | number[]): Promise<void> {
    const to = this.client;
    if (to === undefined) return Promise.reject(new Error('fake gateway: no client yet'));
    return new Promise<void>((resolve, reject) =>
      this.socket.send(Buffer.from(bytes), to.port, to.address, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(bytes: Buffer, from: { address: string; port: number }): void {
    this.client = from;
    const record: Received = { bytes, type: bytes[1] ?? -1, from };
    this.received.push(record);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(record)) return true;
      w.resolve(record);
      return false;
    });
    void this.answer(bytes).catch(() => undefined);
  }

  private async answer(b: Buffer): Promise<void> {
    const u16 = (at: number): number => b.readUInt16BE(at);
    const hi = (n: number): number => n >> 8;
    const lo = (n: number): number => n & 0xff;
    switch (b[1]) {
      case 0x04: // CONNECT: flags at [2]; Will flag 0x08 starts the will prompts
        if (((b[2] ?? 0) & 0x08) !== 0) return this.send([0x02, 0x06]); // WILLTOPICREQ
        return this.send([0x03, 0x05, this.behaviour.connackRc]);
      case 0x07: // WILLTOPIC: empty form skips WILLMSGREQ (§6.3)
        return b.length === 2 ? this.send([0x03, 0x05, this.behaviour.connackRc]) : this.send([0x02, 0x08]);
      case 0x09: // WILLMSG
        return this.send([0x03, 0x05, this.behaviour.connackRc]);
      case 0x0a: {
        // REGISTER: [2-3] topic id (ignored), [4-5] MsgId, [6..] name
        const id = this.idFor(b.subarray(6).toString('utf8'));
        return this.send([0x07, 0x0b, hi(id), lo(id), b[4] ?? 0, b[5] ?? 0, 0x00]);
      }
      case 0x0c: {
        // PUBLISH: [2] flags, [3-4] topic, [5-6] MsgId
        if (((b[2] ?? 0) & 0x60) !== 0x20) return undefined; // only QoS 1 is acknowledged here
        if (this.behaviour.dropPubacks !== 0) {
          if (this.behaviour.dropPubacks > 0) this.behaviour.dropPubacks--;
          return undefined;
        }
        return this.send([0x07, 0x0d, b[3] ?? 0, b[4] ?? 0, b[5] ?? 0, b[6] ?? 0, this.behaviour.pubackRc]);
      }
      case 0x12: {
        // SUBSCRIBE: [2] flags, [3-4] MsgId, [5..] name (type 00) or id (01/10)
        const flags = b[2] ?? 0;
        const kind = flags & 0x03;
        let id = 0;
        if (kind === 0x01) id = u16(5);
        if (kind === 0x00) {
          const name = b.subarray(5).toString('utf8');
          id = /[#+]/.test(name) ? 0 : this.idFor(name);
        }
        const rc = this.behaviour.subackRc;
        if (rc !== 0) id = 0;
        return this.send([0x08, 0x13, flags & 0x60, hi(id), lo(id), b[3] ?? 0, b[4] ?? 0, rc]);
      }
      case 0x14: // UNSUBSCRIBE → UNSUBACK
        return this.send([0x04, 0x15, b[3] ?? 0, b[4] ?? 0]);
      case 0x16: // PINGREQ → PINGRESP
        return this.send([0x02, 0x17]);
      case 0x18: // DISCONNECT → DISCONNECT
        return this.behaviour.ignoreDisconnect ? undefined : this.send([0x02, 0x18]);
      default:
        return undefined;
    }
  }

  private idFor(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(name, id);
    }
    return id;
  }
}

/** Hex of a buffer with spaces, for readable assertions: `0a 04 04 …`. */
export function hex(b: Buffer): string {
  return b.toString('hex').replace(/(..)(?=.)/g, '$1 ');
}
