import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { mosquittoSkipReason, startMosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';

const skip = mosquittoSkipReason();

/** OpenSSL's own DTLS 1.2 client: what it receives as application data, byte for byte. */
class OpensslClient {
  readonly received: number[] = [];
  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => this.received.push(...chunk));
  }

  static start(port: number, caFile: string): OpensslClient {
    const child = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256', '-CAfile', caFile, '-verify_return_error', '-quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    process.once('exit', () => child.kill('SIGKILL'));
    return new OpensslClient(child);
  }

  /** One MQTT-SN frame as one record: written alone, then a pause so s_client sends it by itself. */
  async send(frame: number[]): Promise<void> {
    this.child.stdin!.write(Buffer.from(frame));
    await new Promise((resolve) => setTimeout(resolve, 150));
  }

  /** The next `count` octets received. */
  async take(count: number, timeoutMs = 8000): Promise<number[]> {
    for (const deadline = Date.now() + timeoutMs; this.received.length < count && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 25));
    return this.received.splice(0, count);
  }

  async expect(bytes: number[], timeoutMs = 8000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; this.received.length < bytes.length; await new Promise((resolve) => setTimeout(resolve, 25))) {
      if (Date.now() > deadline) break;
    }
    expect(this.received.splice(0, bytes.length)).toEqual(bytes);
  }
}

/**
 * MQTT-SN over DTLS 1.2 with the gateway's certificate (ECDHE-ECDSA-AES128-GCM-SHA256), driven by
 * OpenSSL's client, which verifies the gateway's certificate against the CA file it is given.
 */
describe.skipIf(skip)('a dtls:// radio (OpenSSL s_client, mosquitto)', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function gatewayWithDtls(extraConfig = '') {
    const mosquitto = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-dtls-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    expect(spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]).status).toBe(0);
    expect(spawnSync('openssl', ['req', '-new', '-x509', '-key', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']).status).toBe(0);
    await writeFile(join(dir, 'config.yaml'), `dtls:\n  cert: ${cert}\n  key: ${key}\n${extraConfig}`);
    const port = await freeUdpPort();
    const gateway = spawnBin('mqttsn-gateway', ['--config', join(dir, 'config.yaml'), '--broker', mosquitto.url, '--radio', `dtls://127.0.0.1:${port}`, '--data-dir', 'none', '--log-format', 'json', '--http', '127.0.0.1:0']);
    cleanup.push(() => stop(gateway));
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway monitoring: http/);
    const monitoring = /mqttsn-gateway monitoring: (http:\/\/\S+?)\/?\n/.exec(out.stdout())![1]!;
    const radioCounters = async (): Promise<Record<string, number>> =>
      ((await (await fetch(`${monitoring}/api/status`)).json()) as { gateway: { radios: Record<string, Record<string, number>> } }).gateway.radios[`dtls://127.0.0.1:${port}`]!;
    return { mosquitto, port, cert, radioCounters };
  }

  it('handshakes, answers CONNECT with CONNACK and a QoS 1 PUBLISH with PUBACK, and the message reaches mosquitto', async () => {
    const { mosquitto, port, cert, radioCounters } = await gatewayWithDtls();
    const watcher = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => watcher.close());
    await watcher.subscribe('dt');
    const client = OpensslClient.start(port, cert);
    cleanup.push(() => void client.child.kill());
    await client.send([0x0b, 0x04, 0x04, 0x01, 0x00, 0x3c, ...Buffer.from('dtls1')]); // CONNECT "dtls1", clean, keep-alive 60
    await client.expect([0x03, 0x05, 0x00]); // CONNACK accepted
    await client.send([0x0b, 0x0c, 0x22, 0x64, 0x74, 0x00, 0x01, ...Buffer.from('safe')]); // PUBLISH QoS 1, short topic "dt", MsgId 1
    await client.expect([0x07, 0x0d, 0x64, 0x74, 0x00, 0x01, 0x00]); // PUBACK "dt", MsgId 1, accepted
    const [message] = await watcher.waitFor(1, (m) => m.topic === 'dt');
    expect(message!.payload.toString()).toBe('safe');
    // Through the stateless cookie exchange: one HelloVerifyRequest, then one association.
    expect(await radioCounters()).toMatchObject({ cookiesSent: 1, handshakes: 1, associations: 1 });
  }, 30_000);

  it('a sleeping device whose association expired handshakes again, wakes and gets what was held for it', async () => {
    const { mosquitto, port, cert, radioCounters } = await gatewayWithDtls('  idleSeconds: 1\n');
    const first = OpensslClient.start(port, cert);
    cleanup.push(() => void first.child.kill());
    await first.send([0x0d, 0x04, 0x04, 0x01, 0x00, 0x3c, ...Buffer.from('sleeper')]); // CONNECT "sleeper"
    await first.expect([0x03, 0x05, 0x00]);
    await first.send([0x07, 0x12, 0x22, 0x00, 0x01, 0x63, 0x6d]); // SUBSCRIBE QoS 1, short topic "cm", MsgId 1
    const suback = await first.take(8);
    expect([suback[0], suback[1], suback[7]]).toEqual([0x08, 0x13, 0x00]); // SUBACK, accepted
    await first.send([0x04, 0x18, 0x00, 0x3c]); // DISCONNECT, sleep 60 s
    await first.expect([0x02, 0x18]);
    first.child.kill();

    const broker = await BrokerClient.connect(mosquitto.url);
    cleanup.push(() => broker.close());
    await broker.publish('cm', 'open', 1);
    await expect.poll(async () => (await radioCounters()).expired, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect((await radioCounters()).associations).toBe(0);

    // Another association (a new handshake, a new port), the same client ID: PINGREQ wakes it.
    const second = OpensslClient.start(port, cert);
    cleanup.push(() => void second.child.kill());
    await second.send([0x09, 0x16, ...Buffer.from('sleeper')]); // PINGREQ "sleeper"
    const publish = await second.take(11);
    expect(publish.slice(0, 5)).toEqual([0x0b, 0x0c, 0x22, 0x63, 0x6d]); // PUBLISH QoS 1, short topic "cm"
    expect(Buffer.from(publish.slice(7)).toString()).toBe('open');
    await second.send([0x07, 0x0d, 0x63, 0x6d, publish[5]!, publish[6]!, 0x00]); // PUBACK
    await second.expect([0x02, 0x17]); // PINGRESP: back to sleep
    expect((await radioCounters()).handshakes).toBe(2);
  }, 30_000);

  it('ClientHellos from 200 addresses that never return their cookie get a smaller HelloVerifyRequest each and leave no state', async () => {
    const { port, cert, radioCounters } = await gatewayWithDtls();
    // A real ClientHello, as OpenSSL sends it first, caught on a socket of our own.
    const catcher = dgram.createSocket('udp4');
    cleanup.push(() => void catcher.close());
    await new Promise<void>((resolve) => catcher.bind(0, '127.0.0.1', resolve));
    const caught = new Promise<Buffer>((resolve) => catcher.once('message', (data) => resolve(data)));
    const client = OpensslClient.start(catcher.address().port, cert);
    const clientHello = await caught;
    client.child.kill();
    expect(clientHello[0]).toBe(22); // handshake record

    const answers: Buffer[] = [];
    const spoofers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const socket = dgram.createSocket('udp4');
        socket.on('message', (data) => answers.push(data));
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
        return socket;
      }),
    );
    cleanup.push(() => spoofers.forEach((socket) => socket.close()));
    for (const socket of spoofers) socket.send(clientHello, port, '127.0.0.1');
    await expect.poll(() => answers.length, { timeout: 5000 }).toBe(200);
    // HelloVerifyRequest (handshake type 3), smaller than what asked for it: no amplification.
    expect(answers.every((answer) => answer[0] === 22 && answer[13] === 3 && answer.length < clientHello.length)).toBe(true);
    expect(await radioCounters()).toMatchObject({ associations: 0, cookiesSent: 200, handshakes: 0 });
  }, 30_000);

  it('plain MQTT-SN sent to the DTLS port gets no MQTT-SN answer', async () => {
    const { port } = await gatewayWithDtls();
    const socket = dgram.createSocket('udp4');
    cleanup.push(() => void socket.close());
    const heard: Buffer[] = [];
    socket.on('message', (data) => heard.push(data));
    socket.send(Buffer.from([0x0b, 0x04, 0x04, 0x01, 0x00, 0x3c, ...Buffer.from('plain')]), port, '127.0.0.1');
    socket.send(Buffer.from([0x03, 0x01, 0x01]), port, '127.0.0.1'); // SEARCHGW
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(heard).toEqual([]);
  }, 30_000);
});

describe('a dtls:// radio without a certificate', () => {
  it('stops the start with a message naming dtls.cert and dtls.key', async () => {
    const port = await freeUdpPort();
    const gateway = spawnBin('mqttsn-gateway', ['--radio', `dtls://127.0.0.1:${port}`, '--broker', 'mqtt://127.0.0.1:1', '--data-dir', 'none']);
    const out = output(gateway);
    expect(await out.exit).toBe(1);
    expect(out.stderr()).toContain('a DTLS radio needs the gateway\'s certificate: set dtls.cert and dtls.key');
  }, 15_000);
});
