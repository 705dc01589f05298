import dgram from 'node:dgram';
import { decode, encode, type Packet, type PacketType } from '../../src/codec/index.js';
import { PacketInbox, type PacketOf } from './packet-inbox.js';

/**
 * A device that speaks bytes: tests send exact packets and assert exactly what the gateway
 * sends back, frame by frame, over a real UDP socket on loopback.
 */
export class RawDevice {
  readonly frames: Buffer[] = [];
  private readonly inbox = new PacketInbox();
  private closed = false;
  private readonly localPort: number;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly gatewayPort: number,
    private readonly gatewayHost: string,
  ) {
    this.localPort = socket.address().port;
    socket.on('message', (frame) => {
      this.frames.push(frame);
      const result = decode(frame);
      if (result.ok) this.inbox.push(result.packet);
    });
  }

  static async open(gatewayPort: number, gatewayHost = '127.0.0.1'): Promise<RawDevice> {
    const socket = dgram.createSocket(gatewayHost.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, gatewayHost, resolve));
    return new RawDevice(socket, gatewayPort, gatewayHost);
  }

  /** The local UDP port, fixed at open so it can be compared after close. */
  get port(): number {
    return this.localPort;
  }

  send(packet: Packet): void {
    this.sendBytes(encode(packet));
  }

  sendBytes(frame: Buffer): void {
    this.socket.send(frame, this.gatewayPort, this.gatewayHost);
  }

  /** The next packet of `type` (earlier packets of other types stay queued). */
  expect<T extends PacketType>(type: T, timeoutMs = 3000): Promise<PacketOf<T>> {
    return this.inbox.expect(type, timeoutMs);
  }

  /** The next packet of any type, in arrival order. */
  next(timeoutMs = 3000): Promise<Packet> {
    return this.inbox.next(timeoutMs);
  }

  /** Packets received and not yet consumed. */
  pending(): readonly Packet[] {
    return this.inbox.pending();
  }

  /** CONNECT and wait for CONNACK accepted. */
  async connect(clientId: string, options: { cleanSession?: boolean; keepAlive?: number } = {}): Promise<void> {
    this.send({ type: 'connect', will: false, cleanSession: options.cleanSession ?? true, protocolId: 1, duration: options.keepAlive ?? 60, clientId });
    const connack = await this.expect('connack');
    if (connack.returnCode !== 0) throw new Error(`CONNACK return code ${connack.returnCode}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
