/**
 * A TCP relay between the gateway and mosquitto that remembers the last MQTT packets the gateway
 * sent. mosquitto's log says *that* it dropped the gateway ("malformed packet", "protocol
 * error") but not *what* it choked on; when the broker closes the link, the relay's last
 * packets name the topic or filter exactly. Bytes pass through unchanged.
 */
import net from 'node:net';

export interface ProxyClose {
  readonly at: number;
  /** Who closed first: the broker (a drop) or the gateway (its own disconnect or death). */
  readonly by: 'broker' | 'gateway';
  /** The gateway's last MQTT packets before the close, oldest first, decoded. */
  readonly last: readonly string[];
  /** Packets on this connection a broker may refuse, oldest first: the first is the likely offence. */
  readonly offences: readonly string[];
}

const TYPES = ['reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];
const KEEP = 20;
/** mosquitto 2.0 refuses topics with more than 200 `/` (TOPIC_HIERARCHY_LIMIT): protocol error. */
const MAX_SLASHES = 200;
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

export class BrokerProxy {
  readonly closes: ProxyClose[] = [];
  /** Packets the gateway sent that a strict broker refuses (each one costs the link with mosquitto). */
  offenceCount = 0;
  private readonly sockets = new Set<net.Socket>();
  /** The topic whose PUBLISH packets are kept (the control device's), and those packets. */
  private watched: Buffer | undefined;
  private readonly watchedPackets: Buffer[] = [];

  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async start(brokerPort: number): Promise<BrokerProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new BrokerProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (gateway) => proxy.relay(gateway, brokerPort));
    return proxy;
  }

  /** Keeps every PUBLISH the gateway sends to `topic`, to tell later whether a message got this far. */
  watchTopic(topic: string): void {
    this.watched = Buffer.from(topic, 'utf8');
  }

  /** Whether the gateway sent a PUBLISH to the watched topic whose payload is `payload`. */
  forwarded(payload: string): boolean {
    const bytes = Buffer.from(payload, 'utf8');
    // The payload ends the packet in MQTT 3.1.1 and 5 alike.
    return this.watchedPackets.some((packet) => packet.length >= bytes.length && packet.subarray(packet.length - bytes.length).equals(bytes));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(gateway: net.Socket, brokerPort: number): void {
    const broker = net.connect(brokerPort, '127.0.0.1');
    for (const socket of [gateway, broker]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined); // a reset is reported as the close that follows
    }
    const last: Buffer[] = [];
    const offences: string[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    const onClose = (by: 'broker' | 'gateway') => (): void => {
      if (!closed) this.closes.push({ at: Date.now(), by, last: last.map(describe), offences });
      closed = true;
      gateway.destroy();
      broker.destroy();
    };
    gateway.on('data', (chunk: Buffer) => {
      broker.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (let size = packetSize(pending); size !== undefined && size <= pending.length; size = packetSize(pending)) {
        const packet = Buffer.from(pending.subarray(0, size));
        pending = pending.subarray(size);
        last.push(packet);
        if (last.length > KEEP) last.shift();
        if (this.watched && (packet[0] ?? 0) >> 4 === 3 && stringsOf(packet).strings[0]?.equals(this.watched)) this.watchedPackets.push(packet);
        // Every packet is checked as it passes: mosquitto may read it long after it was written.
        if (offenceOf(packet) === undefined) continue;
        this.offenceCount++;
        if (offences.length < 20) offences.push(describe(packet));
      }
    });
    broker.on('data', (chunk: Buffer) => gateway.write(chunk));
    broker.on('close', onClose('broker'));
    gateway.on('close', onClose('gateway'));
  }
}

/** Total size of the MQTT packet at the start of `buf`, once its fixed header is complete. */
function packetSize(buf: Buffer): number | undefined {
  let length = 0;
  for (let i = 1, shift = 0; i < 5; i++, shift += 7) {
    const byte = buf[i];
    if (byte === undefined) return undefined;
    length += (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return 1 + i + length;
  }
  return 1 + 4 + length; // malformed length: let the broker be the judge
}

/** The topic of a PUBLISH, the filters of a SUBSCRIBE/UNSUBSCRIBE (MQTT 3.1.1 §3.3, §3.8, §3.10). */
function stringsOf(packet: Buffer): { type: number; strings: Buffer[]; qos: number[] } {
  const type = (packet[0] ?? 0) >> 4;
  let at = 1;
  while (at < 5 && ((packet[at] ?? 0) & 0x80) !== 0) at++;
  at++;
  const strings: Buffer[] = [];
  const qos: number[] = [];
  const next = (): void => {
    const n = packet.readUInt16BE(at);
    strings.push(packet.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  };
  try {
    if (type === 3) next();
    if (type === 8 || type === 10) {
      for (at += 2; at < packet.length; ) {
        next();
        if (type === 8) qos.push(packet[at++] ?? -1);
      }
    }
  } catch {
    // truncated: what was read is shown
  }
  return { type, strings, qos };
}

/** Why a strict broker (mosquitto 2.0) refuses this packet, or undefined. */
function offenceOf(packet: Buffer): string | undefined {
  const { type, strings } = stringsOf(packet);
  for (const bytes of strings) {
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) return 'invalid UTF-8';
    if (FORBIDDEN.test(text)) return 'control or non-character';
    if (bytes.length === 0) return 'empty';
    if ((text.match(/\//g)?.length ?? 0) > MAX_SLASHES) return `more than ${MAX_SLASHES} '/'`;
    if (type === 3 && /[+#]/.test(text)) return 'wildcard in a topic name';
    if (type !== 3 && text.split('/').some((level, i, all) => (level.includes('#') && (level !== '#' || i !== all.length - 1)) || (level.includes('+') && level !== '+'))) return 'misplaced wildcard';
  }
  return undefined;
}

/** `!! invalid UTF-8: SUBSCRIBE "a/\ufffd" q1 (3 octets, 2 levels, hex 612fff)`: strings escaped and in hex. */
function describe(packet: Buffer): string {
  const { type, strings, qos } = stringsOf(packet);
  const name = TYPES[type] ?? `type ${type}`;
  const why = offenceOf(packet);
  const shown = strings.map((bytes, i) => {
    const text = JSON.stringify(bytes.toString('utf8'));
    const hex = bytes.length > 40 ? `${bytes.subarray(0, 40).toString('hex')}...` : bytes.toString('hex');
    const levels = bytes.toString('utf8').split('/').length;
    return `${text.length > 80 ? `${text.slice(0, 80)}..."` : text} (${bytes.length} octets, ${levels} levels, hex ${hex})${qos[i] === undefined ? '' : ` q${qos[i]}`}`;
  });
  const body = type === 3 ? `PUBLISH qos${((packet[0] ?? 0) >> 1) & 3} topic ${shown.join('')}` : strings.length > 0 ? `${name} ${shown.join(', ')}` : `${name} ${packet.subarray(0, 48).toString('hex')}${packet.length > 48 ? `...(${packet.length} octets)` : ''}`;
  return why === undefined ? body : `!! ${why}: ${body}`;
}
