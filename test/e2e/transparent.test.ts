import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttSnClient } from '../../src/client/index.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authConfig, writePasswordFile } from '../helpers/mosquitto-auth.js';
import { mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Who may do what at the broker: the gateway's own login may not write device topics or wills,
 * so anything there was published under the device's own connection.
 */
const ACL = `user gateway
topic readwrite gw/#

user dev-a
topic readwrite data/dev-a/#
topic readwrite wills/dev-a
topic read cmd/dev-a

user dev-c
topic readwrite data/dev-c/#

user watcher
topic readwrite #
topic read $SYS/#

# %c is the client ID the broker sees: with the gateway's prefix, sn-<device>.
pattern write clients/%c/#
`;

describe.skipIf(skip)('transparent mode: one broker connection per device', () => {
  let broker: Mosquitto;
  let gateway: TestGateway;
  let watcher: BrokerClient;
  let dir: string;
  const clients: MqttSnClient[] = [];

  /** The broker's own count of connected clients ($SYS, published every second here). */
  async function connectedAtBroker(expected: number): Promise<number> {
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const reports = watcher.messages.filter((m) => m.topic === '$SYS/broker/clients/connected');
      last = Number(reports.at(-1)?.payload.toString() ?? -1);
      if (last === expected) return last;
      await pause(100);
    }
    return last;
  }

  function device(clientId: string, extra: Partial<ConstructorParameters<typeof MqttSnClient>[0]> = {}): MqttSnClient {
    const client = new MqttSnClient({ gateway: `udp://127.0.0.1:${gateway.port}`, clientId, keepAlive: 60, retryMs: 500, retries: 4, ...extra });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-transparent-'));
    const passwords = await writePasswordFile(dir, { gateway: 'gw-pass', 'dev-a': 'a-pass', 'dev-b': 'b-pass', 'dev-c': 'c-pass', watcher: 'w-pass' });
    const aclFile = join(dir, 'acl');
    await writeFile(aclFile, ACL);
    await chmod(aclFile, 0o644);
    broker = await startMosquitto(`${authConfig(passwords)}acl_file ${aclFile}\nsys_interval 1\n`);
    watcher = await BrokerClient.connect(broker.url, { username: 'watcher', password: 'w-pass' });
    await watcher.subscribe('#', 1);
    await watcher.subscribe('$SYS/broker/clients/connected', 0);
    gateway = await startTestGateway(broker.url, {
      broker: { url: broker.url, mode: 'transparent', clientIdPrefix: 'sn-', username: 'gateway', password: 'gw-pass', reconnectMs: 200 },
      clients: {
        'dev-a': { username: 'dev-a', password: 'a-pass' },
        'dev-b': { username: 'dev-b', password: 'not-b-pass' },
        'dev-c': { username: 'dev-c', password: 'c-pass' },
      },
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await gateway?.stop();
    await watcher?.close();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the broker sees each device as its own client, under its prefixed client ID and its own login', async () => {
    expect(await connectedAtBroker(2)).toBe(2); // the watcher and the gateway's own connection
    const a = device('dev-a');
    const c = device('dev-c');
    await a.connect();
    await c.connect();
    expect(await connectedAtBroker(4)).toBe(4);
    await a.publish('data/dev-a/temp', '21.5', { qos: 1 });
    await c.publish('data/dev-c/temp', '19.0', { qos: 1 });
    const arrived = await watcher.waitFor(2, (m) => m.topic.startsWith('data/'));
    expect(arrived.map((m) => `${m.topic}=${m.payload.toString()}`).sort()).toEqual(['data/dev-a/temp=21.5', 'data/dev-c/temp=19.0']);
    // The broker knows the device by its prefixed client ID: this topic is writable only as sn-dev-a.
    await a.publish('clients/sn-dev-a/hello', 'prefixed', { qos: 1 });
    await a.publish('clients/dev-a/hello', 'unprefixed', { qos: 1 });
    await watcher.waitFor(1, (m) => m.topic === 'clients/sn-dev-a/hello');
    // Broker ACLs apply per device: dev-c may not write under dev-a's topics, and the broker drops it.
    await c.publish('data/dev-a/temp', 'forged', { qos: 1 });
    await a.publish('data/dev-a/temp', 'after', { qos: 1 });
    await watcher.waitFor(1, (m) => m.payload.toString() === 'after');
    expect(watcher.messages.filter((m) => m.payload.toString() === 'forged' || m.payload.toString() === 'unprefixed')).toEqual([]);
    // A clean DISCONNECT closes the device's connection at the broker.
    await c.disconnect();
    expect(await connectedAtBroker(3)).toBe(3);
    expect(gateway.running.gateway.status().upstream.deviceLinks).toBe(1);
  });

  it('a device the broker refuses (wrong password in the config) gets CONNACK "rejected: not supported"', async () => {
    const b = device('dev-b');
    await expect(b.connect()).rejects.toThrow(/0x03|not supported/i);
    expect(gateway.running.gateway.sessions.get('dev-b')).toBeUndefined();
  });

  it('a subscription is the device\'s own at the broker and receives what is published there', async () => {
    const a = device('dev-a', { cleanSession: true });
    await a.connect();
    const received: string[] = [];
    a.on('message', (_topic: string, payload: Buffer) => received.push(payload.toString()));
    const result = await a.subscribe('cmd/dev-a', 1);
    expect(result.returnCode).toBe(0);
    await watcher.publish('cmd/dev-a', 'open valve', 1);
    for (let i = 0; i < 50 && received.length === 0; i++) await pause(50);
    expect(received).toEqual(['open valve']);
  });

  it('a lost device\'s will is published by the broker itself, under the device\'s login', async () => {
    const a = device('dev-a', { keepAlive: 1, will: { topic: 'wills/dev-a', payload: 'dev-a is gone', qos: 1 } });
    await a.connect();
    await a.close(); // the radio goes quiet: no DISCONNECT
    // The gateway loses it after 1.5 x keep-alive and drops its connection without DISCONNECT; the
    // gateway's own login may not write wills/#, so this can only come from the broker.
    const wills = await watcher.waitFor(1, (m) => m.topic === 'wills/dev-a', 6000);
    expect(wills.map((m) => m.payload.toString())).toEqual(['dev-a is gone']);
    expect(gateway.running.gateway.stats.willsPublished).toBeGreaterThanOrEqual(1);
  });
});
