import { isLossy } from './admission.js';

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
  /** Datagrams read in the last sample, admitted or not. */
  lastRead = 0;
  /** Datagrams each address sent in the current sample (admitted or not). */
  private readonly counts = new Map<string, number>();
  /** Addresses beyond MAX_TRACKED share one count: spoofed sources cannot grow the table. */
  private overflow = 0;
  /** Every address heard in the last QUIET_WINDOW samples → the last sample it sent in (at most MAX_TRACKED). */
  private readonly recent = new Map<string, number>();
  private sampleNumber = 0;
  /** Lost share when the share last stepped down (Infinity: no step since it last grew), to tell whether stepping helps. */
  private lostShareAtStep = Number.POSITIVE_INFINITY;

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
   * While datagrams are lost the share shrinks, from what was processed, as long as that helps:
   * - only when some address sends less than the new share (a quiet device it protects). When every
   *   address floods alike, the kernel's random drops already treat them alike, and a share would
   *   only drop, unread, datagrams the gateway paid to read (measured, issue 17: 50 devices flat
   *   out fell from 30,000 to 7,000 msg/s delivered as the share stepped down to its floor);
   * - only while the last step lowered the share of datagrams lost. When reading the socket is
   *   itself the limit, a smaller share does not stop the loss; the share holds there instead of
   *   falling to MIN_SHARE.
   * It helps most when processing is what the gateway cannot keep up with (a flood fanned out to
   * many subscribers, store writes): shedding is cheap, so the gateway reads its socket again.
   * Once nothing is lost, or no address sends less than the share any more, the share grows back
   * until no address is held back.
   */
  sample(kernelDrops: number): boolean {
    const before = Number.isFinite(this.limit);
    const demands = [...this.counts.values()];
    if (this.overflow > 0) demands.push(this.overflow);
    this.remember();
    const read = demands.reduce((sum, demand) => sum + demand, 0);
    this.lastRead = read;
    const processed = demands.reduce((sum, demand) => sum + Math.min(demand, this.limit), 0);
    const lostShare = kernelDrops / Math.max(1, kernelDrops + read);
    if (isLossy(kernelDrops, processed)) {
      // Losing datagrams: a smaller share, from what was processed, so the socket drains.
      const level = Math.max(MIN_SHARE, Math.floor(Math.min(waterLevel(demands, processed * BACK_OFF), this.limit * BACK_OFF)));
      if (!this.anyQuieterThan(level)) this.grow(demands);
      else if (lostShare < IMPROVEMENT * this.lostShareAtStep) {
        this.limit = level;
        this.lostShareAtStep = lostShare;
      }
    } else {
      this.grow(demands);
    }
    this.counts.clear();
    this.overflow = 0;
    return before !== Number.isFinite(this.limit);
  }

  /** Notes who sent in this sample, and forgets addresses not heard for QUIET_WINDOW samples. */
  private remember(): void {
    this.sampleNumber++;
    for (const address of this.counts.keys()) {
      if (this.recent.size < MAX_TRACKED || this.recent.has(address)) this.recent.set(address, this.sampleNumber);
    }
    for (const [address, heard] of this.recent) if (this.sampleNumber - heard >= QUIET_WINDOW) this.recent.delete(address);
  }

  /** Whether an address heard lately sent fewer than `level` datagrams in this sample (none counts). */
  private anyQuieterThan(level: number): boolean {
    for (const address of this.recent.keys()) if ((this.counts.get(address) ?? 0) < level) return true;
    return false;
  }

  /** Keeping up (or nobody to protect): more back, and no limit once no address is held back any more. */
  private grow(demands: readonly number[]): void {
    this.lostShareAtStep = Number.POSITIVE_INFINITY;
    if (!Number.isFinite(this.limit)) return;
    const busiest = demands.reduce((max, demand) => Math.max(max, demand), 0);
    this.limit = busiest < this.limit ? Number.POSITIVE_INFINITY : Math.ceil(this.limit * STEP_UP);
  }
}

/** Datagrams per sample any address may always send: a device's normal traffic and its retries. */
export const MIN_SHARE = 3;
/** Addresses counted per sample; beyond it new ones share a single count. */
export const MAX_TRACKED = 50_000;
const BACK_OFF = 0.8;
const STEP_UP = 1.25;
/** Samples an address counts as a device to protect after it was last heard: a sensor reporting every minute. */
export const QUIET_WINDOW = 60;
/** A step down helped when the lost share fell below this fraction of the sample before. */
const IMPROVEMENT = 0.9;

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
