import type { EventEmitter } from 'node:events';

/**
 * A radio carries whole MQTT-SN frames between the gateway and devices: UDP today,
 * serial, XBee and BLE later. The gateway core only sees this interface.
 *
 * Addresses are opaque strings chosen by the radio (e.g. `127.0.0.1:50000`,
 * `[::1]:50000`, an XBee 64-bit address in hex); the gateway pairs them with the radio's
 * `name` to identify a device, and hands them back unchanged to `send`.
 */
export interface Radio extends EventEmitter<RadioEvents> {
  /** The radio's URL as configured, e.g. `udp://0.0.0.0:1884`; unique within one gateway. */
  readonly name: string;
  /** The largest frame the transport can carry in one piece. */
  readonly maxFrameSize: number;
  /** Opens the transport; rejects with a `RadioError` saying what is wrong and how to fix it. */
  start(): Promise<void>;
  /** Sends one frame. Delivery is best effort, as on the air; failures surface as `error` events. */
  send(to: string, frame: Buffer): void;
  /** Sends one frame to every device in range (ADVERTISE, GWINFO); a no-op where the transport cannot. */
  broadcast(frame: Buffer): void;
  /** Sends one frame to the discovery multicast group (the answer to a SEARCHGW heard there), where configured. */
  sendToGroup?(frame: Buffer): void;
  /** Releases the transport; safe to call twice. */
  close(): Promise<void>;
  /**
   * Frames the operating system dropped because the gateway did not read them in time
   * (cumulative), where the transport can tell; the gateway's overload signal.
   */
  receiveDrops?(): Promise<number | undefined>;
  /**
   * Bounds the operating system's receive queue to about `datagrams` small datagrams, or restores
   * the radio's own size (undefined). Under sustained overload that queue is always full, so its
   * size is only waiting: the gateway bounds it to what it reads in MAX_RECEIVE_WAIT_MS.
   */
  boundReceiveQueue?(datagrams: number | undefined): void;
  /** The radio's own counters (frames, dropped bytes, transmit failures), for the gateway's status. */
  counters?(): Record<string, number>;
}

export interface RadioEvents {
  /**
   * One frame arrived from `from`. `data` may be reused by the radio after the handler returns.
   * `meta` carries what the radio measured about this frame, where it can (RSSI on XBee 802.15.4).
   */
  datagram: [data: Buffer, from: string, meta?: FrameMeta];
  /** A transport fault that does not stop the radio (a send failed, a port hiccup). */
  error: [error: RadioError];
}

/** What a radio measured about one received frame. */
export interface FrameMeta {
  /** Received signal strength in dBm (negative). */
  readonly rssi?: number;
  /** Heard on the discovery multicast group rather than sent to the gateway's own address. */
  readonly viaGroup?: boolean;
}

export type RadioErrorCode = 'address-in-use' | 'permission-denied' | 'not-found' | 'bad-url' | 'send-failed' | 'io';

/** A radio failure with a machine code and a message a user can act on. */
export class RadioError extends Error {
  override readonly name = 'RadioError';
  constructor(
    readonly code: RadioErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
