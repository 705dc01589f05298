import { EventEmitter } from 'node:events';
import { RadioError, type Radio, type RadioEvents } from '../src/radio.js';
import { reportLinkErrors, SerialLink } from './serial-link.js';
import { parseSerialUrl } from './serial-url.js';
import { BROADCAST_64, DELIVERY_SUCCESS, UNKNOWN_16, encodeFrame, type ApiMode, type XBeeFrame } from './xbee-frames.js';
import { XBeeFrameReader, type XBeeReadResult } from './xbee-reader.js';

export interface XBeeRadioOptions {
  /** `xbee:///dev/ttyUSB0?baud=9600&api=2` (`api=1|2`, default 2; `mtu=` largest RF payload, default 255). */
  readonly url: string;
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

/** A partial API frame older than this is noise or a module reset: drop it and resynchronise. */
const INTER_BYTE_GAP_MS = 100;
/** 16-bit "address unknown" for a 64-bit destination, and 64-bit "unknown" for a 16-bit one. */
const UNKNOWN_64 = 'ffffffffffffffff';

/**
 * MQTT-SN over an XBee (Zigbee or 802.15.4) module in API mode 1 or 2: each RF packet carries one
 * MQTT-SN frame. A device's address is its 64-bit address in hex (or 16-bit for 802.15.4 RX16);
 * ADVERTISE and GWINFO go out as broadcasts. Transmit status frames are counted as delivered or
 * failed; frames with a bad checksum are dropped and counted.
 */
export class XBeeRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly name: string;
  readonly maxFrameSize: number;
  readonly apiMode: ApiMode;
  private readonly link: SerialLink;
  private readonly reader: XBeeFrameReader;
  private gapTimer: NodeJS.Timeout | undefined;
  private nextFrameId = 1;
  private readonly counts = { framesIn: 0, framesOut: 0, delivered: 0, deliveryFailed: 0, badChecksum: 0, droppedBytes: 0, otherFrames: 0, opens: 0 };

  constructor(options: XBeeRadioOptions) {
    super();
    this.name = options.url;
    const { path, baudRate, query } = parseSerialUrl(options.url, 'xbee', ['api', 'mtu'], 9600);
    const api = query.get('api') ?? '2';
    if (api !== '1' && api !== '2') throw new RadioError('bad-url', `${options.url}: api=${api} is not 1 or 2 (the module's AP setting; 2 = escaped, the safer one)`);
    this.apiMode = api === '1' ? 1 : 2;
    const mtu = Number(query.get('mtu') ?? 255);
    if (!Number.isInteger(mtu) || mtu < 16 || mtu > 65_535) throw new RadioError('bad-url', `${options.url}: mtu=${query.get('mtu')} is not a whole number of bytes between 16 and 65535`);
    this.maxFrameSize = mtu;
    this.reader = new XBeeFrameReader(this.apiMode, { maxDataLength: mtu + 32 });
    this.link = new SerialLink({ radio: options.url, path, baudRate, ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}), ...(options.maxRetryMs !== undefined ? { maxRetryMs: options.maxRetryMs } : {}) });
    this.link.on('data', (chunk) => this.receive(chunk));
    this.link.on('open', () => {
      this.counts.opens++;
      this.reader.reset();
    });
    reportLinkErrors(this.link, this);
  }

  get isOpen(): boolean {
    return this.link.isOpen;
  }

  async start(): Promise<void> {
    await this.link.start();
  }

  send(to: string, frame: Buffer): void {
    const long = to.length === 16;
    this.transmit({ dest64: long ? to : UNKNOWN_64, dest16: long ? UNKNOWN_16 : to, data: frame });
  }

  broadcast(frame: Buffer): void {
    this.transmit({ dest64: BROADCAST_64, dest16: UNKNOWN_16, data: frame });
  }

  counters(): Record<string, number> {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    clearTimeout(this.gapTimer);
    await this.link.close();
  }

  private transmit(target: { dest64: string; dest16: string; data: Buffer }): void {
    // Frame IDs 1-255 ask the module for a transmit status; 0 would turn it off.
    const frameId = this.nextFrameId;
    this.nextFrameId = (this.nextFrameId % 255) + 1;
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ type: 'transmitRequest', frameId, radius: 0, options: 0, ...target }, this.apiMode);
    } catch (error) {
      this.emit('error', new RadioError('send-failed', `${this.name}: frame for ${target.dest64} not sent: ${(error as Error).message}`, { cause: error }));
      return;
    }
    if (this.link.write(bytes)) this.counts.framesOut++;
    else this.emit('error', new RadioError('send-failed', `${this.name}: frame not sent: the serial port is not open`));
  }

  private receive(chunk: Buffer): void {
    clearTimeout(this.gapTimer);
    this.take(this.reader.push(chunk));
    this.gapTimer = setTimeout(() => this.take(this.reader.reset()), INTER_BYTE_GAP_MS);
    this.gapTimer.unref();
  }

  private take(results: readonly XBeeReadResult[]): void {
    for (const result of results) {
      if (!result.ok) {
        this.counts.droppedBytes += result.bytes;
        if (result.reason === 'bad-checksum') this.counts.badChecksum++;
        continue;
      }
      this.handle(result.frame);
    }
  }

  private handle(frame: XBeeFrame): void {
    switch (frame.type) {
      case 'receivePacket':
        this.counts.framesIn++;
        this.emit('datagram', frame.data, frame.src64);
        return;
      case 'rx64':
        this.counts.framesIn++;
        this.emit('datagram', frame.data, frame.src64, { rssi: frame.rssi });
        return;
      case 'rx16':
        this.counts.framesIn++;
        this.emit('datagram', frame.data, frame.src16, { rssi: frame.rssi });
        return;
      case 'transmitStatus':
        if (frame.deliveryStatus === DELIVERY_SUCCESS) this.counts.delivered++;
        else this.counts.deliveryFailed++;
        return;
      default:
        this.counts.otherFrames++; // modem status, AT responses: not ours to act on
    }
  }
}
