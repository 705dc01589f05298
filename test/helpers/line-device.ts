import { SerialPort } from 'serialport';
import { decode, encode, type Packet, type PacketType } from '../../src/codec/index.js';
import { PacketInbox, type PacketOf } from './packet-inbox.js';

/** How MQTT-SN frames travel on the line: wrapped on the way out, unwrapped from whatever chunks arrive. */
export interface LineCodec {
  wrap(frame: Buffer): Buffer;
  unwrap(chunk: Buffer): Buffer[];
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A device on a real serial port (one end of a socat pty pair): tests send exact packets, in
 * whatever pieces they like, and assert exactly what the gateway sends back.
 */
export class LineDevice {
  readonly frames: Buffer[] = [];
  private readonly inbox = new PacketInbox();

  private constructor(
    private readonly port: SerialPort,
    private readonly codec: LineCodec,
  ) {
    port.on('data', (chunk: Buffer) => {
      for (const frame of codec.unwrap(chunk)) {
        this.frames.push(frame);
        const result = decode(frame);
        if (result.ok) this.inbox.push(result.packet);
      }
    });
  }

  static async open(path: string, codec: LineCodec, baudRate = 115_200): Promise<LineDevice> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    return new LineDevice(port, codec);
  }

  send(packet: Packet): Promise<void> {
    return this.sendBytes(this.codec.wrap(encode(packet)));
  }

  /** Writes bytes as they are (garbage, several frames at once), drained before resolving. */
  async sendBytes(bytes: Buffer): Promise<void> {
    this.port.write(bytes);
    await new Promise<void>((resolve, reject) => this.port.drain((error) => (error ? reject(error) : resolve())));
  }

  /** Writes `bytes` in pieces of the given sizes with a pause between, so the gateway reads them apart. */
  async sendInPieces(bytes: Buffer, sizes: readonly number[], gapMs = 15): Promise<void> {
    let offset = 0;
    for (const size of sizes) {
      await this.sendBytes(bytes.subarray(offset, offset + size));
      offset += size;
      await pause(gapMs);
    }
    if (offset < bytes.length) await this.sendBytes(bytes.subarray(offset));
  }

  /** The next packet of `type` (earlier packets of other types stay queued). */
  expect<T extends PacketType>(type: T, timeoutMs = 3000): Promise<PacketOf<T>> {
    return this.inbox.expect(type, timeoutMs);
  }

  async connect(clientId: string, options: { cleanSession?: boolean; keepAlive?: number } = {}): Promise<void> {
    await this.send({ type: 'connect', will: false, cleanSession: options.cleanSession ?? true, protocolId: 1, duration: options.keepAlive ?? 60, clientId });
    const connack = await this.expect('connack');
    if (connack.returnCode !== 0) throw new Error(`CONNACK return code ${connack.returnCode}`);
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
