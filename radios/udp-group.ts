import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { RadioError } from '../src/radio.js';

/** How often a group that could not be joined (interface missing or down) is tried again. */
const REJOIN_MS = 10_000;

/**
 * The address a multicast socket joins and sends on for `iface` (a name such as `wlan0`, `eth0`,
 * `lo`, or one of the machine's addresses): the interface's IPv4 address, or `::%name` for IPv6.
 * Throws a RadioError naming the interface and what the machine has instead.
 */
export function interfaceAddress(iface: string, family: 'udp4' | 'udp6'): string {
  const interfaces = networkInterfaces();
  const names = Object.keys(interfaces);
  if (isIP(iface) !== 0) {
    const owner = names.find((name) => interfaces[name]?.some((entry) => entry.address === iface));
    if (!owner) throw new RadioError('not-found', `interface ${iface}: no interface of this machine has that address (it has ${names.join(', ')})`);
    return family === 'udp4' ? iface : `::%${owner}`;
  }
  const entries = interfaces[iface];
  if (!entries) throw new RadioError('not-found', `interface ${iface} not found (this machine has ${names.join(', ')}); name one with ?interface=, e.g. interface=${names.find((name) => name !== 'lo') ?? 'lo'}`);
  if (family === 'udp6') return `::%${iface}`;
  const v4 = entries.find((entry) => entry.family === 'IPv4');
  if (!v4) throw new RadioError('not-found', `interface ${iface} has no IPv4 address (down, or not configured yet)`);
  return v4.address;
}

export interface GroupListenerOptions {
  /** The radio's URL, for messages. */
  readonly name: string;
  readonly family: 'udp4' | 'udp6';
  readonly group: string;
  readonly port: number;
  /** Interface to join on; the system's choice when absent. */
  readonly iface?: string | undefined;
  readonly onDatagram: (data: Buffer, address: string, port: number) => void;
  readonly onError: (error: RadioError) => void;
}

/**
 * A socket of its own on the discovery group's port (Paho's `MulticastPortNo`, e.g. 225.1.1.1:1883)
 * while devices talk to the gateway's unicast port. If the interface is missing or down the radio
 * keeps serving unicast, says why once, and tries again every 10 s (Wi-Fi coming up after boot).
 */
export class GroupListener {
  private socket: dgram.Socket | undefined;
  private retry: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(private readonly options: GroupListenerOptions) {}

  get joined(): boolean {
    return this.socket !== undefined;
  }

  async start(): Promise<void> {
    const { name, family, group, port, iface } = this.options;
    const socket = dgram.createSocket({ type: family, reuseAddr: true });
    try {
      const joinOn = iface !== undefined ? interfaceAddress(iface, family) : undefined;
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, family === 'udp4' ? '0.0.0.0' : '::', () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.addMembership(group, joinOn);
    } catch (error) {
      socket.close();
      const reason = error instanceof RadioError ? error.message : `cannot join multicast group ${group} on port ${port}${iface ? ` on interface ${iface}` : ''}: ${(error as Error).message}`;
      if (reason !== this.lastError) this.options.onError(new RadioError('not-found', `${name}: ${reason}; devices can still reach the gateway by unicast, retrying every ${REJOIN_MS / 1000} s`, { cause: error }));
      this.lastError = reason;
      if (!this.closed) this.retry = setTimeout(() => void this.start(), REJOIN_MS).unref();
      return;
    }
    if (this.closed) {
      socket.close();
      return;
    }
    this.lastError = undefined;
    socket.on('message', (data, rinfo) => this.options.onDatagram(data, rinfo.address, rinfo.port));
    socket.on('error', (error) => this.options.onError(new RadioError('io', `${name}: multicast group ${group}: ${error.message}`, { cause: error })));
    this.socket = socket;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
