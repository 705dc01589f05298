import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fillRemainingLengthCache, LENGTHS_PER_BUCKET, RemainingLengthCache } from '../../src/upstream/remaining-length-cache.js';

/** Writes a QoS 0 PUBLISH whose remaining length is `length`; returns its bytes. */
function publishOfLength(length: number): Buffer {
  const chunks: Buffer[] = [];
  const stream = { write: (chunk: Buffer) => chunks.push(Buffer.from(chunk)) > 0, destroy: () => undefined } as unknown as NodeJS.WritableStream;
  mqttPacket.writeToStream({ cmd: 'publish', topic: 't', payload: Buffer.alloc(length - 3), qos: 0, dup: false, retain: false }, stream);
  return Buffer.concat(chunks);
}

describe("mqtt-packet's remaining-length cache, filled ahead of use (mqttjs/mqtt-packet#163)", () => {
  afterEach(() => vi.restoreAllMocks());

  // First: the cache is module state, and the test below fills all of it.
  it('a bucket at a time: small lengths at construction, a bucket of larger ones together just before the first is written', () => {
    mqttPacket.writeToStream.cacheNumbers = false;
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const cacheEntries = (): number => allocUnsafe.mock.calls.filter(([size]) => size === 4).length;
    const lengths = new RemainingLengthCache(mqttPacket.writeToStream);
    expect(cacheEntries()).toBe(LENGTHS_PER_BUCKET - 2); // lengths 2..1023 (0 needs no entry)
    for (let length = 3; length < LENGTHS_PER_BUCKET; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(LENGTHS_PER_BUCKET - 2);
    lengths.cover(5000, 5030); // 5000 is in the fifth bucket, 4096..5119
    expect(cacheEntries()).toBe(2 * LENGTHS_PER_BUCKET - 2);
    for (let length = 4096; length < 5120; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(2 * LENGTHS_PER_BUCKET - 2); // nothing pinned later
    lengths.cover(5100, 6100); // straddles into the sixth, 5120..6143
    expect(cacheEntries()).toBe(3 * LENGTHS_PER_BUCKET - 2);
    lengths.cover(40_000, 70_000); // not cached by mqtt-packet at all
    expect(cacheEntries()).toBe(3 * LENGTHS_PER_BUCKET - 2);
  });

  it('before: each new packet length adds a pool slice to the cache; after filling, no length under 16 KiB allocates one again', () => {
    mqttPacket.writeToStream.cacheNumbers = false; // as the gateway's MQTT.js clients run
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    // The encoding buffer is allocUnsafe(4): count those, not the 2-byte topic lengths.
    const cacheEntries = (): number => allocUnsafe.mock.calls.filter(([size]) => size === 4).length;
    for (let length = 9000; length < 9010; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(10); // ten lengths never written before: ten new entries, pinned for ever
    for (let length = 9000; length < 9010; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(10); // cached from now on
    fillRemainingLengthCache(mqttPacket.writeToStream);
    const afterFill = cacheEntries();
    // All at once, back to back in the pool: the 13 buckets the test above left (ten of their lengths already written here).
    expect(afterFill).toBe(13 * LENGTHS_PER_BUCKET);
    for (let length = 6000; length < 6500; length++) publishOfLength(length);
    for (let length = 3; length < 200; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(afterFill);
    fillRemainingLengthCache(mqttPacket.writeToStream); // once per mqtt-packet instance
    expect(cacheEntries()).toBe(afterFill);
  });

  it('the bytes on the wire are unchanged: remaining length as MQTT variable byte integers', () => {
    fillRemainingLengthCache(mqttPacket.writeToStream);
    // Fixed header 0x30 (PUBLISH, QoS 0), then the remaining length: 7 bits per byte, low first.
    expect([...publishOfLength(127).subarray(0, 3)]).toEqual([0x30, 0x7f, 0x00]); // then topic length 0x0001
    expect([...publishOfLength(128).subarray(0, 3)]).toEqual([0x30, 0x80, 0x01]);
    expect([...publishOfLength(16_383).subarray(0, 3)]).toEqual([0x30, 0xff, 0x7f]);
    expect([...publishOfLength(16_384).subarray(0, 4)]).toEqual([0x30, 0x80, 0x80, 0x01]);
    const packet = publishOfLength(300);
    expect(packet.length).toBe(1 + 2 + 300);
    expect(packet.subarray(3, 6).toString('latin1')).toBe('\x00\x01t');
  });
});
