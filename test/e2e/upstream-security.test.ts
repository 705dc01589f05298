import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttSnClient } from '../../src/client/index.js';
import type * as z from 'zod/mini';
import type { brokerSchema } from '../../src/config/schema.js';
import type { MqttUpstream } from '../../src/upstream/mqtt-upstream.js';
import type { UpstreamState } from '../../src/upstream/upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authConfig, writePasswordFile } from '../helpers/mosquitto-auth.js';
import { freeTcpPort, mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeTestCa, tlsListenerConfig, type TestCa } from '../helpers/test-ca.js';

const skip = mosquittoSkipReason();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** How long a misconfigured link is watched: several reconnect attempts at reconnectMs 200. */
const WATCH_MS = 1500;

/** An MQTT.js subscriber at the broker that keeps whole packets (MQTT 5 properties included). */
class Subscriber {
  readonly packets: IPublishPacket[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (_topic, _payload, packet) => this.packets.push(packet));
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: `sub-${Math.random().toString(16).slice(2)}`, ...options }, false);
    return new Subscriber(client);
  }

  async subscribe(filter: string, qos: 0 | 1 = 1): Promise<void> {
    const grants = await this.client.subscribeAsync(filter, { qos });
    expect(grants[0]?.qos).not.toBe(128);
  }

  /** The first packet matching `filter`; fails after `timeoutMs`. */
  async waitFor(filter: (packet: IPublishPacket) => boolean, timeoutMs = 5000): Promise<IPublishPacket> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.packets.find(filter);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got: ${this.packets.map((p) => p.topic).join(', ') || 'nothing'}`);
      await pause(20);
    }
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

describe.skipIf(skip)('upstream security and device metadata (mosquitto)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function gatewayTo(url: string, broker: z.input<typeof brokerSchema>): Promise<TestGateway> {
    const gateway = await startTestGateway(url, { broker: { reconnectMs: 200, reconnectMaxMs: 400, ...broker } });
    cleanup.push(() => gateway.stop());
    return gateway;
  }

  async function subscriber(url: string, filter: string, options: IClientOptions = {}): Promise<Subscriber> {
    const sub = await Subscriber.connect(url, options);
    cleanup.push(() => sub.close());
    await sub.subscribe(filter);
    return sub;
  }

  async function device(gateway: TestGateway, clientId: string): Promise<MqttSnClient> {
    const client = new MqttSnClient({ gateway: `udp://127.0.0.1:${gateway.port}`, clientId, keepAlive: 0, retryMs: 500, retries: 6 });
    cleanup.push(() => client.close());
    await client.connect();
    return client;
  }

  /** Waits until the gateway's broker link is up (the device's publish then goes straight through). */
  async function connected(gateway: TestGateway, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const upstream = gateway.running.gateway.upstream;
    while (upstream.state !== 'connected') {
      if (Date.now() > deadline) throw new Error(`upstream still ${upstream.state} after ${timeoutMs} ms: ${(upstream.inner as MqttUpstream).lastError ?? 'no error recorded'}`);
      await pause(20);
    }
  }

  /**
   * Watches the gateway's broker link for `ms`: every state it takes (events and samples) and the
   * last error it recorded. The link must be seen failing at least twice (offline), so the watch
   * spans real reconnect attempts, not just the first one.
   */
  async function watchLink(gateway: TestGateway, ms = WATCH_MS): Promise<{ states: UpstreamState[]; offlineCount: number; lastError: string | undefined }> {
    const upstream = gateway.running.gateway.upstream;
    const states: UpstreamState[] = [upstream.state];
    let offlineCount = upstream.state === 'offline' ? 1 : 0;
    const onState = (state: UpstreamState): void => {
      states.push(state);
      if (state === 'offline') offlineCount++;
    };
    upstream.on('state', onState);
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      states.push(upstream.state);
      await pause(25);
    }
    upstream.off('state', onState);
    states.push(upstream.state);
    return { states, offlineCount, lastError: (upstream.inner as MqttUpstream).lastError };
  }

  describe('TLS (mqtts://) with a client certificate required', () => {
    let ca: TestCa;
    let broker: Mosquitto;
    let tlsPort: number;
    beforeAll(async () => {
      ca = await makeTestCa();
      tlsPort = await freeTcpPort();
      broker = await startMosquitto(tlsListenerConfig(tlsPort, ca, true));
    });
    afterAll(async () => {
      await broker?.stop();
      await ca?.remove();
    });

    it('forwards a device QoS 1 publish over mqtts:// with the CA and a client certificate', async () => {
      const watcher = await subscriber(broker.url, 'tls/ok'); // the plain listener
      const gateway = await gatewayTo(`mqtts://localhost:${tlsPort}`, { url: `mqtts://localhost:${tlsPort}`, tls: { ca: ca.caFile, cert: ca.clientCert, key: ca.clientKey } });
      await connected(gateway);
      const client = await device(gateway, 'tls-dev');
      await client.publish('tls/ok', 'over tls', { qos: 1 });
      const packet = await watcher.waitFor((p) => p.topic === 'tls/ok');
      expect(packet.payload.toString()).toBe('over tls');
      expect(packet.qos).toBe(1);
      expect(gateway.running.gateway.stats.forwardStored).toBe(0); // straight through, not via the store
    });

    it.each([
      // TLS 1.3: the broker's "certificate required" alert comes after the client's handshake is done.
      { name: 'no client certificate', tls: (c: TestCa) => ({ ca: c.caFile }), error: /certificate required|ECONNRESET|socket hang up/i },
      // The system CAs do not know the test CA: the gateway itself refuses the broker.
      { name: 'no CA (system trust only)', tls: (c: TestCa) => ({ cert: c.clientCert, key: c.clientKey }), error: /self.signed|unable to (get|verify)|certificate/i },
    ])('with $name the link never connects; a QoS 1 publish is stored (PUBACK 0), not delivered', async ({ tls, error }) => {
      const watcher = await subscriber(broker.url, 'tls/refused');
      const gateway = await gatewayTo(`mqtts://localhost:${tlsPort}`, { url: `mqtts://localhost:${tlsPort}`, tls: tls(ca) });
      const client = await device(gateway, 'tls-bad-dev');
      const watching = watchLink(gateway);
      // Resolves: PUBACK 0 means "stored for the broker" while the link is down (store-and-forward).
      await client.publish('tls/refused', 'must not arrive', { qos: 1 });
      const { states, offlineCount, lastError } = await watching;
      expect(states).not.toContain('connected');
      expect(offlineCount).toBeGreaterThanOrEqual(2);
      expect(lastError).toMatch(error);
      expect(gateway.running.gateway.stats.forwardStored).toBeGreaterThanOrEqual(1);
      expect(gateway.running.gateway.upstream.held).toBe(1);
      expect(watcher.packets).toEqual([]);
    });

    it('servername: by IP, "localhost" connects and "wrong.example" never does (the name checked is the option, not the host)', async () => {
      const watcher = await subscriber(broker.url, 'tls/sni/#');
      const material = { ca: ca.caFile, cert: ca.clientCert, key: ca.clientKey };
      const url = `mqtts://127.0.0.1:${tlsPort}`;
      const good = await gatewayTo(url, { url, tls: { ...material, servername: 'localhost' } });
      const bad = await gatewayTo(url, { url, tls: { ...material, servername: 'wrong.example' } });
      await connected(good);
      const { states, offlineCount, lastError } = await watchLink(bad);
      expect(states).not.toContain('connected');
      expect(offlineCount).toBeGreaterThanOrEqual(2);
      // Node checks the certificate against the servername: the SAN has localhost and 127.0.0.1 only.
      expect(lastError).toMatch(/wrong\.example|altnames|does not match/i);

      const client = await device(good, 'sni-dev');
      await client.publish('tls/sni/good', 'by name', { qos: 1 });
      expect((await watcher.waitFor((p) => p.topic === 'tls/sni/good')).payload.toString()).toBe('by name');
    });
  });

  describe('username and password', () => {
    let dir: string;
    let broker: Mosquitto;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mqttsn-upstream-auth-'));
      broker = await startMosquitto(authConfig(await writePasswordFile(dir, { gw: 'gw-secret', reader: 'reader-secret' })));
    });
    afterAll(async () => {
      await broker?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('with the right credentials the gateway connects and forwards', async () => {
      const watcher = await subscriber(broker.url, 'auth/ok', { username: 'reader', password: 'reader-secret' });
      const gateway = await gatewayTo(broker.url, { url: broker.url, username: 'gw', password: 'gw-secret' });
      await connected(gateway);
      const client = await device(gateway, 'auth-dev');
      await client.publish('auth/ok', 'logged in', { qos: 1 });
      expect((await watcher.waitFor((p) => p.topic === 'auth/ok')).payload.toString()).toBe('logged in');
    });

    it.each([
      { name: 'a wrong password', credentials: { username: 'gw', password: 'wrong' } },
      { name: 'no credentials', credentials: {} },
    ])('with $name the link never connects and a QoS 1 publish is held, not delivered', async ({ credentials }) => {
      const watcher = await subscriber(broker.url, 'auth/refused', { username: 'reader', password: 'reader-secret' });
      const gateway = await gatewayTo(broker.url, { url: broker.url, ...credentials });
      const client = await device(gateway, 'auth-bad-dev');
      const watching = watchLink(gateway);
      await client.publish('auth/refused', 'must not arrive', { qos: 1 });
      const { states, offlineCount, lastError } = await watching;
      expect(states).not.toContain('connected');
      expect(offlineCount).toBeGreaterThanOrEqual(2);
      expect(lastError).toMatch(/Not authorized|Bad username or password/i);
      expect(gateway.running.gateway.stats.forwardStored).toBeGreaterThanOrEqual(1);
      expect(watcher.packets).toEqual([]);
    });
  });

  describe('MQTT 5 user properties and the per-device topic prefix', () => {
    let broker: Mosquitto;
    // log_dest topic: mosquitto publishes its log on $SYS/broker/log/<level>, "(p5, ...)" naming the protocol of each new client.
    beforeAll(async () => (broker = await startMosquitto('log_dest topic\nlog_type notice\nconnection_messages true\n')));
    afterAll(async () => broker?.stop());

    /** The protocol mosquitto logged for the client ID: its enum, 1 = 3.1, 2 = 3.1.1, 5 = MQTT 5 (not the wire's protocol level). */
    async function protocolLevel(log: Subscriber, clientId: string): Promise<number> {
      const line = await log.waitFor((p) => p.payload.toString().includes(` as ${clientId} (`));
      const level = /\(p(\d+),/.exec(line.payload.toString())?.[1];
      if (level === undefined) throw new Error(`no protocol level in "${line.payload.toString()}"`);
      return Number(level);
    }

    it('userProperties: true — an MQTT 5 subscriber gets gateway, radio, address and clientId with the device publish', async () => {
      const log = await subscriber(broker.url, '$SYS/broker/log/#');
      const watcher = await subscriber(broker.url, 'v5/props', { protocolVersion: 5 });
      const gateway = await gatewayTo(broker.url, { url: broker.url, clientId: 'gw-v5-props', protocol: '5', userProperties: true });
      await connected(gateway);
      expect(await protocolLevel(log, 'gw-v5-props')).toBe(5);
      const client = await device(gateway, 'props-dev');
      await client.publish('v5/props', 'with metadata', { qos: 1 });
      const packet = await watcher.waitFor((p) => p.topic === 'v5/props');
      expect(packet.payload.toString()).toBe('with metadata');
      const radio = gateway.running.radios[0];
      expect(radio).toBeDefined();
      expect(packet.properties?.userProperties).toEqual({
        gateway: '1',
        radio: radio!.name,
        address: `127.0.0.1:${client.localPort}`,
        clientId: 'props-dev',
      });
      expect(radio!.name).toBe('udp://127.0.0.1:0'); // the radio's name is its configured URL
    });

    it('userProperties: false over MQTT 5 — the link is MQTT 5 (broker log: p5) and no user properties arrive', async () => {
      const log = await subscriber(broker.url, '$SYS/broker/log/#');
      const watcher = await subscriber(broker.url, 'v5/plain', { protocolVersion: 5 });
      const gateway = await gatewayTo(broker.url, { url: broker.url, clientId: 'gw-v5-plain', protocol: '5', userProperties: false });
      await connected(gateway);
      expect(await protocolLevel(log, 'gw-v5-plain')).toBe(5);
      const client = await device(gateway, 'plain-dev');
      await client.publish('v5/plain', 'no metadata', { qos: 1 });
      const packet = await watcher.waitFor((p) => p.topic === 'v5/plain');
      expect(packet.payload.toString()).toBe('no metadata');
      expect(packet.properties?.userProperties).toBeUndefined();
    });

    it('user properties need MQTT 5: with protocol 3.1.1 the config is refused; a 3.1.1 link logs p2 and carries none', async () => {
      await expect(startTestGateway(broker.url, { broker: { url: broker.url, protocol: '3.1.1', userProperties: true } })).rejects.toThrow(/user properties need MQTT 5/);
      // The control for the p5 checks above: the same log line says p2 for a 3.1.1 link.
      const log = await subscriber(broker.url, '$SYS/broker/log/#');
      const watcher = await subscriber(broker.url, 'v4/plain', { protocolVersion: 5 });
      const gateway = await gatewayTo(broker.url, { url: broker.url, clientId: 'gw-v4-plain', protocol: '3.1.1' });
      await connected(gateway);
      expect(await protocolLevel(log, 'gw-v4-plain')).toBe(2);
      const client = await device(gateway, 'v4-dev');
      await client.publish('v4/plain', '3.1.1', { qos: 1 });
      const packet = await watcher.waitFor((p) => p.topic === 'v4/plain');
      expect(packet.payload.toString()).toBe('3.1.1');
      expect(packet.properties?.userProperties).toBeUndefined();
    });

    it("topicPrefix 'devices/{clientId}/': dev-7 publishing to 'temp' arrives on 'devices/dev-7/temp'", async () => {
      const watcher = await subscriber(broker.url, '#'); // '#' does not match $SYS: only device traffic
      const gateway = await gatewayTo(broker.url, { url: broker.url, topicPrefix: 'devices/{clientId}/' });
      await connected(gateway);
      const client = await device(gateway, 'dev-7');
      await client.publish('temp', '21.5', { qos: 1 });
      const packet = await watcher.waitFor((p) => p.payload.toString() === '21.5');
      expect(packet.topic).toBe('devices/dev-7/temp');
      await pause(200); // a stray copy on the bare topic would show by now
      // The gateway's own state topics are not prefixed: they are the gateway's, not the device's.
      expect(watcher.packets.map((p) => p.topic).filter((topic) => !topic.startsWith('mqttsn-gateway/'))).toEqual(['devices/dev-7/temp']);
    });
  });
});
