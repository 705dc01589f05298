import type { Packet } from 'mqtt-packet';

type WriteToStream = (packet: Packet, stream: NodeJS.WritableStream, options?: object) => boolean;

/** Remaining lengths below this are cached by mqtt-packet (writeToStream.js, `varByteIntCache`). */
export const CACHED_LENGTHS = 16_384;

const filled = new WeakSet<WriteToStream>();

/**
 * Fills mqtt-packet's cache of encoded "remaining length" fields in one go.
 *
 * mqtt-packet keeps the 1-4 byte encoding of every packet length under 16 KiB it has written, for
 * ever, and each is a slice of Node's shared Buffer pool (mqttjs/mqtt-packet#163, open). Filled
 * as traffic brings new lengths, entries are minutes apart and each keeps a whole pool block alive
 * (8 KiB on Node 20, 64 KiB on Node 24): under the fuzz, 2,467 of them held 19 MiB, on the way to
 * 128 MiB (1 GiB on Node 24), which was the gateway's "memory that never comes back". Written back
 * to back, all 16,384 share about 16 blocks (128 KiB), and nothing is added later.
 *
 * Costs a few milliseconds, once per mqtt-packet instance (the bundled one, and aedes's).
 */
export function fillRemainingLengthCache(writeToStream: WriteToStream): void {
  if (filled.has(writeToStream)) return;
  filled.add(writeToStream);
  // Swallows the bytes: only the cache is wanted. No `cork`, so nothing is scheduled.
  const sink = { write: () => true, destroy: () => undefined } as unknown as NodeJS.WritableStream;
  const payload = Buffer.alloc(CACHED_LENGTHS);
  writeToStream({ cmd: 'pingreq' }, sink);
  writeToStream({ cmd: 'puback', messageId: 1 }, sink); // remaining length 2
  // QoS 0 PUBLISH to "t": remaining length = 2 + 1 + payload length.
  for (let length = 3; length < CACHED_LENGTHS; length++) {
    writeToStream({ cmd: 'publish', topic: 't', payload: payload.subarray(0, length - 3), qos: 0, dup: false, retain: false }, sink);
  }
}
