import { createPrivateKey } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { RadioError, type Radio, type RadioEvents } from '../src/radio.js';
import { CookieJar, helloVerifyRequest, isHelloVerifyRequest, parseClientHello, withoutCookie } from './dtls-cookie.js';
import { formatUdpAddress } from './udp.js';
import { loadWerift, weriftTransport, type WeriftEndpoint } from './werift.js';

/** A handshake not finished in this time is dropped (a spoofed or abandoned ClientHello holds a slot no longer). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The largest MQTT-SN frame carried in one DTLS record (UDP payload less record header, nonce and tag). */
const MAX_DTLS_FRAME = 65_507 - 13 - 8 - 16;

export interface DtlsRadioOptions {
  /** `dtls://HOST:PORT` or `dtls6://[HOST]:PORT`. */
  readonly url: string;
  /** PEM files: the gateway's certificate and its private key (EC or RSA). */
  readonly cert: string;
  readonly key: string;
  /** Handshakes in progress at once; a new address beyond it is ignored until one completes or expires. */
  readonly maxHandshakes: number;
  /** Seconds without a datagram after which an association is dropped (the device handshakes again). */
  readonly idleSeconds: number;
}

interface Association {
  readonly session: WeriftEndpoint;
  /** Datagrams for werift's record layer. */
  deliver: (data: Buffer) => void;
  connected: boolean;
  lastActive: number;
  readonly startedAt: number;
  /** werift answers the replayed cookie-less ClientHello with a HelloVerifyRequest of its own: not sent. */
  dropOwnHelloVerify: boolean;
}

function parseDtlsUrl(url: string): { family: 'udp4' | 'udp6'; host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RadioError('bad-url', `radio URL "${url}" is not a URL; expected dtls://HOST:PORT or dtls6://[HOST]:PORT`);
  }
  const family = parsed.protocol === 'dtls:' ? 'udp4' : parsed.protocol === 'dtls6:' ? 'udp6' : undefined;
  if (!family || parsed.port === '') throw new RadioError('bad-url', `radio URL "${url}": expected dtls://HOST:PORT or dtls6://[HOST]:PORT`);
  return { family, host: parsed.hostname.replace(/^\[|\]$/g, '') || (family === 'udp4' ? '0.0.0.0' : '::'), port: Number(parsed.port) };
}

/**
 * MQT-SN over DTLS 1.2 (RFC 6347): one association per device address, each MQTT-SN frame one
 * application-data record; the gateway sees plain frames from `host:port` as on UDP. The protocol
 * is werift-dtls's (pure TypeScript, nothing to compile on a Pi), loaded only when configured.
 * Datagrams that are not DTLS (plain MQTT-SN sent here) get no MQTT-SN answer.
 */
export class DtlsRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name: string;
  readonly maxFrameSize = MAX_DTLS_FRAME;
  private readonly endpoint: ReturnType<typeof parseDtlsUrl>;
  private socket: dgram.Socket | undefined;
  private readonly associations = new Map<string, Association>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly counts = { framesIn: 0, framesOut: 0, handshakes: 0, cookiesSent: 0, handshakesRefused: 0, expired: 0, notConnected: 0 };
  private readonly cookies = new CookieJar();
  /** Associations whose handshake has not finished (against dtls.maxHandshakes). */
  private handshaking = 0;
  private certPem = '';
  private keyPem = '';
  private signatureHash: { hash: number; signature: number } = { hash: 4, signature: 3 };
  private DtlsServer: Awaited<ReturnType<typeof loadWerift>>['DtlsServer'] | undefined;

  constructor(private readonly options: DtlsRadioOptions) {
    super();
    this.name = options.url;
    this.endpoint = parseDtlsUrl(options.url);
  }

  get port(): number {
    return this.socket?.address().port ?? this.endpoint.port;
  }

  async start(): Promise<void> {
    this.loadCredentials();
    this.DtlsServer = (await loadWerift()).DtlsServer;
    const { family, host, port } = this.endpoint;
    const socket = dgram.createSocket({ type: family, ipv6Only: family === 'udp6' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) => reject(new RadioError(error.code === 'EADDRINUSE' ? 'address-in-use' : 'io', `${this.name}: cannot bind UDP ${formatUdpAddress(host, port)}: ${error.message}`, { cause: error })));
      socket.bind({ address: host, port, exclusive: true }, () => resolve());
    });
    socket.on('message', (data, rinfo) => this.receive(data, formatUdpAddress(rinfo.address, rinfo.port), rinfo.address, rinfo.port));
    socket.on('error', (error) => this.emit('error', new RadioError('io', `${this.name}: ${error.message}`, { cause: error })));
    this.socket = socket;
    this.sweeper = setInterval(() => this.sweep(), Math.min(HANDSHAKE_TIMEOUT_MS / 2, this.options.idleSeconds * 500)).unref();
  }

  send(to: string, frame: Buffer): void {
    const association = this.associations.get(to);
    if (!association?.connected) {
      this.counts.notConnected++;
      return;
    }
    this.counts.framesOut++;
    association.session.send(frame).catch((error: Error) => this.emit('error', new RadioError('send-failed', `${this.name}: send to ${to} failed: ${error.message}`, { cause: error })));
  }

  /** DTLS has no broadcast: devices find a DTLS gateway by configuration. */
  broadcast(): void {}

  counters(): Record<string, number> {
    return { ...this.counts, associations: this.associations.size, handshaking: this.handshaking };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const association of this.associations.values()) association.session.close();
    this.associations.clear();
    this.handshaking = 0;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private loadCredentials(): void {
    const read = (what: string, path: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new RadioError('not-found', `${this.name}: cannot read dtls.${what} ${path}: ${(error as Error).message}`, { cause: error });
      }
    };
    this.certPem = read('cert', this.options.cert);
    const key = createPrivateKey(read('key', this.options.key));
    // werift-dtls reads PKCS#8 only; openssl's EC keys are SEC1 ("BEGIN EC PRIVATE KEY").
    this.keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    // TLS 1.2 SignatureAndHashAlgorithm: sha256 with ecdsa (3) or rsa (1).
    this.signatureHash = { hash: 4, signature: key.asymmetricKeyType === 'rsa' ? 1 : 3 };
  }

  private receive(data: Buffer, address: string, host: string, port: number): void {
    const association = this.associations.get(address);
    if (association) {
      association.lastActive = Date.now();
      association.deliver(data);
      return;
    }
    // Nothing is kept for an address until it returns the cookie it was sent (RFC 6347 §4.2.1).
    const hello = parseClientHello(data);
    if (!hello) {
      this.counts.handshakesRefused++; // not a ClientHello (plain MQTT-SN, stray records): no answer
      return;
    }
    if (!this.cookies.verify(address, hello)) {
      this.counts.cookiesSent++;
      this.socket?.send(helloVerifyRequest(data, this.cookies.cookieFor(address, hello.random)), port, host);
      return;
    }
    if (this.handshaking >= this.options.maxHandshakes) {
      this.counts.handshakesRefused++;
      return;
    }
    const fresh = this.associate(address, host, port);
    fresh.session.dtls.cookie = Buffer.from(hello.cookie);
    // werift starts its handshake state from a cookie-less ClientHello (its own HelloVerifyRequest
    // is dropped), then takes the one with our cookie as the client's second.
    fresh.deliver(withoutCookie(data, hello));
    fresh.deliver(data);
  }

  private associate(address: string, host: string, port: number): Association {
    const { transport, deliver } = weriftTransport(host, port, (data) => {
      if (association.dropOwnHelloVerify && isHelloVerifyRequest(data)) {
        association.dropOwnHelloVerify = false;
        return;
      }
      this.socket?.send(data, port, host);
    });
    const session = new this.DtlsServer!({ transport, cert: this.certPem, key: this.keyPem, signatureHash: this.signatureHash, certificateRequest: false });
    const association: Association = { session, deliver, connected: false, lastActive: Date.now(), startedAt: Date.now(), dropOwnHelloVerify: true };
    session.onConnect.subscribe(() => {
      association.connected = true;
      this.handshaking--;
      this.counts.handshakes++;
    });
    session.onData.subscribe((frame) => {
      this.counts.framesIn++;
      this.emit('datagram', frame, address);
    });
    session.onError.subscribe(() => {
      // A failed handshake costs no session: the association goes, the device may try again.
      if (!association.connected) this.forget(address, association);
    });
    this.associations.set(address, association);
    this.handshaking++;
    return association;
  }

  private forget(address: string, association: Association): void {
    if (this.associations.get(address) !== association) return;
    this.associations.delete(address);
    if (!association.connected) this.handshaking--;
    association.session.close();
  }

  /** Idle associations expire (a sleeping device that wakes after that handshakes again), unfinished handshakes sooner. */
  private sweep(): void {
    const now = Date.now();
    const limit = now - this.options.idleSeconds * 1000;
    for (const [address, association] of this.associations) {
      if (association.lastActive < limit || (!association.connected && now - association.startedAt > HANDSHAKE_TIMEOUT_MS)) {
        this.forget(address, association);
        this.counts.expired++;
      }
    }
  }
}
