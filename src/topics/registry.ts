import { hasWildcard, isValidTopicName } from './names.js';
import type { PredefinedTopics } from './predefined.js';

/** IDs 0x0000 and 0xFFFF are reserved and never assigned (MQTT-SN 1.2 §5.3.11). */
const FIRST_ID = 0x0001;
const LAST_ID = 0xfffe;

export type RegisterResult =
  | { readonly ok: true; readonly id: number; readonly created: boolean }
  | { readonly ok: false; readonly reason: 'empty' | 'wildcard' | 'invalid' | 'exhausted' };

/**
 * One client's normal topic IDs (MQTT-SN 1.2 §6.5, §7.3): the name ↔ ID table is per client,
 * so a device can never publish on another device's ID. IDs used by predefined topics are
 * skipped, so a SUBACK's ID (which carries no type) is never ambiguous.
 *
 * `known` records which IDs the device has learnt in its current connection (REGACK, SUBACK or
 * our REGISTER acknowledged): after a reconnect the gateway must register again before using one.
 */
export class TopicRegistry {
  private readonly idByName = new Map<string, number>();
  private readonly nameById = new Map<number, string>();
  private readonly known = new Set<number>();
  private nextId = FIRST_ID;
  /** Total length of the names held (characters), for limits.maxTopicNamesLength. */
  namesLength = 0;

  constructor(readonly predefined: PredefinedTopics) {}

  register(name: string): RegisterResult {
    if (name.length === 0) return { ok: false, reason: 'empty' };
    if (hasWildcard(name)) return { ok: false, reason: 'wildcard' };
    if (!isValidTopicName(name)) return { ok: false, reason: 'invalid' }; // a broker would refuse it
    const existing = this.idByName.get(name);
    if (existing !== undefined) return { ok: true, id: existing, created: false };
    const id = this.allocate();
    if (id === undefined) return { ok: false, reason: 'exhausted' };
    this.idByName.set(name, id);
    this.nameById.set(id, name);
    this.namesLength += name.length;
    return { ok: true, id, created: true };
  }

  /** Keeps an ID chosen earlier (a restored session), so the device's table stays valid. */
  restore(name: string, id: number): void {
    if (!this.idByName.has(name)) this.namesLength += name.length;
    this.idByName.set(name, id);
    this.nameById.set(id, name);
  }

  idOf(name: string): number | undefined {
    return this.idByName.get(name);
  }

  nameOf(id: number): string | undefined {
    return this.nameById.get(id);
  }

  markKnown(id: number): void {
    this.known.add(id);
  }

  /** The IDs the device has learnt in this connection (kept across a gateway restart). */
  knownIds(): number[] {
    return [...this.known];
  }

  isKnown(id: number): boolean {
    return this.known.has(id);
  }

  /** A new connection: the device may have lost its table (reboot), so nothing is assumed known. */
  forgetKnown(): void {
    this.known.clear();
  }

  release(name: string): void {
    const id = this.idByName.get(name);
    if (id === undefined) return;
    this.idByName.delete(name);
    this.nameById.delete(id);
    this.known.delete(id);
    this.namesLength -= name.length;
  }

  clear(): void {
    this.idByName.clear();
    this.nameById.clear();
    this.known.clear();
    this.nextId = FIRST_ID;
    this.namesLength = 0;
  }

  get size(): number {
    return this.idByName.size;
  }

  entries(): IterableIterator<[string, number]> {
    return this.idByName.entries();
  }

  private allocate(): number | undefined {
    const span = LAST_ID - FIRST_ID + 1;
    for (let tried = 0; tried < span; tried++) {
      const id = this.nextId;
      this.nextId = id === LAST_ID ? FIRST_ID : id + 1;
      if (!this.nameById.has(id) && !this.predefined.has(id)) return id;
    }
    return undefined;
  }
}
