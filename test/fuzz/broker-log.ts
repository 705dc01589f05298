/**
 * mosquitto's own account of the gateway's connection. With `connection_messages true` mosquitto
 * logs every connect and every disconnect with its reason (malformed packet, protocol error,
 * socket error, keep-alive timeout, takeover), which is the one witness a gateway cannot hide a
 * dropped broker link from. The file is followed with fs.watch so a drop is seen within
 * milliseconds and the datagrams just sent can be kept as evidence.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Config lines for startMosquitto. Notice level carries every connect/disconnect line; `all`
 * would also log each PUBLISH, costing the broker CPU the gateway needs on a 2-core box.
 */
export function brokerLogConfig(path: string): string {
  return ['log_dest file ' + path, 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', 'log_type subscribe', 'connection_messages true', 'sys_interval 1', ''].join('\n');
}

export class BrokerLog {
  /** "New client connected ... as <id>" lines: the first is the gateway starting. */
  connects = 0;
  /** Disconnect lines for the gateway's client ID while counting. */
  readonly drops: string[] = [];
  /**
   * "Outgoing messages are being dropped for client X": mosquitto's queue towards the gateway
   * (max_queued_messages) overflowed because the gateway acknowledged too slowly. Not a drop of
   * the link, but messages for devices lost before they reached the gateway.
   */
  queueOverflows = 0;
  /** Lines mentioning `Invalid`/`malformed`/`protocol error` for any client. */
  readonly complaints: string[] = [];
  private handle: FileHandle | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private offset = 0;
  private partial = '';
  private reading: Promise<void> | undefined;
  private again = false;
  private counting = true;
  private readonly connectLine: RegExp;
  private readonly dropLine: RegExp;
  private readonly overflowLine: RegExp;

  constructor(private readonly path: string, clientId: string, private readonly onDrop: (line: string) => void) {
    const id = clientId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.connectLine = new RegExp(`New client connected from \\S+ as ${id} `);
    // mosquitto 2.0: "Client X disconnected[ due to malformed packet|protocol error].",
    // "Client X closed its connection.", "Socket error on client X, disconnecting.",
    // "Client X has exceeded timeout, disconnecting.", "Client X already connected, closing old connection."
    this.dropLine = new RegExp(`(?:Client ${id} (?:disconnected|closed its connection|has exceeded timeout|already connected)|Socket error on client ${id}[ ,.])`);
    this.overflowLine = new RegExp(`Outgoing messages are being dropped for client ${id}[ ,.]`);
  }

  async start(): Promise<void> {
    for (let attempt = 0; attempt < 100 && !this.handle; attempt++) {
      this.handle = await open(this.path, 'r').catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return undefined;
      });
    }
    if (!this.handle) throw new Error(`mosquitto log ${this.path} never appeared`);
    this.watcher = watch(this.path, () => void this.read());
    // fs.watch can miss events; a slow poll catches up.
    this.timer = setInterval(() => void this.read(), 250);
  }

  /** Stops counting drops: what follows is the harness shutting the gateway down. */
  freeze(): Promise<void> {
    return this.read().then(() => {
      this.counting = false;
    });
  }

  async stop(): Promise<void> {
    await this.freeze();
    this.watcher?.close();
    clearInterval(this.timer);
    await this.handle?.close();
  }

  read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    if (!this.handle) return;
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      const lines = (this.partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.classify(line);
    }
  }

  private classify(line: string): void {
    if (/malformed|protocol error|Invalid|Bad |Reused message ID|being dropped for client (?!fuzz-gateway)/i.test(line) && this.complaints.length < 100) this.complaints.push(line);
    if (!this.counting) return;
    if (this.connectLine.test(line)) {
      this.connects++;
    } else if (this.overflowLine.test(line)) {
      this.queueOverflows++;
    } else if (this.dropLine.test(line)) {
      this.drops.push(line);
      this.onDrop(line);
    }
  }
}
