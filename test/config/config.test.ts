import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, readConfigFile } from '../../src/config/load.js';
import { applyOverrides } from '../../src/config/overrides.js';

describe('configuration', () => {
  it('defaults to UDP on IPv4 and IPv6 port 1884 and the embedded broker', () => {
    const config = parseConfig({});
    expect(config.radios).toEqual(['udp://0.0.0.0:1884', 'udp6://[::]:1884']);
    expect(config.broker.url).toBeUndefined();
    expect(config.embeddedPort).toBe(1883);
  });

  it('reads YAML and JSON files, and flags override them', async () => {
    const yamlPath = join(tmpdir(), `mqttsn-${process.pid}.yaml`);
    await writeFile(yamlPath, 'broker: mqtt://broker.local:1883\npredefined:\n  1: sensors/temp\nradios:\n  - udp://0.0.0.0:2000\n');
    const jsonPath = join(tmpdir(), `mqttsn-${process.pid}.json`);
    await writeFile(jsonPath, JSON.stringify({ gatewayId: 9, limits: { maxInflight: 5 } }));
    const fromYaml = parseConfig(applyOverrides(await readConfigFile(yamlPath), { predefined: ['2=sensors/hum'], radio: ['udp://127.0.0.1:3000'] }));
    expect(fromYaml.broker.url).toBe('mqtt://broker.local:1883');
    expect(fromYaml.predefined).toEqual({ '1': 'sensors/temp', '2': 'sensors/hum' });
    expect(fromYaml.radios).toEqual(['udp://127.0.0.1:3000']);
    const fromJson = parseConfig(await readConfigFile(jsonPath));
    expect(fromJson.gatewayId).toBe(9);
    expect(fromJson.limits.maxInflight).toBe(5);
    expect(fromJson.buffer.maxMessages).toBe(1000);
    expect(fromJson.buffer.overflow).toBe('drop-oldest');
    expect(fromJson.dataDir).toBe('./data');
  });

  it('names the wrong field and what is allowed', () => {
    expect(() => parseConfig({ limits: { maxInflite: 3 } })).toThrow(/unknown field "maxInflite" in limits; allowed fields: maxClients, maxInflight/);
    expect(() => parseConfig({ timers: { retryMs: 'soon' } })).toThrow(/field "timers.retryMs": .*expected number, received string/);
    expect(() => parseConfig({ broker: 'http://x' })).toThrow(/field "broker.url": an mqtt:\/\/ or mqtts:\/\/ URL/);
    expect(() => parseConfig({ radioz: [] })).toThrow(/unknown field "radioz"; allowed fields: radios, broker/);
    expect(() => parseConfig({ predefined: { one: 'x' } })).toThrow(/predefined/);
  });

  it('rejects a malformed --predefined flag with the expected form', () => {
    expect(() => applyOverrides({}, { predefined: ['sensors'] })).toThrow(ConfigError);
    expect(() => applyOverrides({}, { predefined: ['sensors'] })).toThrow(/expected ID=TOPIC/);
  });
});
