import { EventEmitter } from 'node:events';
import { RadioError, type Radio, type RadioEvents } from '../src/radio.js';
import { createFrameReader, encodeFrame, type FrameReader, type FrameResult } from './framing.js';
import { reportLinkErrors, SerialLink } from './serial-link.js';
import { parseSerialUrl } from './serial-url.js';

export type SerialFraming = 'raw' | 'slip';

export interface SerialRadioOptions {
  /** `serial:///dev/ttyUSB0?baud=115200&framing=slip` (`framing=raw|slip`, default slip). */
  readonly url: string;
  /** Reopen delays after the port fails or is unplugged (tests shorten them). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

/** A partial frame older than this is a device that stopped mid-frame: drop it and resynchronise. */
const INTER_BYTE_GAP_MS = 100;
/** Unframed bytes with no good frame at all since the port opened: most likely a baud or framing mismatch. */
const MISMATCH_HINT_BYTES = 64;
const MAX_SERIAL_FRAME = 65_535;

/**
 * MQTT-SN over a serial line (MQTT-SN 1.2 §5.1 leaves the transport open): one device on the
 * port, or a bridge relaying many with the forwarder encapsulation (each wireless node ID its own
 * session). Frames are delimited by SLIP (robust; the default) or by the MQTT-SN length field alone.
 */
export class SerialRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name: string;
  readonly maxFrameSize = MAX_SERIAL_FRAME;
  readonly framing: SerialFraming;
  /** The device's address: the port itself (a bridge's devices are told apart by their node IDs). */
  readonly address: string;
  private readonly link: SerialLink;
  private readonly reader: FrameReader;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly counts = { framesIn: 0, framesOut: 0, droppedBytes: 0, droppedFrames: 0, opens: 0 };
  private goodSinceOpen = 0;
  private garbageSinceOpen = 0;
  private hinted = false;

  constructor(options: SerialRadioOptions) {
    super();
    this.name = options.url;
    const { path, baudRate, query } = parseSerialUrl(options.url, 'serial', ['framing'], 115_200);
    const framing = query.get('framing') ?? 'slip';
    if (framing !== 'raw' && framing !== 'slip') throw new RadioError('bad-url', `${options.url}: framing=${framing} is not one of raw, slip`);
    this.framing = framing;
    this.address = path;
    this.reader = createFrameReader(framing, MAX_SERIAL_FRAME);
    this.link = new SerialLink({ radio: options.url, path, baudRate, ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}), ...(options.maxRetryMs !== undefined ? { maxRetryMs: options.maxRetryMs } : {}) });
    this.link.on('data', (chunk) => this.receive(chunk));
    this.link.on('open', () => {
      this.counts.opens++;
      this.goodSinceOpen = 0;
      this.garbageSinceOpen = 0;
      this.reader.reset(); // bytes from before an unplug belong to no frame
    });
    reportLinkErrors(this.link, this);
  }

  get isOpen(): boolean {
    return this.link.isOpen;
  }

  async start(): Promise<void> {
    await this.link.start();
  }

  send(_to: string, frame: Buffer): void {
    if (this.link.write(encodeFrame(this.framing, frame))) this.counts.framesOut++;
    else this.emit('error', new RadioError('send-failed', `${this.name}: frame not sent: the serial port is not open`));
  }

  /** One device (or one bridge) on the line: a broadcast is a plain send. */
  broadcast(frame: Buffer): void {
    this.send(this.address, frame);
  }

  counters(): Record<string, number> {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    clearTimeout(this.gapTimer);
    await this.link.close();
  }

  private receive(chunk: Buffer): void {
    clearTimeout(this.gapTimer);
    this.take(this.reader.push(chunk));
    if (this.reader.pending > 0) {
      // Give up the frame in progress; what follows it may still hold whole frames (raw framing).
      this.gapTimer = setTimeout(() => this.take(this.reader.flush()), INTER_BYTE_GAP_MS);
      this.gapTimer.unref();
    }
  }

  private take(results: readonly FrameResult[]): void {
    for (const result of results) {
      if (result.ok) {
        this.counts.framesIn++;
        this.goodSinceOpen++;
        this.emit('datagram', result.frame, this.address);
        continue;
      }
      this.counts.droppedBytes += result.bytes;
      this.garbageSinceOpen += result.bytes;
      // Raw framing reports garbage in runs that can split anywhere: only bytes mean something there.
      if (result.reason !== 'garbage') this.counts.droppedFrames++;
    }
    this.hintAtMismatch();
  }

  private hintAtMismatch(): void {
    if (this.hinted || this.goodSinceOpen > 0 || this.garbageSinceOpen < MISMATCH_HINT_BYTES) return;
    this.hinted = true;
    this.emit('error', new RadioError('io', `${this.name}: ${this.garbageSinceOpen} bytes arrived and none formed an MQTT-SN frame: check that baud= matches the device and framing= (${this.framing}) matches its firmware`));
  }
}
