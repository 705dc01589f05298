import { readFile } from 'node:fs/promises';
import type * as z from 'zod/mini';
import { configSchema, type GatewayConfig } from './schema.js';

/** A configuration problem, with the field and what is allowed, for a human to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads a YAML or JSON config file (YAML is a superset of JSON); missing fields get defaults. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    // JSON needs no parser library; YAML (a superset) is loaded only for YAML files.
    data = /\.json$/i.test(path) ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a mapping of fields (radios, broker, predefined, ...)`);
  }
  return data as Record<string, unknown>;
}

/** Validates raw config data; every problem is reported with its field path. */
export function parseConfig(raw: unknown, source = 'config'): GatewayConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) {
    const problems = combinationProblems(result.data);
    if (problems.length === 0) return result.data;
    throw new ConfigError(`${source} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  throw new ConfigError(`${source} is invalid:\n${result.error.issues.map(describeIssue).join('\n')}`);
}

/** Fields that are valid alone but not together. */
function combinationProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const { broker } = config;
  if (broker.userProperties && broker.protocol !== '5') {
    problems.push('field "broker.userProperties": user properties need MQTT 5; set broker.protocol: 5 or userProperties: false');
  }
  if (broker.url === undefined && broker.protocol === '5') {
    problems.push('field "broker.protocol": the embedded broker speaks MQTT 3.1.1 only; name a broker with broker.url or use protocol: 3.1.1');
  }
  if (broker.tls && broker.url !== undefined && !broker.url.startsWith('mqtts://')) {
    problems.push(`field "broker.tls": TLS settings need an mqtts:// URL, not ${broker.url}`);
  }
  if ((broker.tls?.cert === undefined) !== (broker.tls?.key === undefined)) {
    problems.push('field "broker.tls": a client certificate needs its key and the other way round; give both cert and key');
  }
  if (broker.reconnectMaxMs < broker.reconnectMs) {
    problems.push(`field "broker.reconnectMaxMs": ${broker.reconnectMaxMs} is below broker.reconnectMs (${broker.reconnectMs})`);
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? ` in ${field}` : '';
    const allowed = allowedKeys(issue.path);
    return `  - unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}${where}${allowed ? `; allowed fields: ${allowed}` : ''}`;
  }
  return `  - field "${field}": ${issue.message}`;
}

/** Lists the fields the schema allows at `path`, so a typo's fix is in the message. */
function allowedKeys(path: readonly PropertyKey[]): string | undefined {
  let schema: unknown = configSchema;
  for (const key of path) {
    schema = unwrap(schema);
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (!shape || typeof key !== 'string') return undefined;
    schema = shape[key];
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape).join(', ') : undefined;
}

function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { innerType?: unknown; out?: unknown; type?: string } };
  for (let i = 0; i < 5 && current?.def; i++) {
    const next = current.def.innerType ?? (current.def.type === 'pipe' ? current.def.out : undefined);
    if (!next) break;
    current = next as typeof current;
  }
  return current;
}
