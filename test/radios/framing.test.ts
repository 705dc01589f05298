/**
 * Serial framing: exact byte vectors for raw (the MQTT-SN length field, MQTT-SN 1.2 §5.2.1) and
 * SLIP (RFC 1055), resynchronisation after garbage, bounded buffering, reset/flush after a gap,
 * and properties over random frames, random chunking and random garbage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/codec/index.js';
import type { InnerPacket, Packet, Qos } from '../../src/codec/index.js';
import {
  createFrameReader,
  encodeFrame,
  encodeRaw,
  encodeSlip,
  RawFrameReader,
  SlipFrameReader,
} from '../../radios/framing.js';
import type { FrameReader, FrameResult } from '../../radios/framing.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const ok = (frame: Buffer): FrameResult => ({ ok: true, frame });
const garbage = (n: number): FrameResult => ({ ok: false, reason: 'garbage', bytes: n });

function feed(reader: FrameReader, chunks: readonly Buffer[]): FrameResult[] {
  return chunks.flatMap((c) => reader.push(c));
}
function oneByOne(stream: Buffer): Buffer[] {
  return [...stream].map((b) => bytes(b));
}
/** Cuts `stream` into chunks whose sizes cycle through `sizes`. */
function chunked(stream: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  return out;
}
/** A garbage run split by a chunk boundary is reported in parts; join them to compare. */
function joinGarbage(results: readonly FrameResult[]): FrameResult[] {
  const out: FrameResult[] = [];
  for (const r of results) {
    const last = out.at(-1);
    if (!r.ok && r.reason === 'garbage' && last !== undefined && !last.ok && last.reason === 'garbage') {
      out[out.length - 1] = garbage(last.bytes + r.bytes);
    } else {
      out.push(r);
    }
  }
  return out;
}
const raw = (maxFrameSize = 1024): RawFrameReader => new RawFrameReader({ maxFrameSize });
const slip = (maxFrameSize = 1024): SlipFrameReader => new SlipFrameReader({ maxFrameSize });

// --- vectors -----------------------------------------------------------------------------------

const CONNECT = bytes(
  0x0d, // Length 13
  0x04, // MsgType CONNECT
  0x04, // Flags: CleanSession
  0x01, // ProtocolId
  0x00, 0x3c, // Duration: keep-alive 60 s
  0x73, 0x65, 0x6e, 0x73, 0x6f, 0x72, 0x31, // ClientId "sensor1"
);
const PINGREQ = bytes(0x02, 0x16); // Length 2, MsgType PINGREQ
const PINGRESP = bytes(0x02, 0x17); // Length 2, MsgType PINGRESP
const PUBACK = bytes(
  0x07, // Length 7
  0x0d, // MsgType PUBACK
  0x00, 0x05, // TopicId 5
  0x00, 0x07, // MsgId 7
  0x00, // ReturnCode accepted
);
/** 300 octets: too long for the 1-octet form. */
const PUBLISH_300 = Buffer.concat([
  bytes(
    0x01, 0x01, 0x2c, // Length: 3-octet form, 300
    0x0c, // MsgType PUBLISH
    0x20, // Flags: QoS 1, normal topic id
    0x00, 0x05, // TopicId 5
    0x00, 0x07, // MsgId 7
  ),
  Buffer.alloc(291, 0x61), // Data: 291 x 'a'
]);
/** Forwarder encapsulation of a PINGREQ from node AB CD (reference (j)). */
const ENCAPSULATED = bytes(
  0x05, // Length of this header only
  0xfe, // MsgType encapsulated
  0x00, // Ctrl: radius 0
  0xab, 0xcd, // Wireless Node Id
  0x02, 0x16, // the inner PINGREQ
);

describe('vectors agree with the codec', () => {
  it('CONNECT, PUBLISH (3-octet length), encapsulated PINGREQ', () => {
    expect(encode({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: 'sensor1' })).toEqual(CONNECT);
    const payload = Buffer.alloc(291, 0x61);
    expect(encode({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'normal', id: 5 }, msgId: 7, payload })).toEqual(PUBLISH_300);
    expect(encode({ type: 'encapsulated', radius: 0, wirelessNodeId: bytes(0xab, 0xcd), packet: { type: 'pingreq' } })).toEqual(ENCAPSULATED);
  });
});

// --- raw ---------------------------------------------------------------------------------------

describe('raw framing', () => {
  it('sends frames unchanged: the MQTT-SN length field is the framing', () => {
    expect(encodeRaw(CONNECT)).toBe(CONNECT);
    expect(encodeFrame('raw', CONNECT)).toBe(CONNECT);
  });

  it('reads a CONNECT in one chunk and one byte at a time', () => {
    expect(raw().push(CONNECT)).toEqual([ok(CONNECT)]);
    const r = raw();
    const results = feed(r, oneByOne(CONNECT));
    expect(results).toEqual([ok(CONNECT)]);
    expect(r.pending).toBe(0);
  });

  it('reports pending bytes of a partial frame', () => {
    const r = raw();
    expect(r.push(CONNECT.subarray(0, 5))).toEqual([]);
    expect(r.pending).toBe(5);
    expect(r.push(CONNECT.subarray(5))).toEqual([ok(CONNECT)]);
    expect(r.pending).toBe(0);
  });

  it('reads several frames from one chunk', () => {
    expect(raw().push(Buffer.concat([CONNECT, PUBACK, PINGREQ]))).toEqual([ok(CONNECT), ok(PUBACK), ok(PINGREQ)]);
  });

  it('reads a 300-octet PUBLISH in the 3-octet length form, whole and byte by byte', () => {
    expect(raw().push(PUBLISH_300)).toEqual([ok(PUBLISH_300)]);
    const stream = Buffer.concat([PINGREQ, PUBLISH_300, PUBACK]);
    expect(feed(raw(), oneByOne(stream))).toEqual([ok(PINGREQ), ok(PUBLISH_300), ok(PUBACK)]);
    expect(feed(raw(), chunked(stream, [7, 1, 64]))).toEqual([ok(PINGREQ), ok(PUBLISH_300), ok(PUBACK)]);
  });

  it('reads a forwarder encapsulation, whose first octet is its header length only (§5.5)', () => {
    expect(feed(raw(), oneByOne(Buffer.concat([ENCAPSULATED, PINGRESP])))).toEqual([ok(ENCAPSULATED), ok(PINGRESP)]);
    const long = Buffer.concat([bytes(0x05, 0xfe, 0x00, 0xab, 0xcd), PUBLISH_300]); // inner in 3-octet form
    expect(feed(raw(), oneByOne(long))).toEqual([ok(long)]);
  });

  it('skips garbage before and between frames, counting the bytes', () => {
    const stream = Buffer.concat([
      bytes(0x11, 0x03, 0x00), // 11: type 03 reserved; 03: ADVERTISE of 3 is malformed; 00: no length
      CONNECT,
      bytes(0xff, 0x1e, 0x03, 0x00), // ff: type 1e reserved; 1e: type 03 reserved; then as above
      PUBACK,
      PINGREQ,
    ]);
    const expected = [garbage(3), ok(CONNECT), garbage(4), ok(PUBACK), ok(PINGREQ)];
    expect(raw().push(stream)).toEqual(expected);
    expect(joinGarbage(feed(raw(), oneByOne(stream)))).toEqual(expected);
  });

  it('skips a stray byte that looks like a length when the candidate does not decode', () => {
    // 05 0d ..: a PUBACK of 5 octets is malformed (exactly 7), so 05 is one garbage byte.
    expect(raw().push(Buffer.concat([bytes(0x05), CONNECT]))).toEqual([garbage(1), ok(CONNECT)]);
    // 00 never starts a frame; 01 00 09: the 3-octet form is only accepted for lengths >= 256.
    expect(raw().push(Buffer.concat([bytes(0x00, 0x01, 0x00, 0x09), CONNECT]))).toEqual([garbage(4), ok(CONNECT)]);
  });

  it('cannot be perfect: garbage that decodes by chance is taken for a frame (use SLIP)', () => {
    // A stray 04 before PINGREQ reads as GWINFO 04 02 16 02 (GwId 0x16, GwAdd 02), eating the
    // PINGREQ and the first octet of the PINGRESP. SLIP carries the same bytes without harm.
    const r = raw();
    expect(r.push(Buffer.concat([bytes(0x04), PINGREQ, PINGRESP]))).toEqual([ok(bytes(0x04, 0x02, 0x16, 0x02))]);
    expect(r.pending).toBe(1);
    // Text is no safer: CR LF reads as the header of a 13-octet REGISTER (0d 0a), so a boot
    // banner line of 13+ characters after a CR LF yields a bogus REGISTER before the real frame.
    const banner = Buffer.from('\r\nhello world'); // 13 octets: TopicId 'he', MsgId 'll', name 'o world'
    expect(raw().push(Buffer.concat([banner, CONNECT]))).toEqual([ok(banner), ok(CONNECT)]);
    expect(decode(banner)).toMatchObject({ ok: true, packet: { type: 'register', topicName: 'o world' } });
    const s = slip();
    expect(s.push(Buffer.concat([bytes(0x04), encodeSlip(PINGREQ), encodeSlip(PINGRESP)]))).toEqual([
      ok(bytes(0x04)), // a 1-octet candidate: the gateway's decode drops it ('too-short')
      ok(PINGREQ),
      ok(PINGRESP),
    ]);
  });

  it("recovers Paho's off-by-two long form (01 00 FF + 254 octets) as its valid 1-octet tail", () => {
    const data = Buffer.alloc(248, 0x62);
    const paho = Buffer.concat([bytes(0x01, 0x00, 0xff, 0x0c, 0x00, 0x00, 0x05, 0x00, 0x00), data]); // 257 octets
    const proper = encode({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 5 }, msgId: 0, payload: data });
    expect(proper.subarray(0, 2)).toEqual(bytes(0xff, 0x0c));
    expect(raw().push(paho)).toEqual([garbage(2), ok(proper)]);
  });

  it('passes a frame with the reserved TopicIdType, so the gateway can answer PUBACK 0x03', () => {
    const bad = bytes(0x07, 0x0c, 0x23, 0x00, 0x05, 0x00, 0x07); // PUBLISH, Flags QoS 1 + TopicIdType 11
    expect(decode(bad)).toMatchObject({ ok: false, error: { code: 'reserved-topic-id-type' } });
    expect(raw().push(Buffer.concat([bad, PINGREQ]))).toEqual([ok(bad), ok(PINGREQ)]);
  });

  it('drops a frame over maxFrameSize as garbage (raw cannot tell it from noise) and reads the next', () => {
    const big = Buffer.concat([
      bytes(0x01, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x00, 0x00), // PUBLISH, length 256, QoS 0, TopicId 1
      Buffer.alloc(247), // Data: zeros (no false frame inside)
    ]);
    expect(raw(255).push(Buffer.concat([big, PINGREQ]))).toEqual([garbage(256), ok(PINGREQ)]);
    expect(raw(256).push(Buffer.concat([big, PINGREQ]))).toEqual([ok(big), ok(PINGREQ)]);
  });

  it('never buffers more than maxFrameSize (+ a forwarder header), whatever arrives', () => {
    const r = raw(1024);
    let seed = 1;
    for (let i = 0; i < 20_000; i++) {
      const chunk = Buffer.alloc(50);
      for (let j = 0; j < chunk.length; j++) chunk[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      r.push(chunk);
      expect(r.pending).toBeLessThan(1024 + 3);
    }
    // Internal storage, checked through TypeScript's bracket escape hatch for private members.
    expect(r['buf'].length).toBeLessThanOrEqual(4 * (1024 + 64));
    // A length claiming 65535 with a known type is refused at once, not waited for; the `ff 0c`
    // after it is a plausible 255-octet PUBLISH, and that one is waited for.
    const r2 = raw(1024);
    expect(r2.push(bytes(0x01, 0xff, 0xff, 0x0c))).toEqual([garbage(2)]);
    expect(r2.pending).toBe(2);
  });

  it('reset() drops a partial frame (device rebooted mid-frame) so the next frame is read', () => {
    const r = raw();
    expect(r.push(CONNECT.subarray(0, 5))).toEqual([]);
    expect(r.pending).toBe(5);
    r.reset();
    expect(r.pending).toBe(0);
    expect(r.push(CONNECT)).toEqual([ok(CONNECT)]);
    // Without reset the stale half and the new frame would make one bogus 13-octet CONNECT.
    const stale = raw();
    stale.push(CONNECT.subarray(0, 5));
    const [first] = stale.push(CONNECT);
    expect(first).toEqual(ok(Buffer.concat([CONNECT.subarray(0, 5), CONNECT.subarray(0, 8)])));
  });

  it('flush() after a gap gives up a bogus length and returns the frames queued behind it', () => {
    // c8 0c: a PUBLISH of 200 octets (garbage); the reader waits for 200 octets, holding PINGREQ.
    const r = raw();
    expect(r.push(Buffer.concat([bytes(0xc8, 0x0c), PINGREQ]))).toEqual([]);
    expect(r.pending).toBe(4);
    expect(r.flush()).toEqual([garbage(2), ok(PINGREQ)]);
    expect(r.pending).toBe(0);
    expect(r.flush()).toEqual([]);
    // A truncated frame with nothing behind it is all garbage.
    r.push(CONNECT.subarray(0, 6));
    expect(r.flush()).toEqual([garbage(6)]);
  });

  it('returns copies: the caller may reuse its chunk', () => {
    const chunk = Buffer.from(Buffer.concat([CONNECT, PINGREQ.subarray(0, 1)]));
    const r = raw();
    const [first] = r.push(chunk);
    chunk.fill(0);
    expect(first).toEqual(ok(CONNECT));
    expect(r.push(bytes(0x16))).toEqual([ok(PINGREQ)]);
  });
});

// --- SLIP --------------------------------------------------------------------------------------

describe('SLIP framing (RFC 1055)', () => {
  it('encodes a CONNECT as END, frame, END', () => {
    const wire = bytes(0xc0, ...CONNECT, 0xc0);
    expect(encodeSlip(CONNECT)).toEqual(wire);
    expect(encodeFrame('slip', CONNECT)).toEqual(wire);
    expect(slip().push(wire)).toEqual([ok(CONNECT)]);
    expect(feed(slip(), oneByOne(wire))).toEqual([ok(CONNECT)]);
  });

  it('escapes END (C0) and ESC (DB) inside a frame, and reads them back', () => {
    const publish = bytes(
      0x0a, // Length 10
      0x0c, // MsgType PUBLISH
      0x00, // Flags: QoS 0, normal topic id
      0x00, 0x05, // TopicId 5
      0x00, 0x00, // MsgId 0
      0xc0, 0xdb, 0x01, // Data: END, ESC, 01
    );
    const wire = bytes(
      0xc0, // END
      0x0a, 0x0c, 0x00, 0x00, 0x05, 0x00, 0x00,
      0xdb, 0xdc, // ESC ESC_END = C0
      0xdb, 0xdd, // ESC ESC_ESC = DB
      0x01,
      0xc0, // END
    );
    expect(encodeSlip(publish)).toEqual(wire);
    expect(slip().push(wire)).toEqual([ok(publish)]);
    expect(feed(slip(), oneByOne(wire))).toEqual([ok(publish)]);
    // A length octet of C0 (a 192-octet frame) is escaped like any other.
    const f192 = encode({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'normal', id: 1 }, msgId: 0, payload: Buffer.alloc(185) });
    expect(encodeSlip(f192).subarray(0, 3)).toEqual(bytes(0xc0, 0xdb, 0xdc));
    expect(slip().push(encodeSlip(f192))).toEqual([ok(f192)]);
  });

  it('reads several frames from one chunk; empty frames between ENDs are ignored', () => {
    const stream = Buffer.concat([encodeSlip(CONNECT), bytes(0xc0, 0xc0), encodeSlip(PUBACK), encodeSlip(PINGREQ)]);
    expect(slip().push(stream)).toEqual([ok(CONNECT), ok(PUBACK), ok(PINGREQ)]);
  });

  it('turns garbage between frames into a candidate frame of its own (decode drops it downstream)', () => {
    const stream = Buffer.concat([bytes(0x55, 0xaa), encodeSlip(CONNECT), bytes(0x13, 0x37), encodeSlip(PINGREQ)]);
    const expected = [ok(bytes(0x55, 0xaa)), ok(CONNECT), ok(bytes(0x13, 0x37)), ok(PINGREQ)];
    expect(slip().push(stream)).toEqual(expected);
    expect(feed(slip(), oneByOne(stream))).toEqual(expected);
  });

  it('drops a frame with a bad escape and reads the next one', () => {
    const stream = Buffer.concat([
      bytes(0xc0, 0x02, 0xdb, 0x01, 0x16, 0xc0), // ESC 01: not ESC_END / ESC_ESC
      encodeSlip(PINGREQ),
      bytes(0xc0, 0x02, 0x16, 0xdb, 0xc0), // ESC right before END
      bytes(0xdb, 0xdb, 0xdd, 0xc0), // ESC ESC
      encodeSlip(PINGRESP),
    ]);
    const expected: FrameResult[] = [
      { ok: false, reason: 'bad-escape', bytes: 4 },
      ok(PINGREQ),
      { ok: false, reason: 'bad-escape', bytes: 3 },
      { ok: false, reason: 'bad-escape', bytes: 3 },
      ok(PINGRESP),
    ];
    expect(slip().push(stream)).toEqual(expected);
    expect(feed(slip(), oneByOne(stream))).toEqual(expected);
  });

  it('drops a frame over maxFrameSize without buffering it, and reads the next', () => {
    const s = slip(16);
    expect(s.push(encodeSlip(Buffer.alloc(16, 0x41)))).toEqual([ok(Buffer.alloc(16, 0x41))]);
    expect(s.push(bytes(0xc0))).toEqual([]);
    for (let i = 0; i < 1000; i++) expect(s.push(Buffer.alloc(1000, 0x41))).toEqual([]);
    expect(s.pending).toBe(1_000_000); // counted, not stored
    expect(s['frame'].length).toBeLessThanOrEqual(16);
    expect(s.push(Buffer.concat([bytes(0xc0), encodeSlip(PINGREQ)]))).toEqual([{ ok: false, reason: 'too-long', bytes: 1_000_000 }, ok(PINGREQ)]);
    // 17 decoded octets, two of them escaped: the count is in wire octets.
    const f17 = Buffer.concat([bytes(0xc0, 0xdb), Buffer.alloc(15)]);
    expect(s.push(encodeSlip(f17))).toEqual([{ ok: false, reason: 'too-long', bytes: 19 }]);
  });

  it('reset() drops a partial frame so the next frame is read', () => {
    const s = slip();
    expect(s.push(bytes(0xc0, 0x0d, 0x04, 0x04))).toEqual([]);
    expect(s.pending).toBe(3);
    s.reset();
    expect(s.pending).toBe(0);
    // Sent without the (optional) leading END: only the reset keeps it apart from the stale bytes.
    expect(s.push(bytes(...CONNECT, 0xc0))).toEqual([ok(CONNECT)]);
  });

  it('flush() after a gap reports an unterminated frame as truncated', () => {
    const s = slip();
    s.push(bytes(0xc0, 0x0d, 0x04, 0x04));
    expect(s.flush()).toEqual([{ ok: false, reason: 'truncated', bytes: 3 }]);
    expect(s.pending).toBe(0);
    expect(s.flush()).toEqual([]);
    expect(s.push(encodeSlip(CONNECT))).toEqual([ok(CONNECT)]);
  });

  it('returns copies: the caller may reuse its chunk', () => {
    const chunk = Buffer.from(encodeSlip(CONNECT));
    const [first] = slip().push(chunk);
    chunk.fill(0);
    expect(first).toEqual(ok(CONNECT));
  });
});

describe('createFrameReader', () => {
  it('makes the reader for the configured framing', () => {
    expect(createFrameReader('raw', 512)).toBeInstanceOf(RawFrameReader);
    expect(createFrameReader('slip', 512)).toBeInstanceOf(SlipFrameReader);
  });

  it('refuses a maxFrameSize that cannot hold a message', () => {
    for (const bad of [0, 1, 1.5, Number.NaN]) {
      expect(() => createFrameReader('raw', bad)).toThrow(RangeError);
      expect(() => createFrameReader('slip', bad)).toThrow(RangeError);
    }
  });
});

// --- properties --------------------------------------------------------------------------------

const u16 = fc.integer({ min: 0, max: 0xffff });
const qos = fc.constantFrom<Qos>(-1, 0, 1, 2);
const buf = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 23 });

const inner: fc.Arbitrary<InnerPacket> = fc.oneof(
  fc.record({ type: fc.constant('connect' as const), will: fc.boolean(), cleanSession: fc.boolean(), protocolId: fc.constant(1), duration: u16, clientId: text }),
  fc.record({ type: fc.constant('register' as const), topicId: u16, msgId: u16, topicName: text }),
  // Payloads up to 400 octets cross into the 3-octet length form; 'max' spreads the sizes.
  fc.record({
    type: fc.constant('publish' as const), dup: fc.boolean(), qos, retain: fc.boolean(),
    topic: fc.record({ kind: fc.constant('normal' as const), id: u16 }), msgId: u16,
    payload: fc.oneof(buf(16), fc.uint8Array({ maxLength: 400, size: 'max' }).map((a) => Buffer.from(a))),
  }),
  fc.record({ type: fc.constant('puback' as const), topicId: u16, msgId: u16, returnCode: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ type: fc.constant('pubrel' as const), msgId: u16 }),
  fc.oneof(fc.record({ type: fc.constant('pingreq' as const) }), fc.record({ type: fc.constant('pingreq' as const), clientId: text })),
  fc.oneof(fc.record({ type: fc.constant('disconnect' as const) }), fc.record({ type: fc.constant('disconnect' as const), duration: u16 })),
);
const packet: fc.Arbitrary<Packet> = fc.oneof(
  { arbitrary: inner, weight: 6 },
  { arbitrary: fc.record({ type: fc.constant('encapsulated' as const), radius: fc.constant(0), wirelessNodeId: buf(8), packet: inner }), weight: 1 },
);
const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 600 })), { minLength: 1, maxLength: 10 });

describe('properties', () => {
  it('raw: frames with runs of 00 between them, randomly chunked, all come out in order', () => {
    // 00 can never start a frame, so this garbage cannot fake one; other garbage can (see above).
    const input = fc.array(fc.tuple(fc.nat({ max: 6 }), packet.map(encode)), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(input, chunkSizes, (items, sizes) => {
        const stream = Buffer.concat(items.flatMap(([zeros, f]) => [Buffer.alloc(zeros), f]));
        const expected = items.flatMap(([zeros, f]) => (zeros > 0 ? [garbage(zeros), ok(f)] : [ok(f)]));
        const r = raw(1024);
        expect(joinGarbage(feed(r, chunked(stream, sizes)))).toEqual(expected);
        expect(r.pending).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('raw: with arbitrary garbage every byte is accounted for and every frame decodes', () => {
    const input = fc.array(fc.tuple(buf(24), packet.map(encode)), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(input, chunkSizes, (items, sizes) => {
        const stream = Buffer.concat(items.flat());
        const r = raw(1024);
        const results: FrameResult[] = [];
        for (const c of chunked(stream, sizes)) {
          results.push(...r.push(c));
          expect(r.pending).toBeLessThan(1024 + 3);
        }
        results.push(...r.flush());
        expect(r.pending).toBe(0);
        let total = 0;
        for (const res of results) {
          if (res.ok) {
            total += res.frame.length;
            const d = decode(res.frame);
            expect(d.ok || d.error.code === 'reserved-topic-id-type').toBe(true);
          } else {
            expect(res.reason).toBe('garbage');
            total += res.bytes;
          }
        }
        expect(total).toBe(stream.length);
      }),
      { numRuns: 500 },
    );
  });

  it('slip: any frame round-trips, with END only at both ends of the encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)), (f) => {
        const wire = encodeSlip(f);
        expect(wire[0]).toBe(0xc0);
        expect(wire.at(-1)).toBe(0xc0);
        expect(wire.subarray(1, -1).includes(0xc0)).toBe(false);
        expect(slip(300).push(wire)).toEqual([ok(f)]);
      }),
      { numRuns: 1000 },
    );
  });

  it('slip: frames with garbage (no C0) and extra ENDs between them, randomly chunked, all come out in order', () => {
    const noEnd = buf(24).map((g) => Buffer.from(g.map((b) => (b === 0xc0 ? 0xdb : b))));
    const input = fc.array(fc.tuple(noEnd, fc.nat({ max: 2 }), packet.map(encode)), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(input, chunkSizes, (items, sizes) => {
        const stream = Buffer.concat(items.flatMap(([g, ends, f]) => [g, Buffer.alloc(ends, 0xc0), encodeSlip(f)]));
        const s = slip(1024);
        const results = feed(s, chunked(stream, sizes));
        // Each non-empty garbage run yields exactly one result (a candidate frame or a drop), then the frame.
        let at = 0;
        for (const [g, , f] of items) {
          if (g.length > 0) at += 1;
          expect(results[at]).toEqual(ok(f));
          at += 1;
        }
        expect(results.length).toBe(at);
        expect(s.pending).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
