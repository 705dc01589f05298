import { randomBytes } from 'node:crypto';

/**
 * Pure parsers for the `mqttsn` command-line values. Each throws an Error whose message is
 * fit to show the user; the bin wraps them for commander.
 */

export function parseQos<const Allowed extends readonly number[]>(text: string, allowed: Allowed): Allowed[number] {
  const value = Number(text);
  const found = allowed.find((q) => q === value);
  if (text.trim() === '' || found === undefined) throw new Error(`QoS must be one of ${allowed.join(', ')}, got "${text}"`);
  return found;
}

export function parsePositiveInt(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${what} must be a positive integer, got "${text}"`);
  }
  return value;
}

export function parseNonNegativeInt(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new Error(`${what} must be an integer ≥ 0, got "${text}"`);
  }
  return value;
}

/** `ID=TOPIC`, added to the name → id table `previous` (repeatable option). */
export function parsePredefined(text: string, previous: Readonly<Record<string, number>>): Record<string, number> {
  const eq = text.indexOf('=');
  const idText = eq < 0 ? '' : text.slice(0, eq);
  const name = eq < 0 ? '' : text.slice(eq + 1);
  const id = Number(idText);
  if (!/^\d+$/.test(idText) || id < 1 || id > 0xfffe || name === '') {
    throw new Error(`--predefined expects ID=TOPIC with ID in 1..65534, got "${text}"`);
  }
  return { ...previous, [name]: id };
}

/** A client id that fits the 23-character limit of MQTT-SN 1.2 §5.3.1. */
export function defaultClientId(role: 'pub' | 'sub'): string {
  return `mqttsn-${role}-${randomBytes(4).toString('hex')}`;
}
