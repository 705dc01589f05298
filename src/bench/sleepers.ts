import dgram from 'node:dgram';
import { decode, encode, type Packet } from '../codec/index.js';
import { parseUdpUrl } from '../../radios/udp.js';

/** Topic a sleeping bench device subscribes to; the orchestrator publishes its buffered messages there. */
export function sleeperTopic(runId: string, device: number): string {
  return `sleep/${runId}/${device}`;
}

export function sleeperClientId(runId: string, device: number): string {
  return `sleeper-${runId}-${device}`;
}

/**
 * Many sleeping devices behind a few sockets: each socket connects a device, subscribes to its
 * topic, puts it to sleep (DISCONNECT with a duration), and moves on to the next client ID.
 * The gateway keeps every session by client ID, so 100,000 sessions need only a few hundred sockets.
 */
export class SleeperFleet {
  private readonly sockets: dgram.Socket[] = [];
  private target = { host: '127.0.0.1', port: 0 };
  private readonly handlers = new Map<dgram.Socket, (packet: Packet) => void>();

  constructor(
    private readonly gatewayUrl: string,
    private readonly devices: number,
    private readonly runId: string,
    private readonly socketCount = 200,
    private readonly sleepSeconds = 3600,
  ) {}

  async connect(): Promise<void> {
    const { family, host, port } = parseUdpUrl(this.gatewayUrl);
    this.target = { host: host === '0.0.0.0' ? '127.0.0.1' : host, port };
    for (let i = 0; i < Math.min(this.socketCount, this.devices); i++) {
      const socket = dgram.createSocket(family);
      socket.on('message', (frame) => {
        const result = decode(frame);
        if (result.ok) this.handlers.get(socket)?.(result.packet);
      });
      await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
      this.sockets.push(socket);
    }
    let next = 0;
    await Promise.all(
      this.sockets.map(async (socket) => {
        for (let device = next++; device < this.devices; device = next++) await this.putToSleep(socket, device);
      }),
    );
  }

  /** Wakes the given devices one by one; returns how many messages each received before PINGRESP. */
  async wake(devices: readonly number[]): Promise<number[]> {
    const socket = this.sockets[0]!;
    const received: number[] = [];
    for (const device of devices) {
      let messages = 0;
      await this.exchange(socket, { type: 'pingreq', clientId: sleeperClientId(this.runId, device) }, (packet, reply) => {
        if (packet.type === 'publish') {
          messages++;
          if (packet.qos === 1) reply({ type: 'puback', topicId: packet.topic.kind === 'short' ? 0 : packet.topic.id, msgId: packet.msgId, returnCode: 0 });
          return false;
        }
        if (packet.type === 'register') {
          reply({ type: 'regack', topicId: packet.topicId, msgId: packet.msgId, returnCode: 0 });
          return false;
        }
        return packet.type === 'pingresp';
      });
      received.push(messages);
    }
    return received;
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }

  private async putToSleep(socket: dgram.Socket, device: number): Promise<void> {
    const clientId = sleeperClientId(this.runId, device);
    await this.exchange(socket, { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 0, clientId }, (p) => p.type === 'connack');
    await this.exchange(socket, { type: 'subscribe', dup: false, qos: 1, msgId: 1, topic: { kind: 'name', name: sleeperTopic(this.runId, device) } }, (p) => p.type === 'suback');
    await this.exchange(socket, { type: 'disconnect', duration: this.sleepSeconds }, (p) => p.type === 'disconnect');
  }

  /** Sends `packet`, feeds answers to `done` until it returns true; resends after 3 s of silence. */
  private async exchange(socket: dgram.Socket, packet: Packet, done: (answer: Packet, reply: (p: Packet) => void) => boolean): Promise<void> {
    const frame = encode(packet);
    const reply = (answer: Packet): void => socket.send(encode(answer), this.target.port, this.target.host);
    for (let attempt = 0; attempt < 5; attempt++) {
      const finished = await new Promise<boolean>((resolve) => {
        let timer = setTimeout(() => resolve(false), 3000);
        this.handlers.set(socket, (answer) => {
          clearTimeout(timer);
          timer = setTimeout(() => resolve(false), 3000);
          if (done(answer, reply)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        socket.send(frame, this.target.port, this.target.host);
      });
      if (finished) return;
    }
    throw new Error(`no answer to ${packet.type} from the gateway`);
  }
}
