import { describe, expect, it } from 'vitest';
import { parsePredefined, parseQos } from '../../src/client/cli/args.js';

describe('CLI argument parsers', () => {
  it('parses QoS within the allowed set', () => {
    expect(parseQos('-1', [-1, 0, 1] as const)).toBe(-1);
    expect(() => parseQos('2', [-1, 0, 1] as const)).toThrow(/QoS must be one of -1, 0, 1/);
    expect(() => parseQos('', [0, 1] as const)).toThrow();
  });

  it('accumulates --predefined ID=TOPIC', () => {
    expect(parsePredefined('7=plant/alarm', { x: 1 })).toEqual({ x: 1, 'plant/alarm': 7 });
    expect(parsePredefined('9=a=b', {})).toEqual({ 'a=b': 9 });
    expect(() => parsePredefined('plant/alarm', {})).toThrow(/ID=TOPIC/);
    expect(() => parsePredefined('0=x', {})).toThrow(/1\.\.65534/);
  });
});
