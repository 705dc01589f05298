/**
 * Structure-aware MQTT-SN 1.2 datagrams for the fuzzer. Each fake device plays scripts that make
 * sense (CONNECT, will set-up, REGISTER, PUBLISH QoS -1..2, SUBSCRIBE, sleep, wake-up PINGREQ...)
 * with hostile content (hostile.ts) and, now and then, damaged framing. Valid packets are built
 * with the project's codec, so a codec change moves the fuzzer with it. Pure and deterministic:
 * the same seed and sequence of `next(index)` calls give the same bytes. It never reads replies,
 * so topic IDs are guessed: the gateway numbers a device's REGISTERed names 1, 2, ... skipping
 * predefined IDs (§6.5).
 */
import { Rng } from './rng.js';
import { Script } from './script.js';

export interface FuzzDatagram {
  readonly bytes: Buffer;
  /** What was meant, e.g. `PUBLISH q1 id=2`. */
  readonly kind: string;
  /** How the frame was then damaged, e.g. `bitflip`; absent when it is well-formed. */
  readonly mutation?: string;
  /** Why this datagram may make the gateway forward something a broker refuses. */
  readonly suspect?: string;
}

export { PREDEFINED_IDS, RESERVED_CLIENT_ID } from './script.js';

/** One fake device: its own random stream, so devices do not shift each other's datagrams. */
export interface Device {
  readonly rng: Rng;
  /** Datagrams of the current script still to send. */
  queue: FuzzDatagram[];
  generation: number;
  msgId: number;
}

export class FuzzGenerator {
  private readonly devices = new Map<number, Device>();
  private readonly exclude: ReadonlySet<string>;

  /** `exclude`: kinds of hostile text (hostile.ts TEXT_KINDS) to leave out, e.g. while a known bug is fixed. */
  constructor(readonly seed: number, exclude: readonly string[] = []) {
    this.exclude = new Set(exclude);
  }

  /** The next datagram(s) fake device `index` sends. */
  next(index: number): FuzzDatagram[] {
    let device = this.devices.get(index);
    if (!device) this.devices.set(index, (device = { rng: Rng.forDevice(this.seed, index), queue: [], generation: 0, msgId: 1 }));
    while (device.queue.length === 0) device.queue = new Script(device, `${this.seed}-${index}-${device.generation++}`, this.exclude).build();
    const datagram = device.queue.shift();
    return datagram ? [datagram] : [];
  }
}
