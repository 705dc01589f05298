import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerClient } from '../helpers/broker-client.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';

interface Heard {
  readonly bytes: number[];
  readonly from: string;
}

/** A device as Paho-based firmware is: it joins the group on `lo`, searches there, and listens there. */
class GroupDevice {
  readonly heard: Heard[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data, rinfo) => this.heard.push({ bytes: [...data], from: `${rinfo.address}:${rinfo.port}` }));
  }

  static async join(group: string, port: number): Promise<GroupDevice> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => socket.bind(port, '0.0.0.0', resolve));
    socket.addMembership(group, '127.0.0.1');
    socket.setMulticastInterface('127.0.0.1');
    socket.setMulticastLoopback(true);
    return new GroupDevice(socket);
  }

  send(bytes: number[], host: string, port: number): void {
    this.socket.send(Buffer.from(bytes), port, host);
  }

  /** Frames of message type `type` (the octet after a 1-octet length) heard so far. */
  ofType(type: number): Heard[] {
    return this.heard.filter((h) => h.bytes[1] === type);
  }

  async waitFor(type: number, count = 1, timeoutMs = 5000): Promise<Heard[]> {
    for (const deadline = Date.now() + timeoutMs; this.ofType(type).length < count; await new Promise((resolve) => setTimeout(resolve, 20))) {
      if (Date.now() > deadline) throw new Error(`no message of type 0x${type.toString(16)} heard: ${JSON.stringify(this.heard)}`);
    }
    return this.ofType(type);
  }

  close(): void {
    this.socket.close();
  }
}

const SEARCHGW = [0x03, 0x01, 0x01]; // length 3, SEARCHGW, radius 1
const GWINFO_FROM_GATEWAY_7 = [0x03, 0x02, 0x07]; // length 3, GWINFO, GwId 7, no GwAdd (the gateway itself)
const TYPE = { advertise: 0x00, gwinfo: 0x02 } as const;

/**
 * Discovery as devices built on Paho's MQTT-SN client do it: SEARCHGW to a multicast group on a port
 * of its own (Paho's gateway: MulticastIP 225.1.1.1, MulticastPortNo 1883, GatewayPortNo 10000),
 * GWINFO heard on the group, sent from the gateway's unicast address, where the device then connects.
 */
describe('gateway discovery on a multicast group of its own', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(query: (group: string, groupPort: number) => string) {
    const broker = await startEmbeddedBroker(0);
    cleanup.push(() => broker.close());
    const group = `239.255.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    const [port, groupPort] = [await freeUdpPort(), await freeUdpPort()];
    // Devices listen on the group before the gateway starts: its first ADVERTISE goes there.
    const devices = [await GroupDevice.join(group, groupPort), await GroupDevice.join(group, groupPort)];
    cleanup.push(() => devices.forEach((device) => device.close()));
    const gateway = spawnBin('mqttsn-gateway', ['--broker', broker.url, '--radio', `udp://127.0.0.1:${port}?${query(group, groupPort)}`, '--gateway-id', '7', '--data-dir', 'none', '--log-format', 'json']);
    cleanup.push(() => stop(gateway));
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway ready/);
    return { broker, group, port, groupPort, devices, out };
  }

  it('ADVERTISE and GWINFO reach the group from the unicast address; the device connects there and publishes', async () => {
    const { broker, group, port, groupPort, devices } = await start((g, p) => `multicast=${g}:${p}&interface=lo`);
    const [device] = devices;
    const [advertise] = await device!.waitFor(TYPE.advertise);
    expect(advertise).toEqual({ bytes: [0x05, 0x00, 0x07, 0x03, 0x84], from: `127.0.0.1:${port}` }); // GwId 7, T_ADV 900 s

    device!.send(SEARCHGW, group, groupPort);
    const [gwinfo] = await device!.waitFor(TYPE.gwinfo);
    expect(gwinfo).toEqual({ bytes: GWINFO_FROM_GATEWAY_7, from: `127.0.0.1:${port}` });

    // Where GWINFO came from is where the device connects (from its unicast socket: on one host, the
    // group port is shared by several sockets and a unicast answer would reach only one of them).
    const watcher = await BrokerClient.connect(broker.url);
    cleanup.push(() => watcher.close());
    await watcher.subscribe('t1');
    const [host, gatewayPort] = gwinfo!.from.split(':') as [string, string];
    const unicast = dgram.createSocket('udp4');
    cleanup.push(() => void unicast.close());
    const answers: number[][] = [];
    unicast.on('message', (data) => answers.push([...data]));
    unicast.send(Buffer.from([0x0d, 0x04, 0x04, 0x01, 0x00, 0x3c, ...Buffer.from('pahodev')]), Number(gatewayPort), host); // CONNECT clean, keep-alive 60
    await expect.poll(() => answers, { timeout: 5000 }).toEqual([[0x03, 0x05, 0x00]]);
    // PUBLISH QoS 0, short topic "t1", MsgId 0, payload "on".
    unicast.send(Buffer.from([0x09, 0x0c, 0x02, 0x74, 0x31, 0x00, 0x00, 0x6f, 0x6e]), Number(gatewayPort), host);
    const [message] = await watcher.waitFor(1, (m) => m.topic === 't1');
    expect(message!.payload.toString()).toBe('on');
  }, 30_000);

  it('two devices searching at once both hear GWINFO on the group; a SEARCHGW sent by unicast is answered by unicast', async () => {
    const { group, port, groupPort, devices } = await start((g, p) => `multicast=${g}:${p}&interface=lo`);
    const [first, second] = devices as [GroupDevice, GroupDevice];
    first.send(SEARCHGW, group, groupPort);
    second.send(SEARCHGW, group, groupPort);
    for (const device of [first, second]) {
      const answers = await device.waitFor(TYPE.gwinfo);
      expect(answers.every((answer) => answer.from === `127.0.0.1:${port}` && answer.bytes.join() === GWINFO_FROM_GATEWAY_7.join())).toBe(true);
    }

    const lone = dgram.createSocket('udp4');
    cleanup.push(() => void lone.close());
    const reply = new Promise<Heard>((resolve) => lone.once('message', (data, rinfo) => resolve({ bytes: [...data], from: `${rinfo.address}:${rinfo.port}` })));
    await new Promise<void>((resolve) => lone.bind(0, '127.0.0.1', resolve));
    const groupAnswersBefore = first.ofType(TYPE.gwinfo).length;
    lone.send(Buffer.from(SEARCHGW), port, '127.0.0.1');
    expect(await reply).toEqual({ bytes: GWINFO_FROM_GATEWAY_7, from: `127.0.0.1:${port}` });
    await new Promise((resolve) => setTimeout(resolve, 400)); // past gwinfoMaxDelayMs
    expect(first.ofType(TYPE.gwinfo)).toHaveLength(groupAnswersBefore);
  }, 30_000);

  it('a missing interface is named in the log, and devices still reach the gateway by unicast', async () => {
    const { port, out } = await start((g, p) => `multicast=${g}:${p}&interface=nosuch0`);
    await expect.poll(() => out.stderr(), { timeout: 5000 }).toMatch(/interface nosuch0 not found \(this machine has [^)]*lo[^)]*\).*retrying every 10 s/);
    const device = dgram.createSocket('udp4');
    cleanup.push(() => void device.close());
    const connack = new Promise<number[]>((resolve) => device.once('message', (data) => resolve([...data])));
    device.send(Buffer.from([0x0b, 0x04, 0x04, 0x01, 0x00, 0x3c, ...Buffer.from('uni-1')]), port, '127.0.0.1');
    expect(await connack).toEqual([0x03, 0x05, 0x00]);
  }, 30_000);

  it('a CONNECT with an empty client ID gets CONNACK "rejected: not supported", not silence', async () => {
    const { port } = await start((g, p) => `multicast=${g}:${p}&interface=lo`);
    const device = dgram.createSocket('udp4');
    cleanup.push(() => void device.close());
    const answer = new Promise<number[]>((resolve) => device.once('message', (data) => resolve([...data])));
    device.send(Buffer.from([0x06, 0x04, 0x04, 0x01, 0x00, 0x3c]), port, '127.0.0.1'); // CONNECT, no ClientId
    expect(await answer).toEqual([0x03, 0x05, 0x03]);
  }, 30_000);
});
