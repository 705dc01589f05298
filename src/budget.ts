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

  hasRoomFor(bytes: number): boolean {
    return this.count + 1 <= this.maxMessages && this.bytes + bytes <= this.maxBytes;
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
