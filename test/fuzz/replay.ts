/**
 * Confirms a culprit from a fuzz report: a fresh mosquitto and gateway bundle, one device that
 * CONNECTs (unless --no-connect) and sends the given datagrams (hex) 100 ms apart, then what
 * mosquitto said about the gateway's link, whether the gateway died, and its error lines.
 *   node --import tsx test/fuzz/replay.ts [--no-connect] [--keep-alive S] [--wait-ms MS] HEX...
 * Exit code 1 when the link dropped or the gateway exited.
 */
import dgram from 'node:dgram';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from '../../src/codec/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort } from '../helpers/processes.js';
import { BrokerLog, brokerLogConfig } from './broker-log.js';
import { GatewayProcess } from './gateway-process.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'no-connect': { type: 'boolean', default: false }, 'keep-alive': { type: 'string', default: '60' }, 'wait-ms': { type: 'string', default: '3000' } },
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const frames = positionals.map((hex) => Buffer.from(hex.replace(/[^0-9a-f]/gi, ''), 'hex'));
  const logDir = await mkdtemp(join(tmpdir(), 'mqttsn-replay-'));
  await chmod(logDir, 0o777); // mosquitto drops root for its own user
  const broker = await startMosquitto(brokerLogConfig(join(logDir, 'mosquitto.log')));
  const brokerLog = new BrokerLog(join(logDir, 'mosquitto.log'), 'fuzz-gateway', (line) => console.log(`link drop: ${line}`));
  await brokerLog.start();
  const port = await freeUdpPort();
  const gateway = await GatewayProcess.start({ brokerUrl: broker.url, clientId: 'fuzz-gateway', udpPort: port, predefined: { 1: 'fuzz/pre/1' } });
  const socket = dgram.createSocket('udp4');
  socket.on('message', (reply) => console.log(`reply: ${reply.toString('hex')}`));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const send = async (frame: Buffer): Promise<void> => {
    socket.send(frame, port, '127.0.0.1');
    await sleep(100);
  };
  if (!values['no-connect']) await send(encode({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: Number(values['keep-alive']), clientId: 'replay' }));
  for (const frame of frames) await send(frame);
  await sleep(Number(values['wait-ms']));
  await brokerLog.freeze();
  socket.close();
  const crashed = gateway.exited !== undefined;
  if (crashed) console.log(`gateway exited: ${JSON.stringify(gateway.exited)}\n${gateway.log.raw.filter((l) => !l.endsWith('...')).join('\n')}`);
  for (const [msg, t] of gateway.log.byMsg) if (t.level >= 40) console.log(`gateway ${t.level >= 50 ? 'error' : 'warn'} x${t.lines}: ${msg}: ${t.sample}`);
  for (const line of brokerLog.complaints) console.log(`mosquitto: ${line}`);
  await gateway.stop();
  await brokerLog.stop();
  await broker.stop();
  await rm(logDir, { recursive: true, force: true });
  const dropped = brokerLog.drops.length > 0;
  console.log(dropped || crashed ? 'REPRODUCED' : 'nothing happened');
  return dropped || crashed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
