import type { EventEmitter } from 'node:events';

/*
 * The slice of noble's API the BLE radio uses (@stoprocent/noble; same API as @abandonware/noble).
 * Typed here so the radio compiles without the optional package, and so tests can hand in the
 * real Noble class over a fake binding.
 */

export interface NobleCharacteristic extends EventEmitter {
  readonly uuid: string;
  subscribeAsync(): Promise<void>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
}

export interface NoblePeripheral extends EventEmitter {
  readonly id: string;
  readonly address: string;
  readonly advertisement: { readonly serviceUuids?: readonly string[]; readonly localName?: string };
  /** The negotiated ATT MTU once connected (noble sets it from the binding). */
  readonly mtu: number | null | undefined;
  readonly rssi: number;
  connectAsync(): Promise<void>;
  /** Gives up a pending connect (noble's own attempts never time out). */
  cancelConnect(): void;
  disconnectAsync(): Promise<void>;
  discoverSomeServicesAndCharacteristicsAsync(serviceUuids: string[], characteristicUuids: string[]): Promise<{ characteristics: NobleCharacteristic[] }>;
}

export interface NobleLike extends EventEmitter {
  readonly state: string;
  startScanningAsync(serviceUuids: string[], allowDuplicates: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  stop(): void;
}
