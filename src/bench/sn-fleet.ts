import dgram from 'node:dgram';
import { decode, encode } from '../codec/index.js';
import { parseUdpUrl } from '../../radios/udp.js';
import { loadWerift, weriftTransport } from '../../radios/werift.js';
import { benchTopic, pace, type Fleet, type LoadResult, type LoadSpec } from './fleet.js';
import { latencyHistogram, summarise } from './histogram.js';
import { nowMs, writePayload } from './payload.js';

const REQUEST_TIMEOUT_MS = 3000;
const QOS1_RETRY_MS = 3000;
/**
 * How long a device waits after "rejected: congestion" before trying again. The spec's T_WAIT is
 * minutes; a bench cannot wait that long, but retrying within milliseconds feeds the overload
 * it was told about (measured: a retry storm that took 10,000 devices down), so one second.
 */
const CONGESTION_BACKOFF_MS = 1000;

interface InFlight {
  readonly seq: number;
  sentAt: number;
  frame: Buffer;
}

/** One simulated MQTT-SN device with its own UDP socket and client ID. */
class SnDevice {
  readonly socket: dgram.Socket;
  /** Sends one frame: on the connected UDP socket, or as one DTLS record once the handshake is done. */
  send: (frame: Buffer) => void = (frame) => this.socket.send(frame);
  topicId = 0;
  seq = 0;
  nextMsgId = 1;
  readonly inFlight = new Map<number, InFlight>();
  /** Sequence numbers refused with congestion, to be sent again after a back-off. */
  readonly resend: number[] = [];
  backoffUntil = 0;
  private waiter: ((packet: ReturnType<typeof decode>) => void) | undefined;
  onPuback: (msgId: number, returnCode: number) => void = () => undefined;

  constructor(
    readonly index: number,
    readonly clientId: string,
    family: 'udp4' | 'udp6',
  ) {
    this.socket = dgram.createSocket({ type: family, recvBufferSize: 1 << 20 });
    this.socket.on('message', (frame) => this.receive(frame));
    this.socket.on('error', () => undefined);
  }

  receive(frame: Buffer): void {
    // PUBACK is the hot path: read it without a full decode.
    if (frame.length === 7 && frame[1] === 0x0d) {
      this.onPuback(frame.readUInt16BE(4), frame[6]!);
      return;
    }
    this.waiter?.(decode(frame));
  }

  allocateMsgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  /** Sends `frame` and resolves with the first decoded answer accepted by `match`, retrying on timeout. */
  async request<T>(frame: Buffer, match: (result: ReturnType<typeof decode>) => T | undefined): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await new Promise<T | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), REQUEST_TIMEOUT_MS);
        this.waiter = (result) => {
          const matched = match(result);
          if (matched === undefined) return;
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(matched);
        };
        this.send(frame);
      });
      if (answer !== undefined) return answer;
    }
    throw new Error(`${this.clientId}: no answer from the gateway`);
  }
}

/** Simulated MQTT-SN devices over UDP (or DTLS, for a `dtls://` URL), each with its own socket and client ID. */
export class SnFleet implements Fleet {
  private readonly devices: SnDevice[] = [];
  /** How long connecting every device took (DTLS handshakes included), in ms. */
  connectMs = 0;

  constructor(
    private readonly gatewayUrl: string,
    private readonly count: number,
    private readonly runId: string,
    private readonly keepAlive = 0,
  ) {}

  async connect(): Promise<void> {
    const started = nowMs();
    const { family, host, port } = parseUdpUrl(this.gatewayUrl.replace(/^dtls/, 'udp'));
    const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    for (let i = 0; i < this.count; i++) this.devices.push(new SnDevice(i, `bench-${this.runId}-${i}`, family));
    // Bounded concurrency: a few hundred handshakes at once, as a field of devices booting would.
    const batch = 200;
    for (let start = 0; start < this.devices.length; start += batch) {
      await Promise.all(this.devices.slice(start, start + batch).map((device) => this.handshake(device, target, port)));
    }
    this.connectMs = nowMs() - started;
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const seqFrom = this.devices.map((device) => device.seq);
    const rtt = latencyHistogram();
    const rejected: Record<string, number> = {};
    let acked = 0;
    let retries = 0;
    const flags = spec.qos === 1 ? 0x20 : 0x00;
    const send = (device: SnDevice, seq: number): void => {
      const total = 7 + spec.payloadSize;
      const frame = Buffer.allocUnsafe(total);
      frame[0] = total;
      frame[1] = 0x0c;
      frame[2] = flags;
      frame.writeUInt16BE(device.topicId, 3);
      const msgId = spec.qos === 1 ? device.allocateMsgId() : 0;
      frame.writeUInt16BE(msgId, 5);
      frame.fill(0, 7);
      const sentAt = nowMs();
      writePayload(frame, 7, device.index, seq, sentAt);
      if (spec.qos === 1) device.inFlight.set(msgId, { seq, sentAt, frame });
      device.send(frame);
    };
    const sendNew = (device: SnDevice): void => send(device, device.seq++);
    let running = true;
    const pump = (device: SnDevice): void => {
      if (spec.mode !== 'window') return;
      const now = nowMs();
      if (now < device.backoffUntil) return;
      while (device.inFlight.size < spec.window && device.resend.length > 0) send(device, device.resend.shift()!);
      while (running && device.inFlight.size < spec.window) sendNew(device);
    };
    for (const device of this.devices) {
      device.onPuback = (msgId, returnCode) => {
        const entry = device.inFlight.get(msgId);
        if (!entry) return;
        device.inFlight.delete(msgId);
        if (returnCode === 0) {
          acked++;
          rtt.recordValue(Math.max(1, Math.round((nowMs() - entry.sentAt) * 1000)));
        } else {
          rejected[returnCode] = (rejected[returnCode] ?? 0) + 1;
          device.backoffUntil = nowMs() + CONGESTION_BACKOFF_MS;
          if (spec.mode === 'window') {
            device.resend.push(entry.seq);
            setTimeout(() => pump(device), CONGESTION_BACKOFF_MS);
          } else {
            // A paced device sends the refused message again after its back-off, as a real one would.
            setTimeout(() => send(device, entry.seq), CONGESTION_BACKOFF_MS);
          }
          return;
        }
        pump(device);
      };
    }
    // QoS 1 devices retransmit unacknowledged messages with DUP, as real ones do.
    const retryTimer = setInterval(() => {
      const now = nowMs();
      for (const device of this.devices) {
        for (const entry of device.inFlight.values()) {
          if (now - entry.sentAt < QOS1_RETRY_MS) continue;
          entry.frame[2] = entry.frame[2]! | 0x80;
          entry.sentAt = now;
          retries++;
          device.send(entry.frame);
        }
      }
    }, 500);
    let startedAt: number;
    let endedAt: number;
    if (spec.mode === 'paced') {
      ({ startedAt, endedAt } = await pace(this.devices.length, spec.rate, spec.durationMs, (i) => sendNew(this.devices[i]!), nowMs));
    } else {
      startedAt = nowMs();
      for (const device of this.devices) pump(device);
      await new Promise((resolve) => setTimeout(resolve, spec.durationMs));
      running = false;
      endedAt = nowMs();
    }
    // Let outstanding QoS 1 exchanges (and congestion resends) finish.
    const deadline = Date.now() + 10_000;
    while (spec.qos === 1 && Date.now() < deadline && this.devices.some((d) => d.inFlight.size > 0 || d.resend.length > 0)) {
      for (const device of this.devices) if (device.inFlight.size === 0 && device.resend.length > 0) pump(device);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    clearInterval(retryTimer);
    const seqTo = this.devices.map((device) => device.seq);
    const sent = seqTo.reduce((sum, to, i) => sum + to - seqFrom[i]!, 0);
    return { seqFrom, seqTo, sent, acked, rejected, retries, rtt: summarise(rtt), startedAt, endedAt };
  }

  async close(): Promise<void> {
    for (const device of this.devices) {
      try {
        device.send(encode({ type: 'disconnect' }));
      } catch {
        // the socket may be gone already
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const device of this.devices) device.socket.close();
  }

  private async handshake(device: SnDevice, host: string, port: number): Promise<void> {
    await new Promise<void>((resolve) => device.socket.bind(0, () => resolve()));
    await new Promise<void>((resolve) => device.socket.connect(port, host, () => resolve()));
    if (this.gatewayUrl.startsWith('dtls')) await dtlsHandshake(device, host, port);
    const connack = encode({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: this.keepAlive, clientId: device.clientId });
    const rc = await device.request(connack, (r) => (r.ok && r.packet.type === 'connack' ? r.packet.returnCode : undefined));
    if (rc !== 0) throw new Error(`${device.clientId}: CONNACK return code ${rc}`);
    const register = encode({ type: 'register', topicId: 0, msgId: device.allocateMsgId(), topicName: benchTopic(this.runId, device.index) });
    device.topicId = await device.request(register, (r) => (r.ok && r.packet.type === 'regack' && r.packet.returnCode === 0 ? r.packet.topicId : undefined));
  }
}

/** A DTLS 1.2 association for the device (werift-dtls's client): frames then travel as records. */
async function dtlsHandshake(device: SnDevice, host: string, port: number): Promise<void> {
  const { DtlsClient } = await loadWerift();
  const { transport, deliver } = weriftTransport(host, port, (data) => device.socket.send(data));
  device.socket.removeAllListeners('message');
  device.socket.on('message', deliver);
  const client = new DtlsClient({ transport });
  client.onData.subscribe((frame) => device.receive(frame));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${device.clientId}: DTLS handshake timed out`)), 10_000);
    client.onConnect.subscribe(() => {
      clearTimeout(timer);
      resolve();
    });
    void client.connect();
  });
  device.send = (frame) => void client.send(frame);
}
