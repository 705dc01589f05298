/**
 * One fake device identity's life, built whole and then sent datagram by datagram: a session
 * (CONNECT, will set-up, REGISTER, PUBLISH QoS -1..2, SUBSCRIBE, sleep and wake-up...), a
 * persistent session that never comes back, a sleeper, QoS -1 publishes, stray gateway-to-client
 * packets or garbage. Content comes from hostile.ts; about one datagram in eight is then damaged.
 */
import { encode, type Packet, type Qos } from '../../src/codec/index.js';
import type { Device, FuzzDatagram } from './generator.js';
import { garbage, hostileShortName, hostileText, mutate, plainName, strayPacket, typeAt, withTail, type HostileText } from './hostile.js';
import type { Rng } from './rng.js';

const MUTATION_RATE = 0.12;
/** Predefined IDs the harness configures (fuzz/pre/N), so QoS -1 publishes can be forwarded. */
export const PREDEFINED_IDS = [1, 2, 3, 4, 5] as const;
/** The control device's client ID: the generator never uses it, so no fake device can take it over. */
export const RESERVED_CLIENT_ID = 'fuzz-control';

/** One identity's life: built whole, then sent step by step. */
export class Script {
  private readonly steps: FuzzDatagram[] = [];
  /** Names REGISTERed in this session, in order: the k-th probably got normalId(k). */
  private readonly names: (HostileText & { readonly frame: Buffer })[] = [];
  /** The client ID of the last CONNECT, for the wake-up PINGREQ. */
  private lastClientId: HostileText = textOf('none');
  private readonly rng: Rng;

  constructor(private readonly device: Device, private readonly unique: string, private readonly exclude: ReadonlySet<string>) {
    this.rng = device.rng;
  }

  build(): FuzzDatagram[] {
    const r = this.rng;
    switch (r.weighted<string>([[40, 'session'], [8, 'ghost'], [6, 'sleeper'], [10, 'qos-1'], [10, 'stray'], [8, 'garbage']])) {
      case 'session': this.session(); break;
      case 'ghost': {
        // A persistent session that never comes back (maxClients, memory).
        this.connect(textOf(`ghost-${this.unique}`), false, r.pick([0, 10, 60, 3600]));
        if (r.chance(0.5)) this.subscribe({ bytes: Buffer.from(r.pick(['#', 'fuzz/#', 'fz/#'])), label: 'plain', suspect: false });
        break;
      }
      case 'sleeper': {
        this.connect(textOf(`sleep-${this.unique}`), r.chance(0.5), 60);
        this.subscribe({ bytes: Buffer.from(r.pick(['#', 'fuzz/#', 'fz/+/+'])), label: 'plain', suspect: false });
        this.send({ type: 'disconnect', duration: r.pick([60, 3600, 65535]) }, 'DISCONNECT sleep');
        break;
      }
      case 'qos-1': for (let n = r.range(1, 3); n > 0; n--) this.publish(-1); break;
      case 'stray': {
        const packet = strayPacket(r);
        this.send(packet, `stray ${packet.type.toUpperCase()}`);
        break;
      }
      default: this.steps.push({ bytes: garbage(r), kind: 'garbage' });
    }
    return this.steps;
  }

  private session(): void {
    const r = this.rng;
    this.connect(this.clientId(), r.chance(0.75), r.pick([0, 1, 2, 5, 60, 65535]));
    for (let n = r.range(1, 8); n > 0; n--) this.action();
    const end = r.weighted<string>([[35, 'disconnect'], [20, 'sleep'], [45, 'vanish']]);
    if (end === 'disconnect') this.send({ type: 'disconnect' }, 'DISCONNECT');
    if (end !== 'sleep') return;
    this.send({ type: 'disconnect', duration: r.pick([1, 5, 60, 3600, 65535]) }, 'DISCONNECT sleep');
    if (!r.chance(0.5)) return;
    // Wake-up (§6.14): PINGREQ with the client ID, sometimes someone else's or a hostile one.
    const id = r.chance(0.7) ? this.lastClientId : hostileText(r, this.exclude);
    this.push(withTail(encode({ type: 'pingreq', clientId: 'x' }), id.bytes), `PINGREQ wake id=${id.label}`, id.suspect ? `wake-up client ID ${id.label}` : undefined);
    this.action();
  }

  private clientId(): HostileText {
    const r = this.rng;
    switch (r.weighted<string>([[50, 'pool'], [35, 'hostile'], [5, 'long'], [10, 'unique']])) {
      case 'pool': return textOf(`fz-${r.int(2000)}`);
      case 'hostile': {
        const id = hostileText(r, this.exclude);
        return id.bytes.toString() === RESERVED_CLIENT_ID ? textOf('fz-0') : id;
      }
      case 'long': return textOf(`fz-long-${'i'.repeat(r.range(20, 300))}`);
      default: return textOf(`u-${this.unique}`);
    }
  }

  private connect(id: HostileText, cleanSession: boolean, duration: number): void {
    const r = this.rng;
    const will = r.chance(0.2);
    const protocolId = r.chance(0.03) ? r.int(256) : 1;
    this.lastClientId = id;
    const frame = withTail(encode({ type: 'connect', will, cleanSession, protocolId, duration, clientId: 'x' }), id.bytes);
    this.push(frame, `CONNECT id=${id.label}${cleanSession ? '' : ' persistent'}${will ? ' will' : ''}`, id.suspect ? `client ID ${id.label}` : undefined);
    if (!will) return;
    const topic = r.chance(0.6) ? hostileText(r, this.exclude) : textOf(plainName(r));
    this.push(withTail(encode({ type: 'willtopic', qos: this.qos(), retain: r.chance(0.2), topic: 'x' }), topic.bytes), `WILLTOPIC ${topic.label}`, topic.suspect ? `will topic ${topic.label}` : undefined);
    this.send({ type: 'willmsg', payload: this.payload() }, 'WILLMSG');
  }

  private action(): void {
    const r = this.rng;
    switch (r.weighted<string>([[25, 'register'], [35, 'publish'], [12, 'subscribe'], [5, 'unsubscribe'], [5, 'ping'], [5, 'willupd'], [8, 'ack']])) {
      case 'register': {
        const name = r.chance(0.6) ? hostileText(r, this.exclude) : textOf(plainName(r));
        const frame = withTail(encode({ type: 'register', topicId: 0, msgId: this.msgId(), topicName: 'x' }), name.bytes);
        this.names.push({ ...name, frame });
        this.push(frame, `REGISTER ${name.label}`);
        return;
      }
      case 'publish': return this.publish(r.weighted<Qos>([[30, 0], [40, 1], [20, 2], [10, -1]]));
      case 'subscribe': return this.subscribe(r.chance(0.7) ? hostileText(r, this.exclude) : textOf(plainName(r)));
      case 'unsubscribe': {
        const filter = hostileText(r, this.exclude);
        this.push(withTail(encode({ type: 'unsubscribe', msgId: this.msgId(), topic: { kind: 'name', name: 'x' } }), filter.bytes), `UNSUBSCRIBE ${filter.label}`, filter.suspect ? `unsubscribe filter ${filter.label}` : undefined);
        return;
      }
      case 'ping': return this.send({ type: 'pingreq' }, 'PINGREQ');
      case 'willupd': {
        if (r.chance(0.5)) return this.send({ type: 'willmsgupd', payload: this.payload() }, 'WILLMSGUPD');
        const topic = hostileText(r, this.exclude);
        this.push(withTail(encode({ type: 'willtopicupd', qos: this.qos(), retain: r.chance(0.3), topic: 'x' }), topic.bytes), `WILLTOPICUPD ${topic.label}`, topic.suspect ? `will topic ${topic.label}` : undefined);
        return;
      }
      default: {
        // Acknowledgements of deliveries the gateway may or may not have made (§6.10-§6.12).
        const msgId = r.int(0x10000);
        const topicId = r.int(this.names.length + 2);
        const ack = r.pick<Packet>([{ type: 'puback', topicId, msgId, returnCode: r.int(4) }, { type: 'pubrec', msgId }, { type: 'pubcomp', msgId }, { type: 'regack', topicId, msgId, returnCode: r.int(4) }]);
        this.send(ack, ack.type.toUpperCase());
      }
    }
  }

  private publish(qos: Qos): void {
    const r = this.rng;
    const msgId = qos > 0 ? this.msgId() : 0;
    const base = { type: 'publish', dup: r.chance(0.05), qos, retain: r.chance(0.1), msgId, payload: this.payload() } as const;
    const form = r.weighted<string>([[qos === -1 ? 0 : 55, 'registered'], [20, 'predefined'], [20, 'short'], [5, 'random']]);
    if (form === 'short') {
      const name = hostileShortName(r);
      const frame = encode({ ...base, topic: { kind: 'short', name: 'aa' } });
      name.bytes.copy(frame, typeAt(frame) + 2);
      this.push(frame, `PUBLISH q${qos} ${name.label}`, name.suspect ? `publishes to ${name.label}` : undefined);
    } else if (form === 'registered' && this.names.length > 0) {
      const k = r.range(1, this.names.length);
      const id = normalId(k);
      const name = this.names[k - 1];
      this.send({ ...base, topic: { kind: 'normal', id } }, `PUBLISH q${qos} id=${id}`, name?.suspect ? `publishes to id ${id}, REGISTERed as ${name.label} (REGISTER ${hexOf(name.frame)})` : undefined);
    } else if (form === 'predefined') {
      this.send({ ...base, topic: { kind: 'predefined', id: r.chance(0.8) ? r.pick(PREDEFINED_IDS) : r.int(0x10000) } }, `PUBLISH q${qos} predefined`);
    } else {
      this.send({ ...base, topic: { kind: 'normal', id: r.pick([0, 0xffff, r.int(0x10000)]) } }, `PUBLISH q${qos} id=random`);
    }
    if (qos === 2 && r.chance(0.8)) this.send({ type: 'pubrel', msgId }, 'PUBREL');
  }

  private subscribe(filter: HostileText): void {
    const r = this.rng;
    const qos = r.weighted<Qos>([[30, 0], [40, 1], [20, 2], [10, -1]]);
    if (r.chance(0.8)) {
      const frame = withTail(encode({ type: 'subscribe', dup: false, qos, msgId: this.msgId(), topic: { kind: 'name', name: 'x' } }), filter.bytes);
      this.push(frame, `SUBSCRIBE q${qos} ${filter.label}`, filter.suspect ? `subscribe filter ${filter.label}` : undefined);
      return;
    }
    const name = hostileShortName(r);
    const frame = encode({ type: 'subscribe', dup: false, qos, msgId: this.msgId(), topic: { kind: 'short', name: 'aa' } });
    name.bytes.copy(frame, typeAt(frame) + 4);
    this.push(frame, `SUBSCRIBE q${qos} ${name.label}`, name.suspect ? `subscribes to ${name.label}` : undefined);
  }

  private send(packet: Packet, kind: string, suspect?: string): void {
    this.push(encode(packet), kind, suspect);
  }

  private push(bytes: Buffer, kind: string, suspect?: string): void {
    let datagram: FuzzDatagram = suspect === undefined ? { bytes, kind } : { bytes, kind, suspect };
    if (this.rng.chance(MUTATION_RATE)) {
      const damaged = mutate(this.rng, bytes);
      datagram = { ...datagram, bytes: damaged.bytes, mutation: damaged.label };
    }
    this.steps.push(datagram);
  }

  private qos(): Qos {
    return this.rng.pick<Qos>([0, 1, 2, -1]);
  }

  private msgId(): number {
    if (this.rng.chance(0.03)) return 0;
    this.device.msgId = (this.device.msgId % 0xffff) + 1;
    return this.device.msgId;
  }

  private payload(): Buffer {
    const r = this.rng;
    return r.bytes(r.weighted<number>([[20, 0], [60, r.range(1, 32)], [15, r.range(33, 1000)], [5, r.range(1000, 8000)]]));
  }
}

/** The k-th normal topic ID a gateway hands out: 1, 2, ... skipping predefined IDs (§6.5, §6.7). */
function normalId(k: number): number {
  let id = 0;
  for (let n = 0; n < k; ) if (!(PREDEFINED_IDS as readonly number[]).includes(++id)) n++;
  return id;
}

function hexOf(frame: Buffer): string {
  return frame.length > 48 ? `${frame.subarray(0, 48).toString('hex')}...(${frame.length} octets)` : frame.toString('hex');
}

function textOf(text: string): HostileText {
  return { bytes: Buffer.from(text), label: text.length > 40 ? `${text.slice(0, 20)}...(${text.length})` : text, suspect: false };
}
