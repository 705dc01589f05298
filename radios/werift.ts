/**
 * The little of werift-dtls the gateway and the bench use: its server and client classes (loaded on
 * demand), the events they expose, and the transport they read datagrams from and send through.
 */

/** A DTLS endpoint, server or client side: one association with one peer. */
export interface WeriftEndpoint {
  readonly onConnect: { subscribe(handler: () => void): unknown };
  readonly onData: { subscribe(handler: (data: Buffer) => void): unknown };
  readonly onError: { subscribe(handler: (error: Error) => void): unknown };
  send(data: Buffer): Promise<void>;
  close(): void;
  /** werift's handshake state (the server's cookie lives here). */
  readonly dtls: { cookie?: Buffer };
}

/** A client endpoint also starts its handshake. */
export interface WeriftClient extends WeriftEndpoint {
  connect(): Promise<void>;
}

/** A deep path: the package's own entry point is missing from its published files. */
export async function loadWerift(): Promise<{ DtlsServer: new (options: Record<string, unknown>) => WeriftEndpoint; DtlsClient: new (options: Record<string, unknown>) => WeriftClient }> {
  return (await import('werift-dtls/lib/dtls/src/index.js')) as never;
}

/**
 * werift's transport for one peer: it sends through `send`, and `deliver` hands it each datagram
 * received from that peer (werift sets the transport's `onData` when the endpoint is made).
 */
export function weriftTransport(host: string, port: number, send: (data: Buffer) => void): { transport: Record<string, unknown>; deliver: (data: Buffer) => void } {
  const transport = {
    type: 'udp',
    address: { address: host, port, family: host.includes(':') ? 'IPv6' : 'IPv4' },
    closed: false,
    onData: (_data: Buffer, _from?: unknown): void => undefined,
    send: async (data: Buffer): Promise<void> => send(data),
    close: async (): Promise<void> => undefined,
  };
  return { transport, deliver: (data) => transport.onData(data, { address: host, port }) };
}
