/** Where the gateway listens, parsed from `udp://HOST:PORT` or `udp6://[ADDR]:PORT`. */
export interface GatewayAddress {
  readonly family: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
}

/** The MQTT-SN port registered with IANA is 1883/udp; the project's gateway defaults to 1884. */
export const DEFAULT_GATEWAY = 'udp://127.0.0.1:1884';

/**
 * Parses a gateway URL. `udp:` means IPv4 unless the host is a bracketed IPv6 literal;
 * `udp6:` always means IPv6. Throws a plain Error naming the URL when it is not usable.
 */
export function parseGatewayUrl(text: string): GatewayAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid gateway URL "${text}": expected udp://HOST:PORT or udp6://[ADDR]:PORT`);
  }
  if (url.protocol !== 'udp:' && url.protocol !== 'udp6:') {
    throw new Error(`invalid gateway URL "${text}": scheme must be udp: or udp6:`);
  }
  const port = Number(url.port);
  if (url.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid gateway URL "${text}": a port 1-65535 is required`);
  }
  // WHATWG URL keeps the brackets around IPv6 literals; dgram wants the bare address.
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new Error(`invalid gateway URL "${text}": host is missing`);
  const family = url.protocol === 'udp6:' || bracketed ? 'udp6' : 'udp4';
  return { family, host, port };
}
