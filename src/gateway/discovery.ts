import type { Clock, TimerHandle } from '../clock.js';
import type { Packet } from '../codec/index.js';
import type { Radio } from '../radio.js';
import type { Peer } from './peer.js';

export interface DiscoveryOptions {
  readonly gatewayId: number;
  /** T_ADV in seconds (MQTT-SN 1.2 §7.2 suggests ≥ 900); 0 turns ADVERTISE off. */
  readonly advertiseSeconds: number;
  /** Upper bound of the random wait before answering SEARCHGW, so gateways in range do not answer at once. */
  readonly gwinfoMaxDelayMs: number;
  readonly clock: Clock;
  readonly random?: () => number;
  /** ADVERTISE goes out only while the broker is reachable (reference (f)). */
  readonly brokerReachable: () => boolean;
  readonly send: (peer: Peer, packet: Packet) => void;
  readonly broadcast: (radio: Radio, packet: Packet) => void;
  /** To the radio's discovery multicast group (GWINFO for a SEARCHGW heard there). */
  readonly toGroup: (radio: Radio, packet: Packet) => void;
}

/**
 * Gateway discovery (MQTT-SN 1.2 §6.1): ADVERTISE every T_ADV on every radio that can broadcast,
 * while the broker is reachable; SEARCHGW answered with GWINFO after a random delay, at most one
 * pending answer per asker.
 */
export class Discovery {
  private timer: TimerHandle | undefined;
  private readonly pendingAnswers = new Map<string, TimerHandle>();
  private stopped = false;

  constructor(
    private readonly radios: readonly Radio[],
    private readonly options: DiscoveryOptions,
  ) {}

  start(): void {
    if (this.options.advertiseSeconds <= 0) return;
    this.advertise();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    for (const timer of this.pendingAnswers.values()) this.options.clock.clearTimeout(timer);
    this.pendingAnswers.clear();
  }

  /** Advertises now (e.g. when the broker link comes back) and restarts the period. */
  advertise(): void {
    if (this.stopped || this.options.advertiseSeconds <= 0) return;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    const { gatewayId, advertiseSeconds } = this.options;
    if (this.options.brokerReachable()) {
      const duration = Math.min(advertiseSeconds, 0xffff);
      for (const radio of this.radios) this.options.broadcast(radio, { type: 'advertise', gwId: gatewayId, duration });
    }
    this.timer = this.options.clock.setTimeout(() => this.advertise(), advertiseSeconds * 1000);
  }

  /**
   * A SEARCHGW heard on the multicast group is answered on the group (as the spec's broadcast, and
   * Paho, do): one answer serves every device searching meanwhile. One sent to us is answered to its sender.
   */
  searchGw(peer: Peer, viaGroup = false): void {
    const toGroup = viaGroup && peer.radio.sendToGroup !== undefined;
    const key = toGroup ? `group|${peer.radio.name}` : peer.key;
    if (this.stopped || this.pendingAnswers.has(key)) return;
    const delay = Math.floor((this.options.random ?? Math.random)() * this.options.gwinfoMaxDelayMs);
    const answer = (): void => {
      this.pendingAnswers.delete(key);
      const gwinfo = { type: 'gwinfo', gwId: this.options.gatewayId, gwAdd: Buffer.alloc(0) } as const;
      if (toGroup) this.options.toGroup(peer.radio, gwinfo);
      else this.options.send(peer, gwinfo);
    };
    if (delay <= 0) {
      answer();
      return;
    }
    this.pendingAnswers.set(key, this.options.clock.setTimeout(answer, delay));
  }
}
