import { describe, expect, it } from 'vitest';
import { parseGatewayUrl } from '../../src/client/url.js';

describe('parseGatewayUrl', () => {
  it('parses udp and udp6 URLs', () => {
    expect(parseGatewayUrl('udp://127.0.0.1:1884')).toEqual({ family: 'udp4', host: '127.0.0.1', port: 1884 });
    expect(parseGatewayUrl('udp6://[::1]:1885')).toEqual({ family: 'udp6', host: '::1', port: 1885 });
    expect(parseGatewayUrl('udp://[::1]:9')).toEqual({ family: 'udp6', host: '::1', port: 9 });
    expect(parseGatewayUrl('udp://localhost:1')).toEqual({ family: 'udp4', host: 'localhost', port: 1 });
  });

  it('rejects other schemes, missing ports and junk', () => {
    expect(() => parseGatewayUrl('tcp://127.0.0.1:1884')).toThrow(/scheme/);
    expect(() => parseGatewayUrl('udp://127.0.0.1')).toThrow(/port/);
    expect(() => parseGatewayUrl('127.0.0.1:1884')).toThrow(/gateway URL/);
  });
});
