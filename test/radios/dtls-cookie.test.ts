import { describe, expect, it } from 'vitest';
import { CookieJar, helloVerifyRequest, isHelloVerifyRequest, parseClientHello, withoutCookie } from '../../radios/dtls-cookie.js';

/** A DTLS 1.2 ClientHello record: epoch 0, record seq 5, message_seq `messageSeq`, with `cookie`. */
function clientHello(cookie: Buffer, messageSeq = 1): Buffer {
  const body = Buffer.concat([Buffer.from([0xfe, 0xfd]), Buffer.alloc(32, 7), Buffer.from([0]), Buffer.from([cookie.length]), cookie, Buffer.from([0x00, 0x02, 0xc0, 0x2b, 0x01, 0x00])]);
  const handshake = Buffer.alloc(12);
  handshake[0] = 1;
  handshake.writeUIntBE(body.length, 1, 3);
  handshake.writeUInt16BE(messageSeq, 4);
  handshake.writeUIntBE(body.length, 9, 3);
  const record = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0]);
  record.writeUInt16BE(handshake.length + body.length, 11);
  return Buffer.concat([record, handshake, body]);
}

describe('stateless DTLS cookies', () => {
  it('a cookie verifies for the address it was made for, not for another', () => {
    const jar = new CookieJar();
    const first = parseClientHello(clientHello(Buffer.alloc(0), 0))!;
    const cookie = jar.cookieFor('10.0.0.1:5000', first.random);
    const back = parseClientHello(clientHello(cookie))!;
    expect(jar.verify('10.0.0.1:5000', back)).toBe(true);
    expect(jar.verify('10.0.0.1:5001', back)).toBe(false);
    expect(jar.verify('10.0.0.1:5000', parseClientHello(clientHello(Buffer.alloc(20, 1)))!)).toBe(false);
  });

  it('HelloVerifyRequest: type 3 echoing the record sequence number, with the cookie, smaller than the ClientHello', () => {
    const hello = clientHello(Buffer.alloc(0), 0);
    const hvr = helloVerifyRequest(hello, Buffer.alloc(20, 9));
    expect([...hvr.subarray(0, 13)]).toEqual([22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 0, 35]);
    expect([...hvr.subarray(13, 25)]).toEqual([3, 0, 0, 23, 0, 0, 0, 0, 0, 0, 0, 23]);
    expect([...hvr.subarray(25, 28)]).toEqual([0xfe, 0xff, 20]);
    expect(isHelloVerifyRequest(hvr)).toBe(true);
    expect(hvr.length).toBeLessThan(hello.length);
  });

  it('the ClientHello without its cookie is the client first one: lengths and message_seq 0', () => {
    const withCookie = clientHello(Buffer.alloc(20, 3), 1);
    const stripped = withoutCookie(withCookie, parseClientHello(withCookie)!);
    expect(stripped).toEqual(clientHello(Buffer.alloc(0), 0));
  });
});
