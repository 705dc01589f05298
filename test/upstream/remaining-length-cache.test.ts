import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CACHED_LENGTHS, fillRemainingLengthCache } from '../../src/upstream/remaining-length-cache.js';

/** Writes a QoS 0 PUBLISH whose remaining length is `length`; returns its bytes. */
function publishOfLength(length: number): Buffer {
  const chunks: Buffer[] = [];
  const stream = { write: (chunk: Buffer) => chunks.push(Buffer.from(chunk)) > 0, destroy: () => undefined } as unknown as NodeJS.WritableStream;
  mqttPacket.writeToStream({ cmd: 'publish', topic: 't', payload: Buffer.alloc(length - 3), qos: 0, dup: false, retain: false }, stream);
  return Buffer.concat(chunks);
}

describe("mqtt-packet's remaining-length cache, filled at start (mqttjs/mqtt-packet#163)", () => {
  afterEach(() => vi.restoreAllMocks());

  it('before: each new packet length adds a pool slice to the cache; after filling, no length under 16 KiB allocates one again', () => {
    mqttPacket.writeToStream.cacheNumbers = false; // as the gateway's MQTT.js clients run
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    // The encoding buffer is allocUnsafe(4): count those, not the 2-byte topic lengths.
    const cacheEntries = (): number => allocUnsafe.mock.calls.filter(([size]) => size === 4).length;
    for (let length = 5000; length < 5010; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(10); // ten lengths never written before: ten new entries, pinned for ever
    for (let length = 5000; length < 5010; length++) publishOfLength(length);
    expect(cacheEntries()).toBe(10); // cached from now on
    fillRemainingLengthCache(mqttPacket.writeToStream);
    const afterFill = cacheEntries();
    expect(afterFill).toBeGreaterThan(CACHED_LENGTHS - 20); // all at once, back to back in the pool
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
