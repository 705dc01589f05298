import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpRadio } from '../../radios/udp.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { runGateway, type RunningGateway } from '../../src/run.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { BrokerClient } from '../helpers/broker-client.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { RawDevice } from '../helpers/raw-device.js';

describe('UDP over IPv6', () => {
  let broker: EmbeddedBroker;
  let running: RunningGateway;

  beforeAll(async () => {
    broker = await startEmbeddedBroker(0);
    running = await runGateway(parseConfig({ radios: ['udp6://[::1]:0'], broker: broker.url, logLevel: 'silent', dataDir: 'none' }), silentLogger());
  });

  afterAll(async () => {
    await running.stop();
    await broker.close();
  });

  it('serves a device on [::1] end to end', async () => {
    const watcher = await BrokerClient.connect(broker.url);
    await watcher.subscribe('v6/#');
    const port = (running.radios[0] as UdpRadio).port;
    const dev = await RawDevice.open(port, '::1');
    await dev.connect('v6-dev');
    dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'v6' }, msgId: 1, payload: Buffer.from('over ipv6') });
    expect((await dev.expect('puback')).returnCode).toBe(0);
    const [message] = await watcher.waitFor(1);
    expect(message?.payload.toString()).toBe('over ipv6');
    dev.close();
    await watcher.close();
  });
});

describe('start-up errors a user can act on', () => {
  it('an embedded-broker port already taken says how to use that broker instead', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    await expect(startEmbeddedBroker(port)).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is already in use.*--broker mqtt://127.0.0.1:${port}`));
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });

  it('no broker named and an MQTT broker already on the embedded port (a Pi running mosquitto): uses it', async () => {
    const mosquitto = await startMosquitto();
    const running = await runGateway(parseConfig({ radios: ['udp://127.0.0.1:0'], embeddedPort: mosquitto.port, logLevel: 'silent', dataDir: 'none' }), silentLogger());
    try {
      expect(running.brokerUrl).toBe(`mqtt://127.0.0.1:${mosquitto.port}`);
      expect(running.embeddedBroker).toBeUndefined();
      // The device's message reaches mosquitto itself.
      const direct = await BrokerClient.connect(mosquitto.url);
      await direct.subscribe('ze');
      const dev = await RawDevice.open((running.radios[0] as UdpRadio).port);
      await dev.connect('zero-dev');
      dev.send({ type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'short', name: 'ze' }, msgId: 2, payload: Buffer.from('again') });
      expect((await dev.expect('puback')).returnCode).toBe(0);
      expect((await direct.waitFor(1))[0]?.payload.toString()).toBe('again');
      dev.close();
      await direct.close();
    } finally {
      await running.stop();
      await mosquitto.stop();
    }
  });

  it('an MQTT broker on the embedded port that refuses the gateway: says how to give it credentials', async () => {
    const mosquitto = await startMosquitto('allow_anonymous false\n');
    try {
      await expect(runGateway(parseConfig({ radios: ['udp://127.0.0.1:0'], embeddedPort: mosquitto.port, logLevel: 'silent', dataDir: 'none' }), silentLogger())).rejects.toThrow(
        new RegExp(`an MQTT broker already listens on 127.0.0.1:${mosquitto.port} but refused the gateway \\(.*\\)\\. Name it with --broker mqtt://127.0.0.1:${mosquitto.port} and give broker.username`),
      );
    } finally {
      await mosquitto.stop();
    }
  });

  it('something that does not speak MQTT on the embedded port: exits saying what to do', async () => {
    // Answers like an SSH server would, then hangs up.
    const squatter = net.createServer((socket) => socket.resume().end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    await expect(runGateway(parseConfig({ radios: ['udp://127.0.0.1:0'], embeddedPort: port, logLevel: 'silent', dataDir: 'none' }), silentLogger())).rejects.toThrow(
      new RegExp(`port ${port} on 127.0.0.1 is already in use.*--broker mqtt://127.0.0.1:${port}.*--embedded-port`),
    );
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });

  it('a UDP port already taken names the radio and the fix', async () => {
    const first = new UdpRadio({ url: 'udp://127.0.0.1:0' });
    await first.start();
    const second = new UdpRadio({ url: `udp://127.0.0.1:${first.port}` });
    await expect(second.start()).rejects.toThrow(/already in use.*--radio udp:\/\//);
    await first.close();
  });

  it('an unknown radio scheme is refused with the supported ones', async () => {
    await expect(runGateway(parseConfig({ radios: ['carrier-pigeon://coop'], logLevel: 'silent' }), silentLogger())).rejects.toThrow(/unknown radio type "carrier-pigeon".*udp:\/\//);
  });
});
