/** Predefined topic IDs (MQTT-SN 1.2 §6.7): configured on gateway and device in advance, never registered. */
export class PredefinedTopics {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();

  constructor(entries: Iterable<readonly [number, string]> = []) {
    for (const [id, name] of entries) {
      this.byId.set(id, name);
      this.byName.set(name, id);
    }
  }

  /** A client's view: its own entries override the global ones with the same id. */
  withOverrides(entries: Iterable<readonly [number, string]>): PredefinedTopics {
    const merged = new Map(this.byId);
    for (const [id, name] of entries) merged.set(id, name);
    return new PredefinedTopics(merged);
  }

  name(id: number): string | undefined {
    return this.byId.get(id);
  }

  id(name: string): number | undefined {
    return this.byName.get(name);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
