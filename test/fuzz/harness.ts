/**
 * One fuzz campaign against the real thing: a real mosquitto, the shipped gateway bundle in its
 * own process, hundreds of UDP sockets playing hostile devices at a fixed rate, and a control
 * device that must keep working throughout. Returns the figures (report.ts); judging them is the caller's.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { freeUdpPort } from '../helpers/processes.js';
import { BrokerLog, brokerLogConfig } from './broker-log.js';
import { BrokerProxy } from './broker-proxy.js';
import { ControlDevice } from './control.js';
import { GatewayProcess } from './gateway-process.js';
import { FuzzGenerator, PREDEFINED_IDS } from './generator.js';
import { SentRing, type Incident } from './incidents.js';
import type { CampaignReport } from './report.js';
import { RssSampler } from './rss.js';
import { FuzzSender } from './sender.js';

export interface CampaignOptions {
  readonly datagrams: number;
  /** Datagrams per second, all devices together. */
  readonly rate: number;
  readonly seed: number;
  /** Fake devices, one UDP socket (source port) each. */
  readonly devices: number;
  /** Kinds of hostile text to leave out (hostile.ts TEXT_KINDS), e.g. while a known bug is fixed. */
  readonly exclude?: readonly string[];
  readonly controlIntervalMs: number;
  /** After the last datagram: how long PUBACKed control messages may take to reach the broker. */
  readonly settleMs: number;
  /** Then: quiet time before the last memory sample (timers, buffers and GC get their chance). */
  readonly idleMs: number;
  /** The shipped buffer bounds instead of FUZZ_BUFFER_BOUNDS (they take far longer than a campaign to fill). */
  readonly defaultBounds?: boolean;
  readonly progress?: (line: string) => void;
}

/**
 * The gateway's buffer bounds during a campaign, a tenth of the shipped defaults: held messages
 * legitimately grow until their bounds, and with the defaults (1,000,000 messages) a 1M-datagram
 * campaign ends while they are still filling, so growth from filling could not be told from a
 * leak. With these the bounds are full by half-way, where memory is measured from.
 */
export const FUZZ_BUFFER_BOUNDS = { totalMessages: 100_000, totalBytes: 32 * 1024 * 1024, memoryMessages: 10_000, memoryBytes: 8 * 1024 * 1024 } as const;

const GATEWAY_CLIENT_ID = 'fuzz-gateway';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Awaits `work` for at most `ms`; a step that hangs is reported and the campaign goes on. */
async function bounded<T>(label: string, work: Promise<T> | undefined, ms: number, say: (line: string) => void): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      say(`${label}: still not done after ${ms} ms, going on`);
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([work?.catch((error: unknown) => void say(`${label} failed: ${String(error)}`)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const say = options.progress ?? (() => undefined);
  const logDir = await mkdtemp(join(tmpdir(), 'mqttsn-fuzz-broker-'));
  // mosquitto started as root drops to its own user, which must be able to write the log.
  await chmod(logDir, 0o777);
  const ring = new SentRing();
  const drops: Incident[] = [];
  const brokerLog = new BrokerLog(join(logDir, 'mosquitto.log'), GATEWAY_CLIENT_ID, (line) => {
    drops.push(ring.incident(line));
    say(`broker link drop: ${line}`);
  });
  let broker: Mosquitto | undefined;
  let proxy: BrokerProxy | undefined;
  let gateway: GatewayProcess | undefined;
  let sender: FuzzSender | undefined;
  let control: ControlDevice | undefined;
  let rss: RssSampler | undefined;
  let privateRss: RssSampler | undefined;
  try {
    broker = await startMosquitto(brokerLogConfig(join(logDir, 'mosquitto.log')));
    await brokerLog.start();
    // The gateway reaches mosquitto through a relay that keeps its last MQTT packets as evidence.
    const relay = (proxy = await BrokerProxy.start(broker.port));
    const udpPort = await freeUdpPort();
    const predefined = Object.fromEntries(PREDEFINED_IDS.map((id) => [id, `fuzz/pre/${id}`]));
    const gw = (gateway = await GatewayProcess.start({ brokerUrl: relay.url, clientId: GATEWAY_CLIENT_ID, udpPort, predefined, ...(options.defaultBounds ? {} : { buffer: FUZZ_BUFFER_BOUNDS }) }));
    let crashIncident: Incident | undefined;
    void gw.exit.then((exit) => {
      if (!gw.crashed) return;
      crashIncident = ring.incident(`gateway exited: code ${exit.code} signal ${exit.signal}`);
      say(crashIncident.line);
    });
    say(`gateway pid ${gw.pid} (${gw.bundle}) on udp://127.0.0.1:${udpPort}, mosquitto ${broker.url}`);
    const fuzz = (sender = await FuzzSender.open(options.devices, udpPort));
    const ctl = (control = await ControlDevice.start(udpPort, broker.url, `fuzz/control/${options.seed}`, options.controlIntervalMs));
    relay.watchTopic(ctl.topic);
    const memory = (rss = new RssSampler(() => gw.rssKb()));
    memory.start(() => fuzz.sent / options.datagrams);
    const privateMemory = (privateRss = new RssSampler(() => gw.privateKb()));
    privateMemory.start(() => fuzz.sent / options.datagrams);

    let lastSay = Date.now();
    const cpuAt = (): { at: number; cpu: number | undefined } => ({ at: Date.now(), cpu: gw.cpuSeconds() });
    const share = (from: { at: number; cpu: number | undefined }, to: { at: number; cpu: number | undefined }): number | undefined =>
      from.cpu === undefined || to.cpu === undefined ? undefined : Math.round(((to.cpu - from.cpu) * 100_000) / Math.max(1, to.at - from.at));
    const cpuStart = cpuAt();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const sendMs = await fuzz.run(options.datagrams, options.rate, new FuzzGenerator(options.seed, options.exclude), ring, () => gw.exited !== undefined, () => {
      if (Date.now() - lastSay < 5000) return;
      lastSay = Date.now();
      say(`${fuzz.sent} datagrams sent, gateway RSS ${gw.rssKb() ?? '?'} KiB, ${drops.length} link drop(s), control ${ctl.result().acked} acked`);
    });
    loopDelay.disable();
    const cpuSent = cpuAt();
    say(`sending done: ${fuzz.sent} in ${sendMs} ms; settling`);
    await bounded('control device, last publishes', ctl.stop(), 15_000, say);
    memory.mark('end');
    privateMemory.mark('end');
    await ctl.settle(options.settleMs);
    await sleep(options.idleMs);
    memory.mark('idle');
    privateMemory.mark('idle');
    const cpuIdle = cpuAt();
    await bounded('mosquitto log', brokerLog.freeze(), 5000, say);
    const asked = Date.now();
    const status = await gw.status();
    const statusMs = status ? Date.now() - asked : undefined;
    memory.stop();
    privateMemory.stop();
    const crash = gw.crashed && gw.exited ? { ...gw.exited, tail: gw.log.raw.slice(-20), incident: crashIncident } : undefined;
    // A dead process's socket closing is the crash seen from the broker, not a second failure.
    const exitedAt = gw.crashed ? (gw.exitedAt ?? 0) : Infinity;
    const fromCrash = (drop: Incident): boolean => drop.at >= exitedAt - 1000 && /closed its connection|Socket error/.test(drop.line);
    const withPackets = (drop: Incident): Incident => {
      const close = relay.closes.filter((c) => Math.abs(c.at - drop.at) < 3000).sort((a, b) => Math.abs(a.at - drop.at) - Math.abs(b.at - drop.at))[0];
      return close ? { ...drop, mqtt: { closedBy: close.by, offences: close.offences, last: close.last } } : drop;
    };
    const top = [...gw.log.byMsg].map(([msg, t]) => ({ msg, ...t })).sort((a, b) => b.bytes - a.bytes).slice(0, 30);
    const { progress: _, ...plain } = options;
    return {
      options: plain,
      sent: fuzz.sent, sentBytes: fuzz.sentBytes, sendMs, sendErrors: fuzz.sendErrors, replies: fuzz.replies,
      harnessLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      byKind: fuzz.byKind, mutated: fuzz.mutated,
      crash,
      linkDrops: drops.filter((drop) => !fromCrash(drop)).map(withPackets),
      dropsFromCrash: drops.filter(fromCrash).length,
      brokerConnects: brokerLog.connects,
      brokerQueueOverflows: brokerLog.queueOverflows,
      refusablePackets: relay.offenceCount,
      brokerComplaints: brokerLog.complaints,
      control: ctl.result((payload) => relay.forwarded(payload)),
      rss: memory.figures(),
      privateRss: privateMemory.figures(),
      log: { bytes: gw.log.bytes, lines: gw.log.lines, errorLines: gw.log.errorLines, top },
      status,
      statusMs,
      cpu: { sending: share(cpuStart, cpuSent), after: share(cpuSent, cpuIdle) },
    };
  } finally {
    rss?.stop();
    privateRss?.stop();
    await bounded('closing the control device', control?.close(), 5000, say);
    sender?.close();
    await bounded('stopping the gateway', gateway?.stop(), 15_000, say);
    await bounded('closing the mosquitto log', brokerLog.stop(), 5000, say);
    await bounded('closing the relay', proxy?.close(), 5000, say);
    await bounded('stopping mosquitto', broker?.stop(), 10_000, say);
    await rm(logDir, { recursive: true, force: true });
    say('stopped');
  }
}
