/**
 * A small seeded PRNG (mulberry32) for the fuzzer. fast-check's arbitraries cost microseconds per
 * value; at 15,000 datagrams/s on a 2-core box the harness must leave the CPU to the gateway, and
 * a 32-bit state is enough to replay a campaign from `--seed`.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** An independent stream for one fake device: same seed and index, same datagrams. */
  static forDevice(seed: number, index: number): Rng {
    return new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  }

  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 <= n < max. */
  int(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }

  /** min <= n <= max. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** One of `choices`, each with its relative weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let roll = this.int(choices.reduce((sum, [weight]) => sum + weight, 0));
    for (const [weight, value] of choices) {
      if (roll < weight) return value;
      roll -= weight;
    }
    return this.pick(choices)[1];
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
