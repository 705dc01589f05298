import { OVERLOAD_DROP_SHARE } from './admission.js';

/**
 * Fair shares of a radio under overload. When the gateway cannot keep up, the kernel drops
 * datagrams at random, so a quiet device loses as much as the ones flooding it: one device (or a
 * few hundred) could cut every other device off. So while the radio is losing datagrams, each
 * address may send at most an equal share of what the gateway processes (max-min fair: addresses
 * sending less than the share keep all of theirs, the rest split what is left), and what a flooding
 * address sends beyond it is dropped at once, before it is decoded. That is cheap, so the gateway
 * reads its socket fast enough again and the kernel stops dropping the quiet devices' datagrams.
 *
 * Pure: the gateway counts datagrams with `admit` and calls `sample` every SAMPLE_MS with the
 * kernel's drop count for the radio. A forwarder (MQTT-SN §5.5) is one address: its devices share.
 */
export class FairShare {
  /** Datagrams one address may send per sample; Infinity while the radio keeps up. */
  limit = Number.POSITIVE_INFINITY;
  /** Datagrams each address sent in the current sample (admitted or not). */
  private readonly counts = new Map<string, number>();
  /** Addresses beyond MAX_TRACKED share one count: spoofed sources cannot grow the table. */
  private overflow = 0;

  /** Whether to process this datagram from `address`; false: drop it (counted by the caller). */
  admit(address: string): boolean {
    let count: number;
    if (this.counts.size < MAX_TRACKED || this.counts.has(address)) {
      count = (this.counts.get(address) ?? 0) + 1;
      this.counts.set(address, count);
    } else {
      count = ++this.overflow;
    }
    return count <= this.limit;
  }

  /**
   * End of a sample: `kernelDrops` datagrams were lost on the radio's socket meanwhile. Returns
   * true when the limit changed between "limiting" and "not limiting" (for the log).
   *
   * While datagrams are lost the share shrinks, from what was processed; once none are, it grows
   * back until no address is held back. It helps most when processing is what the gateway cannot
   * keep up with (a flood fanned out to many subscribers, store writes): shedding is cheap, so the
   * gateway reads its socket again. When reading itself is the limit (a flood of cheap datagrams),
   * the loss stays and the flooding addresses are held to a small share: the quiet devices are
   * still served first, at a cost in what the flooding ones get through.
   */
  sample(kernelDrops: number): boolean {
    const before = Number.isFinite(this.limit);
    const demands = [...this.counts.values()];
    if (this.overflow > 0) demands.push(this.overflow);
    this.counts.clear();
    this.overflow = 0;
    const processed = demands.reduce((sum, demand) => sum + Math.min(demand, this.limit), 0);
    if (kernelDrops > OVERLOAD_DROP_SHARE * (kernelDrops + processed)) {
      // Losing datagrams: a smaller share, from what was processed, so the socket drains.
      const level = waterLevel(demands, processed * BACK_OFF);
      this.limit = Math.max(MIN_SHARE, Math.floor(Math.min(level, this.limit * BACK_OFF)));
    } else if (Number.isFinite(this.limit)) {
      // Keeping up: give more back, and no limit once no address is held back any more.
      const busiest = demands.reduce((max, demand) => Math.max(max, demand), 0);
      this.limit = busiest < this.limit ? Number.POSITIVE_INFINITY : Math.ceil(this.limit * STEP_UP);
    }
    return before !== Number.isFinite(this.limit);
  }
}

/** Datagrams per sample any address may always send: a device's normal traffic and its retries. */
export const MIN_SHARE = 3;
/** Addresses counted per sample; beyond it new ones share a single count. */
export const MAX_TRACKED = 50_000;
const BACK_OFF = 0.8;
const STEP_UP = 1.25;

/**
 * Max-min fair level: the L with sum(min(demand, L)) = capacity (every demand when they fit).
 */
export function waterLevel(demands: readonly number[], capacity: number): number {
  const sorted = [...demands].sort((a, b) => a - b);
  let left = capacity;
  for (let i = 0; i < sorted.length; i++) {
    const share = left / (sorted.length - i);
    if (sorted[i]! > share) return share;
    left -= sorted[i]!;
  }
  return Number.POSITIVE_INFINITY;
}
