/** Why a store operation failed. */
export type StoreErrorCode =
  | 'locked' // another process holds the LevelDB LOCK of the directory
  | 'cannot-open' // the directory cannot be created or opened
  | 'not-open' // an operation before open() or after close()
  | 'bad-record'; // a client ID, seq or topic the store cannot key or encode

/** A store failure with a machine code and a message a user can act on. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The largest seq a 12-hex-digit key can hold. */
export const MAX_SEQ = 2 ** 48 - 1;

/** NUL separates the parts of a key, so a client ID must not contain it. */
export function checkClientId(clientId: string): void {
  if (clientId.includes('\u0000')) {
    throw new StoreError('bad-record', `client ID ${JSON.stringify(clientId)} contains NUL, which the durable store cannot key`);
  }
}

export function checkSeq(seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new StoreError('bad-record', `message seq ${seq} is not an integer between 0 and 2^48-1`);
  }
}

/** A stored message keeps its topic length in 16 bits, as MQTT does (MQTT 3.1.1 §1.5.3). */
export function checkTopic(topic: string): void {
  const length = Buffer.byteLength(topic, 'utf8');
  if (length > 0xffff) throw new StoreError('bad-record', `topic of ${length} bytes exceeds 65535`);
}
