import type { PublishTopic, SubscribeTopic } from '../codec/packets.js';
import { ClientError } from './errors.js';
import type { TopicFilter } from './options.js';

/** True for names that may be sent as a short topic name: exactly two characters, two octets (§3.4). */
export function isShortName(name: string): boolean {
  return name.length === 2 && Buffer.byteLength(name, 'utf8') === 2;
}

export function hasWildcard(name: string): boolean {
  return name.includes('#') || name.includes('+');
}

/**
 * The client's own view of topic ids: normal ids learnt from REGACK, SUBACK and gateway
 * REGISTER (kept per gateway connection, §7.3), plus the pre-defined table shared with the
 * gateway by configuration (§6.7). Pure data, no I/O.
 */
export class TopicTable {
  private readonly normalById = new Map<number, string>();
  private readonly normalByName = new Map<string, number>();
  private readonly predefinedById = new Map<number, string>();
  private readonly predefinedByName = new Map<string, number>();

  constructor(predefined: Readonly<Record<string, number>> = {}) {
    for (const [name, id] of Object.entries(predefined)) {
      if (!Number.isInteger(id) || id < 1 || id > 0xfffe) {
        throw new RangeError(`pre-defined topic "${name}": id ${id} is not in 1..65534`);
      }
      this.predefinedById.set(id, name);
      this.predefinedByName.set(name, id);
    }
  }

  /** Records a normal id; a later mapping for the same id or name replaces the older one. */
  learn(id: number, name: string): void {
    const previousName = this.normalById.get(id);
    if (previousName !== undefined) this.normalByName.delete(previousName);
    const previousId = this.normalByName.get(name);
    if (previousId !== undefined) this.normalById.delete(previousId);
    this.normalById.set(id, name);
    this.normalByName.set(name, id);
  }

  /** Drops a normal id, e.g. after the gateway answered PUBACK 0x02 for it. */
  forget(id: number): void {
    const name = this.normalById.get(id);
    if (name !== undefined) this.normalByName.delete(name);
    this.normalById.delete(id);
  }

  /** Forgets every normal id (a clean-session CONNECT starts a new table). */
  clearNormal(): void {
    this.normalById.clear();
    this.normalByName.clear();
  }

  /** The name a PUBLISH topic stands for, or undefined when the id is unknown. */
  nameOf(topic: PublishTopic): string | undefined {
    switch (topic.kind) {
      case 'normal':
        return this.normalById.get(topic.id);
      case 'predefined':
        return this.predefinedById.get(topic.id);
      case 'short':
        return topic.name;
    }
  }

  predefinedId(name: string): number | undefined {
    return this.predefinedByName.get(name);
  }

  normalId(name: string): number | undefined {
    return this.normalByName.get(name);
  }

  /**
   * The form a PUBLISH to `name` can use without registering: the pre-defined id when the name
   * is configured, a short name when it has exactly two characters, else the cached normal id.
   * Undefined means the name must be registered first.
   */
  publishTopic(name: string): PublishTopic | undefined {
    const predefined = this.predefinedByName.get(name);
    if (predefined !== undefined) return { kind: 'predefined', id: predefined };
    if (isShortName(name)) return { kind: 'short', name };
    const normal = this.normalByName.get(name);
    return normal === undefined ? undefined : { kind: 'normal', id: normal };
  }
}

/** The SUBSCRIBE/UNSUBSCRIBE form of a filter; throws a `bad-topic` ClientError when unusable. */
export function toSubscribeTopic(filter: TopicFilter): SubscribeTopic {
  if (typeof filter === 'string') {
    if (filter.length === 0) throw new ClientError('bad-topic', 'topic filter must not be empty');
    return { kind: 'name', name: filter };
  }
  if ('predefined' in filter) return { kind: 'predefined', id: filter.predefined };
  if (!isShortName(filter.short)) throw new ClientError('bad-topic', `short topic "${filter.short}" must be exactly 2 characters`);
  return { kind: 'short', name: filter.short };
}
