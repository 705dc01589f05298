/**
 * Properties: every valid packet survives encode -> decode unchanged, and decode is total over
 * arbitrary bytes (never throws; errors carry a known code and an offset inside the frame).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, EncodeError } from '../../src/codec/index.js';
import type { DecodeErrorCode, InnerPacket, Packet, PublishTopic, Qos, SubscribeTopic } from '../../src/codec/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const qos = fc.constantFrom<Qos>(-1, 0, 1, 2);
const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
/** fast-check biases lengths small by default; `size: 'max'` spreads them over 0..maxLength. */
const anySize = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength, size: 'max' }).map((a) => Buffer.from(a));
/** Any Unicode (no lone surrogates: those cannot be UTF-8), at least one code point. */
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const shortName = fc.string({ unit: 'binary-ascii', minLength: 2, maxLength: 2 });

const publishTopic: fc.Arbitrary<PublishTopic> = fc.oneof(
  fc.record({ kind: fc.constant('normal' as const), id: u16 }),
  fc.record({ kind: fc.constant('predefined' as const), id: u16 }),
  fc.record({ kind: fc.constant('short' as const), name: shortName }),
);
const subscribeTopic: fc.Arbitrary<SubscribeTopic> = fc.oneof(
  fc.record({ kind: fc.constant('name' as const), name: text }),
  fc.record({ kind: fc.constant('predefined' as const), id: u16 }),
  fc.record({ kind: fc.constant('short' as const), name: shortName }),
);
const tag = <T extends string>(t: T): fc.Arbitrary<T> => fc.constant(t);
/** WILLTOPIC(UPD): the empty form has no flags, so it is always QoS 0, no retain. */
const willTopic = <T extends 'willtopic' | 'willtopicupd'>(type: T) =>
  fc.oneof(
    fc.constant({ type, qos: 0 as Qos, retain: false, topic: '' }),
    fc.record({ type: tag(type), qos, retain: fc.boolean(), topic: text }),
  );

const inner: fc.Arbitrary<InnerPacket> = fc.oneof(
  fc.record({ type: tag('advertise'), gwId: u8, duration: u16 }),
  fc.record({ type: tag('searchgw'), radius: u8 }),
  fc.record({ type: tag('gwinfo'), gwId: u8, gwAdd: bytes(16) }),
  fc.record({ type: tag('connect'), will: fc.boolean(), cleanSession: fc.boolean(), protocolId: u8, duration: u16, clientId: text }),
  fc.record({ type: tag('connack'), returnCode: u8 }),
  fc.record({ type: tag('willtopicreq') }),
  willTopic('willtopic'),
  fc.record({ type: tag('willmsgreq') }),
  fc.record({ type: tag('willmsg'), payload: bytes(64) }),
  fc.record({ type: tag('register'), topicId: u16, msgId: u16, topicName: text }),
  fc.record({ type: tag('regack'), topicId: u16, msgId: u16, returnCode: u8 }),
  // Payloads up to 400 octets cross the 255 boundary between the two length forms.
  fc.record({ type: tag('publish'), dup: fc.boolean(), qos, retain: fc.boolean(), topic: publishTopic, msgId: u16, payload: fc.oneof(bytes(16), anySize(400)) }),
  fc.record({ type: tag('puback'), topicId: u16, msgId: u16, returnCode: u8 }),
  fc.record({ type: tag('pubcomp'), msgId: u16 }),
  fc.record({ type: tag('pubrec'), msgId: u16 }),
  fc.record({ type: tag('pubrel'), msgId: u16 }),
  fc.record({ type: tag('subscribe'), dup: fc.boolean(), qos, msgId: u16, topic: subscribeTopic }),
  fc.record({ type: tag('suback'), qos, topicId: u16, msgId: u16, returnCode: u8 }),
  fc.record({ type: tag('unsubscribe'), msgId: u16, topic: subscribeTopic }),
  fc.record({ type: tag('unsuback'), msgId: u16 }),
  // exactOptionalPropertyTypes: generate the property or leave it out, never `undefined`.
  fc.oneof(fc.record({ type: tag('pingreq') }), fc.record({ type: tag('pingreq'), clientId: text })),
  fc.record({ type: tag('pingresp') }),
  fc.oneof(fc.record({ type: tag('disconnect') }), fc.record({ type: tag('disconnect'), duration: u16 })),
  willTopic('willtopicupd'),
  fc.record({ type: tag('willtopicresp'), returnCode: u8 }),
  fc.record({ type: tag('willmsgupd'), payload: bytes(64) }),
  fc.record({ type: tag('willmsgresp'), returnCode: u8 }),
);

const packet: fc.Arbitrary<Packet> = fc.oneof(
  { arbitrary: inner, weight: 5 },
  { arbitrary: fc.record({ type: tag('encapsulated'), radius: fc.integer({ min: 0, max: 3 }), wirelessNodeId: bytes(8), packet: inner }), weight: 1 },
);

const CODES: ReadonlySet<DecodeErrorCode> = new Set<DecodeErrorCode>([
  'too-short', 'length-zero', 'length-incomplete', 'length-below-header', 'length-exceeds-datagram',
  'length-below-datagram', 'unknown-type', 'bad-length', 'reserved-topic-id-type', 'bad-encapsulation',
  'nested-encapsulation',
]);

/** decode is total; a failure names a known code and a position inside the frame. */
function checkTotal(frame: Buffer): void {
  const r = decode(frame);
  if (r.ok) return;
  expect(CODES.has(r.error.code)).toBe(true);
  expect(r.error.offset).toBeGreaterThanOrEqual(0);
  expect(r.error.offset).toBeLessThanOrEqual(frame.length);
}

/** Text decoded from invalid UTF-8 carries a lone surrogate (codec/text.ts): refused by the gateway, not re-encodable as sent. */
function holdsInvalidUtf8(value: unknown): boolean {
  if (typeof value === 'string') return /\p{Cs}/u.test(value);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  return Object.values(value).some(holdsInvalidUtf8);
}

/** A frame that decoded re-encodes to one that decodes to the same packet (bar invalid UTF-8 text). */
function checkStable(frame: Buffer): void {
  const r = decode(frame);
  if (!r.ok || holdsInvalidUtf8(r.packet)) return;
  let again: Buffer;
  try {
    again = encode(r.packet);
  } catch (e) {
    // Two octets that are not valid UTF-8 decode to U+FFFD, which no longer fits in 2 octets.
    if (e instanceof EncodeError && e.code === 'bad-short-name') return;
    throw e;
  }
  expect(decode(again)).toEqual(r);
}

describe('encode -> decode', () => {
  it('returns the same packet for every valid packet', () => {
    fc.assert(
      fc.property(packet, (p) => {
        expect(decode(encode(p))).toEqual({ ok: true, packet: p });
      }),
      { numRuns: 3000 },
    );
  });

  it('uses the 1-octet length form exactly when the total is <= 255', () => {
    let long = 0;
    fc.assert(
      fc.property(inner, (p) => {
        const frame = encode(p);
        if (frame.length > 255) long += 1;
        if (frame.length <= 255) expect(frame[0]).toBe(frame.length);
        else expect([frame[0], frame.readUInt16BE(1)]).toEqual([0x01, frame.length]);
      }),
      { numRuns: 1000 },
    );
    // The generator must actually reach the 3-octet form.
    expect(long).toBeGreaterThan(0);
  });
});

describe('decode over arbitrary bytes', () => {
  it('never throws; errors have a known code and 0 <= offset <= length', () => {
    fc.assert(fc.property(bytes(300), (frame) => checkTotal(frame)), { numRuns: 5000 });
  });

  it('never throws on frames that look almost right (type octet from the known set)', () => {
    const nearly = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(...Array.from({ length: 32 }, (_, i) => i), 0xfe), bytes(38))
      .map(([len, type, rest]) => Buffer.concat([Buffer.from([len, type]), rest]));
    fc.assert(fc.property(nearly, (frame) => { checkTotal(frame); checkStable(frame); }), { numRuns: 5000 });
  });

  it('never throws on mutated, truncated or extended valid frames', () => {
    const mutated = fc
      .tuple(packet, fc.nat(), u8, fc.constantFrom('flip', 'truncate', 'append'))
      .map(([p, i, v, how]) => {
        const frame = Buffer.from(encode(p));
        const at = frame.length === 0 ? 0 : i % frame.length;
        if (how === 'flip') frame[at] = v;
        if (how === 'truncate') return frame.subarray(0, at);
        if (how === 'append') return Buffer.concat([frame, Buffer.from([v])]);
        return frame;
      });
    fc.assert(fc.property(mutated, (frame) => { checkTotal(frame); checkStable(frame); }), { numRuns: 5000 });
  });
});
