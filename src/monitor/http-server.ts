import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { GatewayMetrics, type MetricsSource } from './metrics.js';
import { deviceViews } from './device-view.js';
import { STATUS_PAGE } from './status-page.js';
import type { Session } from '../gateway/session.js';
import { VERSION } from '../version.js';

/** What the HTTP server shows: the gateway's counters, its sessions, where it forwards to. */
export interface MonitoredGateway extends MetricsSource {
  readonly sessions: { values(): Iterable<Session> };
  readonly startedAt: number;
}

export interface HttpServerOptions {
  /** `HOST:PORT`, `[IPV6]:PORT` or `PORT` (127.0.0.1 then). */
  readonly listen: string;
  readonly token?: string | undefined;
  readonly gateway: MonitoredGateway;
  /** The broker URL, shown without credentials. */
  readonly brokerUrl: string;
  readonly logger: Logger;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
}

/** Devices in one /api/status answer unless `?limit=` says otherwise. */
const DEFAULT_DEVICE_LIMIT = 1000;
const MAX_DEVICE_LIMIT = 10_000;

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^\s:[\]/]+):)?(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new HttpError(`http.listen "${listen}": expected HOST:PORT, e.g. 127.0.0.1:9884`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Hides `user:password@` of a broker URL. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The monitoring endpoints: `/metrics` (Prometheus), `/api/status` (JSON) and `/` (the status page).
 * The page itself carries no data, so it is served without the token; it sends the token with its
 * requests for /api/status.
 */
export class MonitoringServer {
  private readonly server: Server;
  private readonly metrics: GatewayMetrics;
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: HttpServerOptions) {
    this.metrics = new GatewayMetrics(options.gateway);
    this.tokenDigest = options.token !== undefined ? digest(options.token) : undefined;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: Error) => {
        options.logger.warn({ err: error.message, url: request.url }, 'monitoring request failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error\n');
      });
    });
    // A monitoring port must not be held open by slow or idle clients.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = 64;
  }

  /** The address actually bound (port 0 picks a free one). */
  get address(): { host: string; port: number } {
    const info = this.server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  get url(): string {
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async start(): Promise<void> {
    const { host, port } = parseListen(this.options.listen);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use (another gateway?); pick another with --http HOST:PORT' : error.code === 'EADDRNOTAVAIL' ? 'this machine has no such address' : error.code === 'EACCES' ? 'ports below 1024 need root' : error.message;
        reject(new HttpError(`http.listen ${this.options.listen}: ${why}`));
      });
      this.server.listen(port, host, () => resolve());
    });
    if (!isLoopback(host) && this.tokenDigest === undefined) {
      this.options.logger.warn({ listen: this.options.listen }, 'monitoring HTTP open beyond this machine without http.token: anyone who can reach it sees every device');
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (url.pathname === '/') {
      send(response, 200, 'text/html; charset=utf-8', STATUS_PAGE);
      return;
    }
    if (url.pathname !== '/metrics' && url.pathname !== '/api/status') {
      send(response, 404, 'text/plain', 'not found: try /, /metrics or /api/status\n');
      return;
    }
    if (!this.authorized(request)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="mqttsn-gateway"', 'content-type': 'text/plain' }).end('a bearer token is required (http.token)\n');
      return;
    }
    if (url.pathname === '/metrics') {
      send(response, 200, this.metrics.contentType, await this.metrics.render());
      return;
    }
    const requested = Number(url.searchParams.get('limit') ?? DEFAULT_DEVICE_LIMIT);
    const limit = Number.isInteger(requested) && requested >= 0 ? Math.min(requested, MAX_DEVICE_LIMIT) : DEFAULT_DEVICE_LIMIT;
    send(response, 200, 'application/json; charset=utf-8', JSON.stringify(this.status(limit)));
  }

  private status(limit: number): unknown {
    const { gateway, brokerUrl } = this.options;
    const { total, devices } = deviceViews(gateway.sessions.values(), limit);
    return {
      gateway: {
        version: VERSION,
        gatewayId: gateway.config.gatewayId,
        startedAt: new Date(gateway.startedAt).toISOString(),
        uptimeSeconds: Math.round((Date.now() - gateway.startedAt) / 1000),
        broker: withoutCredentials(brokerUrl),
        ...gateway.snapshot(),
      },
      devicesTotal: total,
      devices,
    };
  }

  private authorized(request: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!.trim()), this.tokenDigest);
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
