import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import { Backoff } from '../src/backoff.js';
import { RadioError, type RadioEvents } from '../src/radio.js';

/** Rates a USB serial adapter or radio module is set to; anything else is almost always a typo. */
export const STANDARD_BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000] as const;

export interface SerialLinkOptions {
  /** Names the radio in errors, e.g. `serial:///dev/ttyUSB0?baud=115200`. */
  readonly radio: string;
  readonly path: string;
  readonly baudRate: number;
  /** First reopen delay after a failure or an unplug; doubles up to `maxRetryMs`. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

export interface SerialLinkEvents {
  data: [chunk: Buffer];
  open: [];
  /** The port is gone or could not be opened; `retryInMs` until the next attempt. */
  down: [error: RadioError, retryInMs: number];
  /** A fault on an open port (a failed write, a driver error). */
  fault: [error: RadioError];
}

/**
 * A serial port that stays open: opened with `serialport` (loaded only when a serial radio is
 * configured), reopened with backoff when it fails to open or is unplugged, with errors that say
 * what to do. Framing is the radio's business; this only moves bytes.
 */
export class SerialLink extends EventEmitter<SerialLinkEvents> {
  private port: SerialPort | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly backoff: Backoff;
  /** Why the last attempt failed, reported once per distinct reason instead of every retry. */
  private lastReason: string | undefined;

  constructor(private readonly options: SerialLinkOptions) {
    super();
    this.backoff = new Backoff(options.retryMs ?? 1000, options.maxRetryMs ?? 30_000);
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  /** Resolves after the first attempt, opened or not: a missing radio must not stop the gateway. */
  async start(): Promise<void> {
    const { SerialPort } = await importSerialPort(this.options.radio);
    await this.open(SerialPort);
  }

  write(bytes: Buffer): boolean {
    const port = this.port;
    if (!port?.isOpen) return false;
    port.write(bytes);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(SerialPortClass: typeof SerialPort): Promise<void> {
    const { path, baudRate } = this.options;
    return new Promise((resolve) => {
      const port = new SerialPortClass({ path, baudRate, autoOpen: false });
      port.open((error) => {
        if (this.closed) {
          if (!error) port.close();
          resolve();
          return;
        }
        if (error) {
          this.down(explainOpenError(this.options.radio, path, error), SerialPortClass);
          resolve();
          return;
        }
        this.port = port;
        this.backoff.reset();
        this.lastReason = undefined;
        port.on('data', (chunk: Buffer) => this.emit('data', chunk));
        // Unplugging a USB radio closes the port with an error; reopen when it is back.
        port.on('close', () => {
          if (this.closed || this.port !== port) return;
          this.port = undefined;
          this.down(new RadioError('io', `${this.options.radio}: serial port ${path} closed (unplugged?); reopening when it is back`), SerialPortClass);
        });
        port.on('error', (portError: Error) => this.emit('fault', new RadioError('io', `${this.options.radio}: ${portError.message}`, { cause: portError })));
        this.emit('open');
        resolve();
      });
    });
  }

  private down(error: RadioError, SerialPortClass: typeof SerialPort): void {
    const delay = this.backoff.next();
    if (error.message !== this.lastReason) {
      this.lastReason = error.message;
      this.emit('down', error, delay);
    }
    this.retryTimer = setTimeout(() => void this.open(SerialPortClass), delay);
    this.retryTimer.unref();
  }
}

async function importSerialPort(radio: string): Promise<typeof import('serialport')> {
  try {
    return await import('serialport');
  } catch (error) {
    throw new RadioError('not-found', `${radio}: the serialport module cannot be loaded (${(error as Error).message}); reinstall the gateway with npm install`, { cause: error });
  }
}

/**
 * A radio's errors from its link: a port that is down says when the next attempt is, a fault on
 * an open port is passed on. The gateway logs both.
 */
export function reportLinkErrors(link: SerialLink, radio: EventEmitter<RadioEvents>): void {
  link.on('down', (error, retryInMs) => radio.emit('error', new RadioError(error.code, `${error.message} (retrying in ${Math.round(retryInMs / 1000)} s)`, { cause: error })));
  link.on('fault', (error) => radio.emit('error', error));
}

/** Turns serialport's terse errors into what to do about them. */
export function explainOpenError(radio: string, path: string, error: Error): RadioError {
  const text = error.message;
  if (/no such file|ENOENT/i.test(text)) {
    return new RadioError('not-found', `${radio}: serial port ${path} does not exist. Is the radio plugged in? List ports with: ls -l /dev/serial/by-id/ (that stable path also works in the URL)`, { cause: error });
  }
  if (/permission denied|EACCES/i.test(text)) {
    return new RadioError('permission-denied', `${radio}: no permission to open ${path}. Add the gateway's user to the dialout group: sudo usermod -aG dialout $USER, then log in again`, { cause: error });
  }
  if (/cannot lock|EBUSY|resource busy|temporarily unavailable/i.test(text)) {
    return new RadioError('address-in-use', `${radio}: ${path} is in use by another program (another gateway, ModemManager, a serial console?); stop it or pick another port`, { cause: error });
  }
  return new RadioError('io', `${radio}: cannot open ${path}: ${text}`, { cause: error });
}

/** `baud=` from a radio URL: a whole number among the standard rates, or a RadioError saying which ones are. */
export function parseBaud(radio: string, value: string | null, fallback: number): number {
  if (value === null) return fallback;
  const baud = Number(value);
  if (!Number.isInteger(baud) || !(STANDARD_BAUD_RATES as readonly number[]).includes(baud)) {
    throw new RadioError('bad-url', `${radio}: baud=${value} is not a standard rate; use one of ${STANDARD_BAUD_RATES.join(', ')} (XBee modules default to 9600)`);
  }
  return baud;
}
