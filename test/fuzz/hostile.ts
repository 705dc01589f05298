/**
 * Hostile content and frame mutations for the fuzzer. Text comes as raw bytes because the
 * interesting cases (lone surrogates, invalid UTF-8) cannot be written as a JS string; `label`
 * says what the text is, so a report can name the datagram that hurt the gateway or the broker.
 */
import type { Packet, Qos } from '../../src/codec/index.js';
import type { Rng } from './rng.js';

export interface HostileText {
  readonly bytes: Buffer;
  /** e.g. `plain`, `c0 U+0001`, `bad-utf8`, `wild a/#/b`. */
  readonly label: string;
  /**
   * True when a broker refuses it as a topic, filter or client ID (invalid UTF-8, controls,
   * non-characters, bad wildcards, `$share`), or it is big enough to strain a topic matcher.
   */
  readonly suspect: boolean;
}

const WORDS = ['temp', 'hum', 'door', 'valve', 'pump', 'fuzz', 'a', 'sensors', 'x'];
const WILD = ['#', '+', 'a/#', '+/b', 'a/+/c', 'a/#/b', 'a#', '+a', '#/a', 'sport+', '/#', '//+//', 'a/b#', '++'];
const SLASHES = ['/', '//', 'a//b', '/a/', '///'];
// mosquitto disconnects a client that subscribes to a malformed shared subscription.
const DOLLAR = ['$SYS/x', '$share/g/a', '$share/', '$share//a', '$share/g', '$share/g/', '$share/+/a', '$share/#/a', '$foo', '$'];
const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3, 0x28]];
const NONCHARS = [0xfffe, 0xffff, 0xfdd0, 0x1fffe, 0x10ffff];
const VALID_UNICODE = ['température/ß', '日本/温度', '🌡/x', '\u00a0', 'a b', '\ufeff'];

/** Same rule as a strict broker: C0, DEL, C1, surrogates, non-characters. */
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
const WILDCARD_BAD = (s: string): boolean => s.split('/').some((l) => (l.includes('#') || l.includes('+')) && l.length > 1);

function text(bytes: Buffer, label: string): HostileText {
  const decoded = bytes.toString('utf8');
  const validUtf8 = Buffer.from(decoded, 'utf8').equals(bytes);
  const suspect = !validUtf8 || FORBIDDEN.test(decoded) || bytes.length === 0 || bytes.length > 0xffff || WILDCARD_BAD(decoded) || decoded.startsWith('$share') || decoded.split('/').length > 100;
  return { bytes, label, suspect };
}

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** An ordinary topic-like name: most traffic must look sane or the sessions never get anywhere. */
export function plainName(rng: Rng): string {
  return `fz/${rng.pick(WORDS)}/${rng.int(50)}`;
}

/** Kinds of hostile text and their weights; `--exclude` can drop kinds whose bug is known. */
export const TEXT_KINDS = { plain: 35, c0: 8, c1: 6, nonchar: 5, surrogate: 5, 'bad-utf8': 6, long: 5, huge: 1, wild: 8, empty: 3, slashes: 4, dollar: 5, unicode: 5, levels: 4 } as const;
export type TextKind = keyof typeof TEXT_KINDS;

/** Text for a client ID, topic name, will topic or filter; about a third is plain. */
export function hostileText(rng: Rng, exclude: ReadonlySet<string> = new Set()): HostileText {
  const base = plainName(rng);
  const splice = (inserted: Buffer): Buffer => {
    const at = rng.int(base.length + 1);
    return Buffer.concat([Buffer.from(base.slice(0, at)), inserted, Buffer.from(base.slice(at))]);
  };
  // Excluded kinds get weight 0: still one draw per text, so the rest of the stream keeps its shape.
  const kinds = Object.entries(TEXT_KINDS).map(([kind, weight]) => [exclude.has(kind) ? 0 : weight, kind] as const);
  switch (rng.weighted<string>(kinds)) {
    case 'plain': return text(Buffer.from(base), 'plain');
    case 'c0': {
      const cp = rng.pick([0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, rng.int(0x20)]);
      return text(splice(Buffer.from(String.fromCodePoint(cp))), `c0 ${hex(cp)}`);
    }
    case 'c1': {
      const cp = rng.pick([0x7f, 0x80, 0x85, 0x9f, 0x7f + rng.int(0x21)]);
      return text(splice(Buffer.from(String.fromCodePoint(cp))), `c1 ${hex(cp)}`);
    }
    case 'nonchar': {
      const cp = rng.pick(NONCHARS);
      return text(splice(Buffer.from(String.fromCodePoint(cp))), `nonchar ${hex(cp)}`);
    }
    // CESU-style encoding of a lone surrogate: what a careless C client sends.
    case 'surrogate': return text(splice(Buffer.from(rng.pick([[0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf]]))), 'lone-surrogate');
    case 'bad-utf8': return text(splice(Buffer.from(rng.pick(BAD_UTF8))), 'bad-utf8');
    case 'long': return text(Buffer.from(`fz/${'l'.repeat(rng.range(200, 3000))}`), 'long');
    case 'huge': return text(Buffer.alloc(rng.range(20_000, 60_000), 0x68), 'huge');
    case 'wild': {
      const w = rng.pick(WILD);
      return text(Buffer.from(w), `wild ${w}`);
    }
    case 'empty': return text(Buffer.alloc(0), 'empty');
    case 'slashes': return text(Buffer.from(rng.pick(SLASHES)), 'slashes');
    case 'dollar': {
      const d = rng.pick(DOLLAR);
      return text(Buffer.from(d), `dollar ${d}`);
    }
    case 'unicode': return text(Buffer.from(rng.pick(VALID_UNICODE)), 'unicode');
    default: return text(Buffer.from('a/'.repeat(rng.range(100, 2000))), 'levels');
  }
}

/** A two-octet short topic name (§3), often one a broker would refuse once expanded. */
export function hostileShortName(rng: Rng): HostileText {
  const pair = rng.pick([[0x61, 0x62], [0x01, 0x61], [0x00, 0x00], [0x23, 0x61], [0x2b, 0x2f], [0x61, 0x23], [0xff, 0xfe], [0xc3, 0x28], [0x2f, 0x2b], [0x7f, 0x61], [0xc2, 0x85], [0x20, 0x20], [0x24, 0x61]]);
  return text(Buffer.from(pair), `short ${Buffer.from(pair).toString('hex')}`);
}

/** A packet a device has no business sending: gateway-to-client types, discovery. */
export function strayPacket(r: Rng): Packet {
  return r.pick<Packet>([
    { type: 'searchgw', radius: r.int(256) },
    { type: 'advertise', gwId: r.int(256), duration: r.int(0x10000) },
    { type: 'gwinfo', gwId: r.int(256), gwAdd: r.bytes(r.int(8)) },
    { type: 'connack', returnCode: r.int(256) },
    { type: 'willtopicreq' },
    { type: 'willmsgreq' },
    { type: 'suback', qos: r.pick<Qos>([0, 1, 2, -1]), topicId: r.int(0x10000), msgId: r.int(0x10000), returnCode: r.int(4) },
    { type: 'unsuback', msgId: r.int(0x10000) },
    { type: 'pingresp' },
    { type: 'willtopicresp', returnCode: r.int(256) },
    { type: 'willmsgresp', returnCode: r.int(256) },
    { type: 'disconnect', duration: r.int(0x10000) },
    { type: 'pubrel', msgId: r.int(0x10000) },
  ]);
}

/** Bytes that are no MQTT-SN message at all, random or at the edges of the length field. */
export function garbage(r: Rng): Buffer {
  return r.chance(0.5) ? r.bytes(r.int(65)) : Buffer.from(r.pick([[], [0x00], [0x01], [0x02], [0x00, 0x00], [0x01, 0x00], [0x01, 0x00, 0x00], [0x01, 0x00, 0x04, 0x16], [0xfe], [0x03, 0xfe, 0x00], [0xff, 0x0c]]));
}

/** Index of the MsgType octet of a well-formed frame (1-octet or 3-octet length form). */
export function typeAt(frame: Buffer): number {
  return frame[0] === 0x01 ? 3 : 1;
}

/** Builds a frame from MsgType + body, choosing the length form as a sender must (reference (a)). */
export function reframe(msgType: number, body: Buffer, longForm = false): Buffer {
  const total = Math.min(body.length + 2, 0xffff);
  if (total <= 0xff && !longForm) return Buffer.concat([Buffer.from([total, msgType]), body]);
  const long = Math.min(body.length + 4, 0xffff);
  const head = Buffer.from([0x01, long >> 8, long & 0xff, msgType]);
  return Buffer.concat([head, body.subarray(0, long - 4)]);
}

/** Replaces the trailing string field (every MQTT-SN string runs to the end) encoded as one `x`. */
export function withTail(encoded: Buffer, tail: Buffer): Buffer {
  const at = typeAt(encoded);
  return reframe(encoded[at] ?? 0, Buffer.concat([encoded.subarray(at + 1, encoded.length - 1), tail]));
}

/** Damages a frame; the label names the damage. About a fifth of the mutations stay well-formed. */
export function mutate(rng: Rng, frame: Buffer): { bytes: Buffer; label: string } {
  const out = Buffer.from(frame);
  const at = typeAt(frame);
  switch (rng.weighted<string>([[5, 'bitflip'], [3, 'truncate'], [3, 'trailing'], [3, 'length'], [3, 'long-form'], [2, 'long-form-bad'], [2, 'type'], [2, 'flags'], [2, 'encapsulate'], [1, 'splice']])) {
    case 'bitflip':
      for (let n = rng.range(1, 4); n > 0; n--) {
        const i = rng.int(out.length);
        out[i] = (out[i] ?? 0) ^ (1 << rng.int(8));
      }
      return { bytes: out, label: 'bitflip' };
    case 'truncate': return { bytes: out.subarray(0, rng.int(out.length)), label: 'truncate' };
    case 'trailing': return { bytes: Buffer.concat([out, rng.bytes(rng.range(1, 16))]), label: 'trailing' };
    case 'length':
      out[0] = rng.chance(0.5) ? rng.int(256) : ((out[0] ?? 0) + rng.pick([1, -1, 2])) & 0xff;
      return { bytes: out, label: 'length' };
    // Legal: receivers must accept the 3-octet form even for short messages.
    case 'long-form': return { bytes: reframe(frame[at] ?? 0, frame.subarray(at + 1), true), label: 'long-form' };
    case 'long-form-bad': {
      const body = frame.subarray(at + 1);
      const lie = rng.pick([0, 1, 2, 3, body.length + 3, body.length + 5, 0xffff]);
      return { bytes: Buffer.concat([Buffer.from([0x01, lie >> 8, lie & 0xff, frame[at] ?? 0]), body]), label: `long-form-bad ${lie}` };
    }
    case 'type':
      out[at] = rng.pick([0x03, 0x11, 0x19, 0x1e, 0x80, 0xfd, 0xff, rng.int(0x1e), rng.int(256)]);
      return { bytes: out, label: `type 0x${(out[at] ?? 0).toString(16)}` };
    case 'flags':
      if (out.length > at + 1) out[at + 1] = rng.int(256);
      return { bytes: out, label: 'flags' };
    case 'encapsulate': {
      // Forwarder encapsulation (§5.5); sometimes nested, which §5.5 forbids.
      const nodeId = rng.bytes(rng.int(9));
      const wrap = (inner: Buffer): Buffer => Buffer.concat([Buffer.from([3 + nodeId.length, 0xfe, rng.int(256)]), nodeId, inner]);
      return rng.chance(0.2) ? { bytes: wrap(wrap(frame)), label: 'encapsulate-nested' } : { bytes: wrap(frame), label: 'encapsulate' };
    }
    default: return { bytes: Buffer.concat([frame, frame]), label: 'splice' };
  }
}
