import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configChanges } from '../../src/config/reload.js';

describe('what a config reload changes', () => {
  const base = { radios: ['udp://0.0.0.0:1884'], access: { acl: { a: { publish: ['x/#'] }, b: { subscribe: ['y/#'] } } } };

  it('nothing, when only the order of keys differs', () => {
    const reordered = { access: { acl: { b: { subscribe: ['y/#'] }, a: { publish: ['x/#'] } } }, radios: ['udp://0.0.0.0:1884'] };
    expect(configChanges(parseConfig(base), parseConfig(reordered))).toEqual({ live: [], restart: [] });
  });

  it('log level, access rules and limits are live; the rest needs a restart, broker fields named one by one', () => {
    const next = parseConfig({
      ...base,
      radios: ['udp://0.0.0.0:1884', 'serial:///dev/ttyUSB0'],
      logLevel: 'debug',
      access: { clients: ['dev-*'] },
      limits: { maxClients: 10 },
      broker: { url: 'mqtt://10.0.0.1:1883', keepAlive: 60 },
      buffer: { maxMessages: 5 },
    });
    const changes = configChanges(parseConfig(base), next);
    expect([...changes.live].sort()).toEqual(['access', 'limits', 'logLevel']);
    expect([...changes.restart].sort()).toEqual(['broker.keepAlive', 'broker.url', 'buffer', 'radios']);
  });
});
