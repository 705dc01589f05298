import { RadioError } from '../src/radio.js';
import { parseBaud } from './serial-link.js';

export interface SerialUrl {
  readonly path: string;
  readonly baudRate: number;
  readonly query: URLSearchParams;
}

/**
 * `serial:///dev/ttyUSB0?baud=115200&framing=slip` or `xbee:///dev/ttyUSB0?baud=9600&api=2`: the
 * device path and its options. Unknown options are errors, so a typo is not silently ignored.
 */
export function parseSerialUrl(url: string, scheme: 'serial' | 'xbee', allowed: readonly string[], defaultBaud: number): SerialUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RadioError('bad-url', `radio URL "${url}" is not a URL; expected ${scheme}:///dev/ttyUSB0?baud=${defaultBaud}`);
  }
  if (parsed.protocol !== `${scheme}:`) throw new RadioError('bad-url', `radio URL "${url}" is not a ${scheme} radio`);
  // serial://dev/ttyUSB0 (two slashes) would make "dev" the host: take it as part of the path.
  const path = decodeURIComponent(`${parsed.host ? `/${parsed.host}` : ''}${parsed.pathname}`);
  if (path === '' || path === '/') throw new RadioError('bad-url', `radio URL "${url}" names no serial port; expected ${scheme}:///dev/ttyUSB0`);
  for (const key of parsed.searchParams.keys()) {
    if (key !== 'baud' && !allowed.includes(key)) {
      throw new RadioError('bad-url', `radio URL "${url}": unknown option "${key}"; allowed: baud, ${allowed.join(', ')}`);
    }
  }
  return { path, baudRate: parseBaud(url, parsed.searchParams.get('baud'), defaultBaud), query: parsed.searchParams };
}
