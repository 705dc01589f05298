/**
 * Messages held for a device in the durable store only, oldest first: their sequence numbers and
 * payload sizes, about 16 bytes of RAM each instead of the message itself. A sleeping or absent
 * device's QoS 1/2 messages live here until it is reachable again; then they are read back and
 * go to the head of its queue (they are older than anything held in memory for it).
 */
export class SpilledMessages {
  private seqs: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  /** Payload bytes of the messages listed. */
  bytes = 0;

  get count(): number {
    return this.seqs.length - this.head;
  }

  push(seq: number, size: number): void {
    this.seqs.push(seq);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** The oldest, removed from the list. */
  shift(): { seq: number; size: number } | undefined {
    if (this.head >= this.seqs.length) return undefined;
    const seq = this.seqs[this.head]!;
    const size = this.sizes[this.head]!;
    this.head++;
    this.bytes -= size;
    if (this.head === this.seqs.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.seqs.length) this.compact();
    return { seq, size };
  }

  /** Takes one entry out wherever it is (a write that failed); false when it is not listed. */
  remove(seq: number): boolean {
    const index = this.seqs.indexOf(seq, this.head);
    if (index === -1) return false;
    this.bytes -= this.sizes[index]!;
    this.seqs.splice(index, 1);
    this.sizes.splice(index, 1);
    if (this.head >= this.seqs.length) this.clear();
    return true;
  }

  peekSeq(): number | undefined {
    return this.head < this.seqs.length ? this.seqs[this.head] : undefined;
  }

  /** Sequence numbers, oldest first. */
  list(): number[] {
    return this.seqs.slice(this.head);
  }

  clear(): void {
    this.seqs = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }

  private compact(): void {
    this.seqs = this.seqs.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
  }
}
