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

  it('broker side: aggregating 3.1.1 by default, a bounded store-and-forward that refuses at the bound', () => {
    const config = parseConfig({ broker: 'mqtt://b:1883' });
    expect(config.broker).toMatchObject({ mode: 'aggregating', protocol: '3.1.1', userProperties: false, topicPrefix: '', clientIdPrefix: '', reconnectMs: 1000, reconnectMaxMs: 30_000 });
    expect(config.forward).toEqual({ maxMessages: 100_000, maxBytes: 32 << 20, overflow: 'refuse', qos0: 'keep' });
  });

  it('reads MQTT 5 written as a YAML number or a string, and 3.1.1 as a string', () => {
    expect(parseConfig({ broker: { url: 'mqtt://b', protocol: 5 } }).broker.protocol).toBe('5');
    expect(parseConfig({ broker: { url: 'mqtt://b', protocol: '5' } }).broker.protocol).toBe('5');
    expect(parseConfig({ broker: { url: 'mqtt://b', protocol: '3.1.1' } }).broker.protocol).toBe('3.1.1');
    expect(() => parseConfig({ broker: { url: 'mqtt://b', protocol: 4 } })).toThrow(/field "broker.protocol"/);
  });

  it('names the field and the fix for settings that do not go together', () => {
    expect(() => parseConfig({ broker: { url: 'mqtt://b', userProperties: true } })).toThrow(/field "broker.userProperties": user properties need MQTT 5; set broker.protocol: 5/);
    expect(() => parseConfig({ broker: { protocol: 5 } })).toThrow(/field "broker.protocol": the embedded broker speaks MQTT 3.1.1 only/);
    expect(() => parseConfig({ broker: { url: 'mqtt://b', tls: { ca: 'ca.pem' } } })).toThrow(/field "broker.tls": TLS settings need an mqtts:\/\/ URL/);
    expect(() => parseConfig({ broker: { url: 'mqtts://b', tls: { cert: 'c.pem' } } })).toThrow(/give both cert and key/);
    expect(() => parseConfig({ broker: { url: 'mqtt://b', reconnectMs: 5000, reconnectMaxMs: 1000 } })).toThrow(/field "broker.reconnectMaxMs"/);
    expect(() => parseConfig({ forward: { overflow: 'drop-newest' } })).toThrow(/field "forward.overflow"/);
    expect(() => parseConfig({ predefined: { 1: 'sensors/#' } })).toThrow(/a topic name without wildcards/);
  });

  it('takes per-device broker credentials for transparent mode', () => {
    const config = parseConfig({ broker: { url: 'mqtt://b', mode: 'transparent', clientIdPrefix: 'sn-' }, clients: { dev1: { username: 'dev1', password: 'p' } } });
    expect(config.broker.mode).toBe('transparent');
    expect(config.clients.dev1).toEqual({ predefined: {}, username: 'dev1', password: 'p' });
  });
});
