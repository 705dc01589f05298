import dgram from 'node:dgram';
import type { GatewayAddress } from './url.js';

/** What the link reports upward; neither callback may throw into the socket. */
export interface LinkHandlers {
  datagram(frame: Buffer): void;
  error(err: Error): void;
}

/**
 * One UDP socket connected to the gateway. Connecting the socket makes the kernel drop
 * datagrams from any other source, so everything delivered comes from the gateway.
 */
export class UdpLink {
  private socket: dgram.Socket | undefined;
  private opening: Promise<void> | undefined;

  constructor(
    private readonly address: GatewayAddress,
    private readonly handlers: LinkHandlers,
  ) {}

  /** Binds an ephemeral port and connects to the gateway; idempotent. */
  open(): Promise<void> {
    this.opening ??= new Promise<void>((resolve, reject) => {
      const socket = dgram.createSocket(this.address.family);
      this.socket = socket;
      const onStartupError = (err: Error): void => {
        this.socket = undefined;
        this.opening = undefined;
        socket.close();
        reject(err);
      };
      socket.once('error', onStartupError);
      socket.on('message', (frame) => this.handlers.datagram(frame));
      socket.connect(this.address.port, this.address.host, () => {
        socket.off('error', onStartupError);
        socket.on('error', (err) => this.handlers.error(err));
        resolve();
      });
    });
    return this.opening;
  }

  /** Sends one datagram; rejects when the link is not open or the send fails. */
  send(frame: Buffer): Promise<void> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error('UDP link is not open'));
    return new Promise<void>((resolve, reject) => {
      socket.send(frame, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Local port, once open (useful in logs and tests). */
  get localPort(): number | undefined {
    try {
      return this.socket?.address().port;
    } catch {
      return undefined;
    }
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.opening = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
