import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerKinds } from '../helpers/brokers.js';
import { freeTcpPort } from '../helpers/mosquitto.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;
const promtoolRequired = process.env.MQTTSN_REQUIRE_PROMTOOL === '1';

/** The value of one sample line, e.g. `mqttsn_sessions{state="active"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const TOKEN = 's3cret-token';

/**
 * /metrics, /api/status and `mqttsn-gateway status` against the shipped gateway, with a device on
 * real UDP and mosquitto upstream: the numbers a user graphs must be the traffic that happened.
 */
describe.skipIf(brokerKinds[1]!.skip)('monitoring over HTTP (mosquitto)', () => {
  let gateway: ReturnType<typeof spawnBin>;
  let stopBroker: () => Promise<void>;
  let base: string;
  let udpPort: number;
  let device: RawDevice;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    const broker = await brokerKinds[1]!.start();
    stopBroker = () => broker.stop();
    udpPort = await freeUdpPort();
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-http-'));
    await writeFile(join(dir, 'config.yaml'), `http:\n  token: ${TOKEN}\n`);
    gateway = spawnBin('mqttsn-gateway', ['--broker', broker.url, '--radio', `udp://127.0.0.1:${udpPort}`, '--data-dir', 'none', '--config', join(dir, 'config.yaml'), '--http', '127.0.0.1:0', '--log-format', 'json']);
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway monitoring: (http:\/\/\S+)/);
    base = /mqttsn-gateway monitoring: (http:\/\/\S+?)\/?\n/.exec(out.stdout())![1]!;
    device = await RawDevice.open(udpPort);
    await device.connect('meter-1', { keepAlive: 45 });
    device.send({ type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: 'meter/cmd/#' } });
    await device.expect('suback');
    device.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'short', name: 'm0' }, msgId: 0, payload: Buffer.from('a') });
    for (let msgId = 2; msgId <= 4; msgId++) {
      device.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'm1' }, msgId, payload: Buffer.from('b') });
      await device.expect('puback');
    }
    // Two datagrams that are not MQTT-SN.
    const junk = dgram.createSocket('udp4');
    for (const bytes of [Buffer.from([0x05, 0xff, 0x00]), Buffer.from([0x02])]) junk.send(bytes, udpPort, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    junk.close();
  }, 30_000);

  afterAll(async () => {
    device?.close();
    if (gateway) await stop(gateway);
    await stopBroker?.();
  });

  it('refuses /metrics and /api/status without the token; serves the page without it', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).not.toMatch(/meter-1/); // the page carries no data itself
    expect((await fetch(`${base}/nothing`, { headers: auth })).status).toBe(404);
  });

  it('/metrics counts what happened: sessions, publishes by QoS, datagrams, drops by reason, per radio', async () => {
    const response = await fetch(`${base}/metrics`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'mqttsn_sessions{state="active"}')).toBe(1);
    expect(sample(text, 'mqttsn_sessions{state="asleep"}')).toBe(0);
    expect(sample(text, 'mqttsn_publishes_received_total{qos="0"}')).toBe(1);
    expect(sample(text, 'mqttsn_publishes_received_total{qos="1"}')).toBe(3);
    expect(sample(text, 'mqttsn_publishes_received_total{qos="2"}')).toBe(0);
    expect(sample(text, 'mqttsn_datagrams_dropped_total{reason="malformed"}')).toBe(2);
    // CONNECT, SUBSCRIBE, 1 + 3 PUBLISH, 2 junk.
    expect(sample(text, 'mqttsn_datagrams_received_total')).toBe(8);
    expect(sample(text, `mqttsn_radio_frames_received_total{radio="udp://127.0.0.1:${udpPort}"}`)).toBe(8);
    expect(sample(text, 'mqttsn_upstream_connected')).toBe(1);
    expect(sample(text, 'mqttsn_broker_filters')).toBe(1);
    expect(sample(text, 'mqttsn_messages_held{for="devices"}')).toBe(0);
    expect(sample(text, 'mqttsn_process_resident_memory_bytes')).toBeGreaterThan(10 << 20);
    expect(text.split('\n').filter((line) => line && !line.startsWith('#') && !line.startsWith('mqttsn_'))).toEqual([]);
  });

  it.skipIf(!promtool && !promtoolRequired)('/metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('/api/status lists the device with its state, radio, address, keep-alive and subscriptions', async () => {
    const status = (await (await fetch(`${base}/api/status`, { headers: auth })).json()) as { gateway: Record<string, unknown>; devicesTotal: number; devices: Array<Record<string, unknown>> };
    expect(status.gateway).toMatchObject({ gatewayId: 1, broker: expect.stringMatching(/^mqtt:\/\/127\.0\.0\.1:\d+$/), upstream: { state: 'connected' }, sessions: 1 });
    expect(status.devicesTotal).toBe(1);
    expect(status.devices).toEqual([
      {
        clientId: 'meter-1',
        state: 'active',
        radio: `udp://127.0.0.1:${udpPort}`,
        address: `127.0.0.1:${device.port}`,
        lastSeen: expect.stringMatching(/^\d{4}-/),
        keepAlive: 45,
        cleanSession: true,
        subscriptions: [{ filter: 'meter/cmd/#', qos: 1 }],
        held: 0,
        heldBytes: 0,
      },
    ]);
  });

  it('mqttsn-gateway status prints the gateway and a table of its devices', async () => {
    const command = spawnBin('mqttsn-gateway', ['status', '--http', base, '--token', TOKEN]);
    const out = output(command);
    expect(await out.exit).toBe(0);
    const lines = out.stdout().split('\n');
    expect(lines[0]).toMatch(/^gateway 1 {2}version \S+ {2}up \d+s$/);
    expect(lines).toContainEqual(expect.stringMatching(/^broker {2}mqtt:\/\/127\.0\.0\.1:\d+ {2}connected$/));
    expect(lines).toContainEqual(expect.stringMatching(/^devices 1: 1 online, 0 asleep, 0 offline/));
    const header = lines.findIndex((line) => line.startsWith('CLIENT ID'));
    expect(lines[header + 1]).toMatch(new RegExp(`^meter-1 +active +udp://127\\.0\\.0\\.1:${udpPort} +127\\.0\\.0\\.1:${device.port} +\\d+s ago +45s +0 +- +meter/cmd/#:1$`));

    const refused = spawnBin('mqttsn-gateway', ['status', '--http', base]);
    const refusedOut = output(refused);
    expect(await refusedOut.exit).toBe(1);
    expect(refusedOut.stderr()).toMatch(/needs the gateway's http\.token: pass --token/);
  });
});

describe('mqttsn-gateway status without a gateway', () => {
  it('says where it looked and how to point it elsewhere', async () => {
    const port = await freeTcpPort();
    const command = spawnBin('mqttsn-gateway', ['status', '--http', `127.0.0.1:${port}`]);
    const out = output(command);
    expect(await out.exit).toBe(1);
    expect(out.stderr()).toContain(`no gateway answers at http://127.0.0.1:${port} (ECONNREFUSED): is it running with --http`);
  });
});
