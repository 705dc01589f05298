import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { RadioError, type Radio, type RadioEvents } from '../src/radio.js';
import { kernelDrops } from './udp-drops.js';
import { GroupListener, interfaceAddress } from './udp-group.js';

/** Largest UDP payload over IPv4 (65535 - 8 UDP header - 20 IP header). */
const MAX_UDP_PAYLOAD = 65_507;
/** A burst from hundreds of devices must fit in the kernel's queue while Node is busy. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * What one small datagram costs in the receive queue on Linux (its buffer's true size: 832 bytes
 * for 39 bytes of MQTT-SN, measured with ss -m), halved: the kernel doubles what is asked.
 */
const QUEUED_BYTES_PER_DATAGRAM = 832 / 2;
/** The smallest bounded queue: a few hundred datagrams. */
const MIN_BOUNDED_BUFFER_BYTES = 64 * 1024;

export interface UdpRadioOptions {
  /** `udp://HOST:PORT` (IPv4) or `udp6://[HOST]:PORT` (IPv6); port defaults to 1884. */
  readonly url: string;
  /** Port used by `broadcast`; defaults to the bound port. */
  readonly broadcastPort?: number;
}

interface UdpEndpoint {
  readonly family: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
  /** Where ADVERTISE goes: `?broadcast=ADDR[:PORT]` (default 255.255.255.255, the bound port). */
  readonly broadcast?: { readonly host: string; readonly port?: number };
  /**
   * `?multicast=GROUP[:PORT]`: SEARCHGW sent there is heard, and ADVERTISE (and GWINFO for a
   * SEARCHGW heard there) goes there. With a PORT other than the radio's, a socket of its own
   * listens on it (Paho's MulticastPortNo); without, the radio's own socket joins the group.
   */
  readonly multicast?: { readonly host: string; readonly port?: number };
  /** `?interface=NAME|ADDRESS`: the interface the group is joined and sent on. */
  readonly iface?: string;
}

/** `ADDR` or `ADDR:PORT` from a query option; IPv6 as `[ADDR]:PORT`. */
function hostAndPort(url: string, option: string, value: string): { host: string; port?: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(value);
  if (!match?.[1]) throw new RadioError('bad-url', `radio URL "${url}": ${option}=${value} is not ADDRESS or ADDRESS:PORT`);
  return match[2] === undefined ? { host: match[1] } : { host: match[1], port: Number(match[2]) };
}

export const DEFAULT_UDP_PORT = 1884;

/** Parses `udp://0.0.0.0:1884` or `udp6://[::]:1884`; throws a RadioError naming what is wrong. */
export function parseUdpUrl(url: string): UdpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RadioError('bad-url', `radio URL "${url}" is not a URL; expected udp://HOST:PORT or udp6://[HOST]:PORT`);
  }
  const family = parsed.protocol === 'udp:' ? 'udp4' : parsed.protocol === 'udp6:' ? 'udp6' : undefined;
  if (!family) throw new RadioError('bad-url', `radio URL "${url}" is not a UDP radio; expected udp:// or udp6://`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || (family === 'udp4' ? '0.0.0.0' : '::');
  const port = parsed.port === '' ? DEFAULT_UDP_PORT : Number(parsed.port);
  for (const key of parsed.searchParams.keys()) {
    if (key !== 'broadcast' && key !== 'multicast' && key !== 'interface') throw new RadioError('bad-url', `radio URL "${url}": unknown option "${key}"; allowed: broadcast, multicast, interface`);
  }
  const broadcast = parsed.searchParams.get('broadcast');
  const multicast = parsed.searchParams.get('multicast');
  const iface = parsed.searchParams.get('interface');
  if (iface !== null && multicast === null) throw new RadioError('bad-url', `radio URL "${url}": interface= names where the multicast group is joined; add multicast=GROUP:PORT`);
  return {
    family,
    host,
    port,
    ...(broadcast !== null ? { broadcast: hostAndPort(url, 'broadcast', broadcast) } : {}),
    ...(multicast !== null ? { multicast: hostAndPort(url, 'multicast', multicast) } : {}),
    ...(iface !== null && iface !== '' ? { iface } : {}),
  };
}

/** Formats a peer so `send` can parse it back: `1.2.3.4:5` or `[::1]:5`. */
export function formatUdpAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseUdpAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** MQTT-SN over UDP: one datagram carries one message (MQTT-SN 1.2 §5.1). */
export class UdpRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name: string;
  readonly maxFrameSize = MAX_UDP_PAYLOAD;
  private readonly endpoint: UdpEndpoint;
  private socket: dgram.Socket | undefined;
  private readonly broadcastPort: number | undefined;
  private readonly counts = { framesIn: 0, framesOut: 0, sendFailures: 0, groupFramesIn: 0 };
  private group: GroupListener | undefined;

  constructor(options: UdpRadioOptions) {
    super();
    this.name = options.url;
    this.endpoint = parseUdpUrl(options.url);
    this.broadcastPort = options.broadcastPort;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.socket?.address().port ?? this.endpoint.port;
  }

  async start(): Promise<void> {
    const { family, host, port } = this.endpoint;
    const socket = dgram.createSocket({ type: family, reuseAddr: false, ipv6Only: family === 'udp6', recvBufferSize: RECEIVE_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => reject(this.explainBindError(error));
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    try {
      socket.setBroadcast(true);
    } catch {
      // IPv6 has no broadcast: use ?multicast= there.
    }
    const multicast = this.endpoint.multicast;
    if (multicast) await this.joinGroup(socket, multicast.host, multicast.port);
    socket.on('message', (data, rinfo) => {
      this.counts.framesIn++;
      this.emit('datagram', data, formatUdpAddress(rinfo.address, rinfo.port));
    });
    socket.on('error', (error) => this.emit('error', new RadioError('io', `${this.name}: ${error.message}`, { cause: error })));
    this.socket = socket;
  }

  send(to: string, frame: Buffer): void {
    const socket = this.socket;
    if (!socket) return;
    const { host, port } = parseUdpAddress(to);
    this.counts.framesOut++;
    socket.send(frame, port, host, (error) => {
      if (error) this.counts.sendFailures++;
      if (error) this.emit('error', new RadioError('send-failed', `${this.name}: send to ${to} failed: ${error.message}`, { cause: error }));
    });
  }

  /** GWINFO for a SEARCHGW heard on the group: to the group, from this (unicast) socket, so devices learn where to connect. */
  sendToGroup(frame: Buffer): void {
    const multicast = this.endpoint.multicast;
    if (multicast) this.send(formatUdpAddress(multicast.host, multicast.port ?? this.port), frame);
  }

  /** ADVERTISE and friends: to the broadcast address (IPv4) and the multicast group, where configured. */
  broadcast(frame: Buffer): void {
    if (!this.socket) return;
    const { family, broadcast } = this.endpoint;
    if (family === 'udp4') this.send(formatUdpAddress(broadcast?.host ?? '255.255.255.255', broadcast?.port ?? this.broadcastPort ?? this.port), frame);
    this.sendToGroup(frame);
  }

  counters(): Record<string, number> {
    return { ...this.counts };
  }

  boundReceiveQueue(datagrams: number | undefined): void {
    const bytes = datagrams === undefined ? RECEIVE_BUFFER_BYTES : Math.min(RECEIVE_BUFFER_BYTES, Math.max(MIN_BOUNDED_BUFFER_BYTES, Math.round(datagrams * QUEUED_BYTES_PER_DATAGRAM)));
    try {
      this.socket?.setRecvBufferSize(bytes);
    } catch {
      // A closed socket: nothing to bound.
    }
  }

  receiveDrops(): Promise<number | undefined> {
    return this.socket ? kernelDrops(this.endpoint.family, this.port) : Promise.resolve(undefined);
  }

  async close(): Promise<void> {
    await this.group?.close();
    this.group = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /**
   * Group traffic is sent from the unicast socket, on the named interface; it is heard either on a
   * socket of its own (a group port other than ours) or by this socket joining the group.
   */
  private async joinGroup(socket: dgram.Socket, group: string, groupPort: number | undefined): Promise<void> {
    const { family, iface } = this.endpoint;
    socket.setMulticastLoopback(true); // devices (and tests) on this very machine hear it too
    if (iface !== undefined) {
      try {
        socket.setMulticastInterface(interfaceAddress(iface, family));
      } catch {
        // Missing or down: the group listener below says so, and sends use the system's choice.
      }
    }
    if (groupPort !== undefined && groupPort !== this.port) {
      this.group = new GroupListener({
        name: this.name,
        family,
        group,
        port: groupPort,
        iface,
        onDatagram: (data, address, port) => {
          this.counts.groupFramesIn++;
          this.emit('datagram', data, formatUdpAddress(address, port), { viaGroup: true });
        },
        onError: (error) => this.emit('error', error),
      });
      await this.group.start();
      return;
    }
    try {
      socket.addMembership(group, iface !== undefined ? interfaceAddress(iface, family) : undefined);
    } catch (error) {
      // Unicast still works: the radio serves, and says why discovery on the group does not.
      const reason = error instanceof RadioError ? error.message : `cannot join multicast group ${group}: ${(error as Error).message}`;
      queueMicrotask(() => this.emit('error', new RadioError('not-found', `${this.name}: ${reason}; devices can still reach the gateway by unicast`, { cause: error })));
    }
  }

  private explainBindError(error: NodeJS.ErrnoException): RadioError {
    const where = formatUdpAddress(this.endpoint.host, this.endpoint.port);
    if (error.code === 'EADDRINUSE') {
      return new RadioError('address-in-use', `${this.name}: UDP ${where} is already in use (another gateway running?). Stop it or pick another port, e.g. --radio udp://0.0.0.0:1885`, { cause: error });
    }
    if (error.code === 'EACCES') {
      return new RadioError('permission-denied', `${this.name}: not allowed to bind UDP ${where}; ports below 1024 need root or CAP_NET_BIND_SERVICE`, { cause: error });
    }
    if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') {
      return new RadioError('not-found', `${this.name}: this machine has no address ${this.endpoint.host} (${error.code}); use 0.0.0.0 or [::] to listen everywhere`, { cause: error });
    }
    return new RadioError('io', `${this.name}: cannot bind UDP ${where}: ${error.message}`, { cause: error });
  }
}
