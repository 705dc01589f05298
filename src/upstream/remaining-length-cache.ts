import type { Packet } from 'mqtt-packet';

type WriteToStream = (packet: Packet, stream: NodeJS.WritableStream, options?: object) => boolean;

/** Remaining lengths below this are cached by mqtt-packet (writeToStream.js, `varByteIntCache`). */
export const CACHED_LENGTHS = 16_384;
/** Lengths filled together: their 1,024 entries share about one pool block. */
export const LENGTHS_PER_BUCKET = 1024;
const BUCKETS = CACHED_LENGTHS / LENGTHS_PER_BUCKET;

/** Buckets filled so far, per mqtt-packet instance (its cache is module state). */
const filledBuckets = new WeakMap<WriteToStream, boolean[]>();

/** Swallows the bytes: only the cache is wanted. No `cork`, so nothing is scheduled. */
const sink = { write: () => true, destroy: () => undefined } as unknown as NodeJS.WritableStream;

/**
 * Fills one bucket of mqtt-packet's cache of encoded "remaining length" fields, back to back.
 *
 * mqtt-packet keeps the 1-4 byte encoding of every packet length under 16 KiB it has written, for
 * ever, and each is a slice of Node's shared Buffer pool (mqttjs/mqtt-packet#163, open). Filled
 * as traffic brings new lengths, entries are minutes apart and each keeps a whole pool block alive
 * (8 KiB on Node 20, 64 KiB on Node 24): under the fuzz, 2,467 of them held 19 MiB, on the way to
 * 128 MiB (1 GiB on Node 24), which was the gateway's "memory that never comes back". Written back
 * to back, a bucket's entries share about one block.
 */
function bucketsOf(writeToStream: WriteToStream): boolean[] {
  let filled = filledBuckets.get(writeToStream);
  if (!filled) {
    filled = new Array<boolean>(BUCKETS).fill(false);
    filledBuckets.set(writeToStream, filled);
  }
  return filled;
}

function fillBucket(writeToStream: WriteToStream, bucket: number): void {
  const filled = bucketsOf(writeToStream);
  if (filled[bucket]) return;
  filled[bucket] = true;
  const first = bucket * LENGTHS_PER_BUCKET;
  if (bucket === 0) {
    writeToStream({ cmd: 'pingreq' }, sink);
    writeToStream({ cmd: 'puback', messageId: 1 }, sink); // remaining length 2
  }
  // QoS 0 PUBLISH to "t": remaining length = 2 + 1 + payload length.
  const payload = Buffer.alloc(first + LENGTHS_PER_BUCKET);
  const packet = { cmd: 'publish' as const, topic: 't', payload, qos: 0 as const, dup: false, retain: false };
  for (let length = Math.max(3, first); length < first + LENGTHS_PER_BUCKET; length++) {
    packet.payload = payload.subarray(0, length - 3);
    writeToStream(packet, sink);
  }
}

/** The whole cache at once (16 buckets): for aedes's copy of mqtt-packet, whose writes the gateway cannot see coming. */
export function fillRemainingLengthCache(writeToStream: WriteToStream): void {
  for (let bucket = 0; bucket < BUCKETS; bucket++) fillBucket(writeToStream, bucket);
}

/**
 * The cache filled a bucket at a time, just before the first packet whose remaining length falls
 * in it is written. Filling all 16,384 entries at start made the young generation grow to hold
 * them: 11 MB more idle memory on a gateway whose devices send small messages (bucket 0 only).
 */
export class RemainingLengthCache {
  private readonly filled: boolean[];

  constructor(private readonly writeToStream: WriteToStream) {
    this.filled = bucketsOf(writeToStream);
    fillBucket(writeToStream, 0); // acknowledgements, pings and small messages
  }

  /** A packet with a remaining length between `least` and `most` is about to be written. */
  cover(least: number, most: number): void {
    const last = Math.min(BUCKETS - 1, Math.floor(most / LENGTHS_PER_BUCKET));
    for (let bucket = Math.floor(least / LENGTHS_PER_BUCKET); bucket <= last; bucket++) {
      if (!this.filled[bucket]) fillBucket(this.writeToStream, bucket);
    }
  }
}
