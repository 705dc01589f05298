import type { GatewayConfig } from '../config/schema.js';
import { topicMatches } from '../topics/match.js';

/** `*` matches any run of characters; everything else is literal. */
function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Does allowed filter `allowed` cover every topic requested filter `requested` can match? Level by
 * level: `#` covers the rest, `+` covers any one level (a requested `+` too), a literal only itself.
 */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= r.length) return false;
    if (r[i] === '#') return false; // the request reaches deeper than this rule allows
    if (a[i] !== '+' && a[i] !== r[i]) return false;
  }
  return a.length === r.length;
}

export type AccessConfig = GatewayConfig['access'];

/**
 * Who may use the gateway and for what (config `access`): an allow-list of client IDs, allowed
 * addresses per radio, publish and subscribe topic filters per client (or `*`), and which
 * addresses may send QoS -1. Pure: the handlers ask, count and answer.
 */
export class AccessPolicy {
  private readonly clients: RegExp[] | undefined;
  private readonly addresses = new Map<string, RegExp[]>();
  private readonly qosMinusOne: RegExp[] | undefined;
  private readonly acl = new Map<string, { publish: readonly string[]; subscribe: readonly string[] }>();
  private readonly aclPatterns: Array<{ pattern: RegExp; rules: { publish: readonly string[]; subscribe: readonly string[] } }> = [];

  constructor(config: AccessConfig) {
    this.clients = config.clients?.map(glob);
    for (const [radio, patterns] of Object.entries(config.addresses)) this.addresses.set(radio, patterns.map(glob));
    this.qosMinusOne = config.qosMinusOneFrom?.map(glob);
    for (const [clientId, rules] of Object.entries(config.acl)) {
      const entry = { publish: rules.publish ?? ['#'], subscribe: rules.subscribe ?? ['#'] };
      if (clientId.includes('*')) this.aclPatterns.push({ pattern: glob(clientId), rules: entry });
      else this.acl.set(clientId, entry);
    }
  }

  /** May this client ID connect from this radio address? */
  allowsConnect(clientId: string, radio: string, address: string): boolean {
    if (this.clients && !this.clients.some((pattern) => pattern.test(clientId))) return false;
    return this.allowsAddress(radio, address);
  }

  allowsAddress(radio: string, address: string): boolean {
    const patterns = this.addresses.get(radio);
    return !patterns || patterns.some((pattern) => pattern.test(address));
  }

  allowsQosMinusOne(radio: string, address: string): boolean {
    return (!this.qosMinusOne || this.qosMinusOne.some((pattern) => pattern.test(address))) && this.allowsAddress(radio, address);
  }

  mayPublish(clientId: string, topic: string): boolean {
    const rules = this.rulesFor(clientId);
    return !rules || rules.publish.some((filter) => topicMatches(filter, topic));
  }

  maySubscribe(clientId: string, filter: string): boolean {
    const rules = this.rulesFor(clientId);
    return !rules || rules.subscribe.some((allowed) => filterCovers(allowed, filter));
  }

  /** The client's own rules, else the first matching pattern's (e.g. `sensor-*`, `*`); none = no restriction. */
  private rulesFor(clientId: string): { publish: readonly string[]; subscribe: readonly string[] } | undefined {
    return this.acl.get(clientId) ?? this.aclPatterns.find((entry) => entry.pattern.test(clientId))?.rules;
  }
}
