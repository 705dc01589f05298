import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The stateless half of the DTLS 1.2 handshake (RFC 6347 §4.2.1): a ClientHello without a valid
 * cookie is answered with a HelloVerifyRequest carrying an HMAC of the sender's address, and
 * nothing is kept, so spoofed ClientHellos cost neither memory nor a key pair and are not
 * amplified (the answer is smaller than the ClientHello). Only a ClientHello that returns the
 * cookie (the sender proved it receives at that address) gets a DTLS session.
 */

const RECORD_HEADER = 13;
const HANDSHAKE_HEADER = 12;
const CONTENT_HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const HELLO_VERIFY_REQUEST = 3;
const COOKIE_LENGTH = 20;

export interface ClientHelloRecord {
  /** Offset of the cookie's length octet within the record. */
  readonly cookieAt: number;
  readonly cookie: Buffer;
  readonly random: Buffer;
}

/** The ClientHello in a single-record, unfragmented handshake datagram, or undefined. */
export function parseClientHello(record: Buffer): ClientHelloRecord | undefined {
  if (record.length < RECORD_HEADER + HANDSHAKE_HEADER + 35 || record[0] !== CONTENT_HANDSHAKE || record[1] !== 0xfe) return undefined;
  const body = RECORD_HEADER + HANDSHAKE_HEADER;
  if (record[RECORD_HEADER] !== CLIENT_HELLO) return undefined;
  const length = record.readUIntBE(RECORD_HEADER + 1, 3);
  const fragmentOffset = record.readUIntBE(RECORD_HEADER + 6, 3);
  const fragmentLength = record.readUIntBE(RECORD_HEADER + 9, 3);
  if (fragmentOffset !== 0 || fragmentLength !== length || body + length > record.length) return undefined;
  const random = record.subarray(body + 2, body + 34);
  const sessionIdLength = record[body + 34]!;
  const cookieAt = body + 35 + sessionIdLength;
  if (cookieAt >= body + length) return undefined;
  const cookieLength = record[cookieAt]!;
  if (cookieAt + 1 + cookieLength > body + length) return undefined;
  return { cookieAt, cookie: record.subarray(cookieAt + 1, cookieAt + 1 + cookieLength), random };
}

export class CookieJar {
  private secret = randomBytes(32);
  private previous: Buffer | undefined;
  private rotatedAt = Date.now();

  /** Secrets rotate (a cookie is good for one to two periods), so a captured one stops working. */
  constructor(private readonly rotateMs = 300_000) {}

  /** The cookie for `address` and this ClientHello's random. */
  cookieFor(address: string, random: Buffer, secret = this.current()): Buffer {
    return createHmac('sha256', secret).update(address).update(random).digest().subarray(0, COOKIE_LENGTH);
  }

  /** Whether the ClientHello returns the cookie this address was given (with this or the previous secret). */
  verify(address: string, hello: ClientHelloRecord): boolean {
    if (hello.cookie.length !== COOKIE_LENGTH) return false;
    const secrets = [this.current(), this.previous].filter((secret): secret is Buffer => secret !== undefined);
    return secrets.some((secret) => timingSafeEqual(this.cookieFor(address, hello.random, secret), hello.cookie));
  }

  private current(): Buffer {
    if (Date.now() - this.rotatedAt > this.rotateMs) {
      this.previous = this.secret;
      this.secret = randomBytes(32);
      this.rotatedAt = Date.now();
    }
    return this.secret;
  }
}

/** HelloVerifyRequest (handshake type 3) in a record of epoch 0, echoing the ClientHello's record sequence number. */
export function helloVerifyRequest(clientHello: Buffer, cookie: Buffer): Buffer {
  const bodyLength = 2 + 1 + cookie.length;
  const out = Buffer.alloc(RECORD_HEADER + HANDSHAKE_HEADER + bodyLength);
  out[0] = CONTENT_HANDSHAKE;
  out[1] = 0xfe; // DTLS 1.0 in the record and the body, as RFC 6347 §4.2.1 advises for HelloVerifyRequest
  out[2] = 0xff;
  clientHello.copy(out, 3, 3, 11); // epoch and sequence number: the ClientHello's (§4.2.1)
  out.writeUInt16BE(HANDSHAKE_HEADER + bodyLength, 11);
  out[RECORD_HEADER] = HELLO_VERIFY_REQUEST;
  out.writeUIntBE(bodyLength, RECORD_HEADER + 1, 3);
  out.writeUInt16BE(0, RECORD_HEADER + 4); // message_seq 0
  out.writeUIntBE(0, RECORD_HEADER + 6, 3);
  out.writeUIntBE(bodyLength, RECORD_HEADER + 9, 3);
  const body = RECORD_HEADER + HANDSHAKE_HEADER;
  out[body] = 0xfe;
  out[body + 1] = 0xff;
  out[body + 2] = cookie.length;
  cookie.copy(out, body + 3);
  return out;
}

/** The same ClientHello without its cookie (lengths adjusted): how the DTLS library is told the exchange starts. */
export function withoutCookie(record: Buffer, hello: ClientHelloRecord): Buffer {
  const removed = hello.cookie.length;
  const out = Buffer.concat([record.subarray(0, hello.cookieAt), Buffer.from([0]), record.subarray(hello.cookieAt + 1 + removed)]);
  out.writeUInt16BE(out.readUInt16BE(11) - removed, 11);
  const length = out.readUIntBE(RECORD_HEADER + 1, 3) - removed;
  out.writeUIntBE(length, RECORD_HEADER + 1, 3);
  out.writeUInt16BE(0, RECORD_HEADER + 4); // message_seq 0: the client's first ClientHello, as it was
  out.writeUIntBE(length, RECORD_HEADER + 9, 3);
  return out;
}

/** Whether a datagram the DTLS library sends is its own HelloVerifyRequest (replaced by ours). */
export function isHelloVerifyRequest(record: Buffer): boolean {
  return record.length > RECORD_HEADER && record[0] === CONTENT_HANDSHAKE && record[RECORD_HEADER] === HELLO_VERIFY_REQUEST;
}
