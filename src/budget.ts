/**
 * A gateway-wide bound on held messages, shared by every queue it covers: the count and payload
 * bytes held now, against the configured maximum. Each queue adds and subtracts what it holds.
 */
export class Budget {
  count = 0;
  bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  /** `share` < 1 asks for room below that share of the bound (a reserve left for others). */
  hasRoomFor(bytes: number, share = 1): boolean {
    return this.count + 1 <= this.maxMessages * share && this.bytes + bytes <= this.maxBytes * share;
  }

  add(bytes: number, count = 1): void {
    this.count += count;
    this.bytes += bytes;
  }

  remove(bytes: number, count = 1): void {
    this.count -= count;
    this.bytes -= bytes;
  }
}
