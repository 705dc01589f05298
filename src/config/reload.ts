import type { GatewayConfig } from './schema.js';

/** What a reload (SIGHUP) applies while the gateway runs; a change anywhere else needs a restart. */
export const LIVE_FIELDS = ['logLevel', 'access', 'limits'] as const;
export type LiveField = (typeof LIVE_FIELDS)[number];

export interface ConfigChanges {
  /** Changed and applied at once. */
  readonly live: readonly LiveField[];
  /** Changed, but only a restart applies them: top-level fields, and `broker.*` one by one. */
  readonly restart: readonly string[];
}

/** Compares two validated configs field by field (key order in the file does not matter). */
export function configChanges(current: GatewayConfig, next: GatewayConfig): ConfigChanges {
  const live: LiveField[] = [];
  const restart: string[] = [];
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]) as Set<keyof GatewayConfig>;
  for (const key of keys) {
    if (same(current[key], next[key])) continue;
    if ((LIVE_FIELDS as readonly string[]).includes(key)) live.push(key as LiveField);
    else if (key === 'broker') restart.push(...changedFields('broker', current.broker, next.broker));
    else restart.push(key);
  }
  return { live, restart };
}

function changedFields(prefix: string, a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => !same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])).map((key) => `${prefix}.${key}`);
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : inner,
  );
}
