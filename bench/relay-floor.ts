/**
 * What any relay in a process of its own costs a single flow on this machine (issue 17, target 1):
 * 10 messages in flight, each echoed, straight over TCP ("direct") against the same through a
 * do-nothing relay (UDP in, TCP on, TCP back, UDP out: no MQTT-SN, no MQTT, one write per
 * event-loop turn). `node --import tsx bench/relay-floor.ts` prints round trips and their ratio.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

const MESSAGES = 20_000;
const WINDOW = 10;
const SIZE = 8;
const self = new URL(import.meta.url).pathname;

function echoServer(): void {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => socket.write(data));
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as net.AddressInfo).port));
}

function relay(echoPort: number): void {
  const udp = dgram.createSocket('udp4');
  let peer: dgram.RemoteInfo | undefined;
  let corked = false;
  const tcp = net.connect(echoPort, '127.0.0.1', () => {
    tcp.setNoDelay(true);
    udp.bind(0, '127.0.0.1', () => process.send?.(udp.address().port));
  });
  udp.on('message', (message, from) => {
    peer = from;
    if (!corked) {
      corked = true;
      tcp.cork();
      setImmediate(() => {
        corked = false;
        tcp.uncork();
      });
    }
    tcp.write(message);
  });
  tcp.on('data', (data: Buffer) => {
    for (let at = 0; at < data.length; at += SIZE) udp.send(data.subarray(at, at + SIZE), peer!.port, peer!.address);
  });
}

/** Microseconds per round trip with WINDOW in flight. */
async function roundTrip(send: () => void, onReply: (reply: () => void) => void): Promise<number> {
  let answered = 0;
  let sent = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    onReply(() => {
      if (++answered === MESSAGES) resolve();
      else if (sent < MESSAGES) {
        sent++;
        send();
      }
    });
    for (; sent < WINDOW; sent++) send();
  });
  return ((performance.now() - started) / MESSAGES) * WINDOW * 1000;
}

async function main(): Promise<void> {
  const spawn = async (...args: string[]): Promise<[ReturnType<typeof fork>, number]> => {
    const child = fork(self, args, { execArgv: process.execArgv });
    return [child, await new Promise<number>((resolve) => child.once('message', (port) => resolve(port as number)))];
  };
  const [echo, echoPort] = await spawn('echo');
  const message = Buffer.alloc(SIZE);
  const tcp = net.connect(echoPort, '127.0.0.1');
  await new Promise((resolve) => tcp.once('connect', resolve));
  tcp.setNoDelay(true);
  let tcpReply = (): void => undefined;
  tcp.on('data', (data: Buffer) => {
    for (let at = 0; at < data.length; at += SIZE) tcpReply();
  });
  const direct = await roundTrip(() => tcp.write(message), (reply) => (tcpReply = reply));
  const [relayProcess, relayPort] = await spawn('relay', String(echoPort));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.connect(relayPort, '127.0.0.1', resolve));
  let udpReply = (): void => undefined;
  udp.on('message', () => udpReply());
  const relayed = await roundTrip(() => udp.send(message), (reply) => (udpReply = reply));
  console.log(JSON.stringify({ directRoundTripUs: Math.round(direct), relayedRoundTripUs: Math.round(relayed), throughputRatio: Number((direct / relayed).toFixed(2)) }));
  echo.kill();
  relayProcess.kill();
  tcp.destroy();
  udp.close();
}

const role = process.argv[2];
if (role === 'echo') echoServer();
else if (role === 'relay') relay(Number(process.argv[3]));
else await main();
