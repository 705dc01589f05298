/**
 * The bar of issue 13 item 8 and a plain-text report of a campaign against it: 0 crashes, 0
 * broker-link drops, every PUBACKed control message at the broker, flat memory. Two choices are
 * ours and printed with the verdict: "flat" means private resident memory (RssAnon) right after the
 * last datagram is at most MEMORY_FACTOR times what it was after warm-up (RSS, which also counts
 * file pages mapped from disk, is reported beside it), and a control publish that fails counts against the bar
 * (a gateway that stalls good devices would otherwise pass by PUBACKing nothing).
 */
import type { ControlResult } from './control.js';
import type { Exit } from './gateway-process.js';
import type { CampaignOptions } from './harness.js';
import type { Incident } from './incidents.js';
import { WARMUP_SHARE, type RssFigures } from './rss.js';

/** A leak of about 60 bytes per datagram would cross it in the second half of a 1M campaign. */
export const MEMORY_FACTOR = 1.2;

/** Everything one campaign measured. */
export interface CampaignReport {
  readonly options: Omit<CampaignOptions, 'progress'>;
  readonly sent: number;
  readonly sentBytes: number;
  readonly sendMs: number;
  readonly sendErrors: number;
  readonly replies: number;
  /** The harness's own event-loop delay while sending: high values mean the harness, not the gateway, was slow. */
  readonly harnessLoopDelayMs: { readonly p99: number; readonly max: number };
  /** Datagrams by their first word (CONNECT, PUBLISH, garbage...), and how many were damaged. */
  readonly byKind: Readonly<Record<string, number>>;
  readonly mutated: number;
  /** The gateway exited by itself: how, its last non-JSON stderr lines, what was sent before. */
  readonly crash: (Exit & { readonly tail: readonly string[]; readonly incident: Incident | undefined }) | undefined;
  readonly linkDrops: readonly Incident[];
  /** Disconnects logged by mosquitto because the gateway process had died (not counted above). */
  readonly dropsFromCrash: number;
  readonly brokerConnects: number;
  /** MQTT packets the gateway sent that a strict broker refuses (seen by the relay). */
  readonly refusablePackets: number;
  /** mosquitto's "Outgoing messages are being dropped" lines for the gateway (its queue overflowed). */
  readonly brokerQueueOverflows: number;
  readonly brokerComplaints: readonly string[];
  readonly control: ControlResult;
  readonly rss: RssFigures;
  /** RssAnon: RSS without file pages mapped from disk (the executable, LevelDB's table files). */
  readonly privateRss: RssFigures;
  readonly log: { readonly bytes: number; readonly lines: number; readonly errorLines: number; readonly top: readonly { readonly msg: string; readonly lines: number; readonly bytes: number; readonly level: number; readonly sample: string }[] };
  readonly status: Record<string, unknown> | undefined;
  /** How long the gateway took to log its status line after SIGUSR1 (a busy event loop answers late). */
  readonly statusMs: number | undefined;
  /** Gateway CPU use, in % of one core: while sending, and during the settle and idle time after. */
  readonly cpu: { readonly sending: number | undefined; readonly after: number | undefined };
}

/** One line of the bar: what was measured, what it must be, and whether it is. */
export interface Criterion {
  readonly name: string;
  readonly value: string;
  readonly bar: string;
  readonly ok: boolean;
}

export function criteria(r: CampaignReport): Criterion[] {
  const { warmupKb, endKb } = r.privateRss;
  const memoryOk = warmupKb !== undefined && endKb !== undefined && endKb <= warmupKb * MEMORY_FACTOR;
  return [
    { name: 'datagrams sent', value: `${r.sent}`, bar: `= ${r.options.datagrams}`, ok: r.sent === r.options.datagrams },
    { name: 'gateway crashes', value: r.crash ? `exit code ${r.crash.code} signal ${r.crash.signal}` : '0', bar: '0', ok: r.crash === undefined },
    { name: 'broker-link drops', value: `${r.linkDrops.length}`, bar: '0', ok: r.linkDrops.length === 0 },
    { name: 'control failures', value: `${r.control.failures} (${r.control.sent} publishes)`, bar: '0', ok: r.control.failures === 0 && r.control.acked > 0 },
    { name: 'PUBACKed, not at broker', value: `${r.control.missingAtBroker.length} of ${r.control.acked}`, bar: '0', ok: r.control.missingAtBroker.length === 0 },
    { name: 'private memory end / warm-up', value: `${kb(endKb)} / ${kb(warmupKb)}`, bar: `<= ${MEMORY_FACTOR}x`, ok: memoryOk },
  ];
}

export function passed(r: CampaignReport): boolean {
  return criteria(r).every((c) => c.ok);
}

export function formatReport(r: CampaignReport): string {
  const lines: string[] = [];
  const row = (name: string, value: string, bar = '', ok?: boolean): void => {
    lines.push(`  ${name.padEnd(28)} ${value.padEnd(34)} ${bar.padEnd(10)} ${ok === undefined ? '' : ok ? 'ok' : 'FAIL'}`.trimEnd());
  };
  const { options: o } = r;
  lines.push(`fuzz campaign: seed ${o.seed}, ${o.datagrams} datagrams at ${o.rate}/s from ${o.devices} devices, control QoS 1 every ${o.controlIntervalMs} ms${o.exclude?.length ? `, excluding ${o.exclude.join(', ')}` : ''}, ${o.defaultBounds ? 'the shipped buffer bounds' : 'buffer bounds a tenth of the defaults (--default-bounds for those)'}`);
  lines.push('', '  bar');
  for (const c of criteria(r)) row(c.name, c.value, c.bar, c.ok);
  lines.push('', '  figures');
  row('send time / achieved rate', `${(r.sendMs / 1000).toFixed(1)} s / ${Math.round((r.sent * 1000) / Math.max(1, r.sendMs))}/s`);
  row('bytes sent / send errors', `${r.sentBytes} / ${r.sendErrors}`);
  row('harness event-loop delay', `p99 ${r.harnessLoopDelayMs.p99.toFixed(1)} ms, max ${r.harnessLoopDelayMs.max.toFixed(1)} ms`, '(the control device shares it)');
  row('damaged frames sent', `${r.mutated}`);
  row('replies from the gateway', `${r.replies}`);
  row('mosquitto connects (gateway)', `${r.brokerConnects}`);
  row('refusable MQTT packets sent', `${r.refusablePackets}`, '(by the gateway, seen by the relay)');
  row('mosquitto queue overflows', `${r.brokerQueueOverflows}`, '("Outgoing messages are being dropped for client fuzz-gateway")');
  row('control sent/acked/reconnects', `${r.control.sent} / ${r.control.acked} / ${r.control.reconnects}, slowest PUBACK ${r.control.maxAckMs} ms, ${r.control.skipped} ticks skipped (previous unanswered)`);
  row('RSS start/warm-up/max', `${kb(r.rss.startKb)} / ${kb(r.rss.warmupKb)} / ${kb(r.rss.maxKb)}`, `(warm-up = ${WARMUP_SHARE * 100}% sent)`);
  row('RSS end / after idle', `${kb(r.rss.endKb)} / ${kb(r.rss.idleKb)}`, `(idle ${o.idleMs} ms)`);
  row('private start/warm-up/max', `${kb(r.privateRss.startKb)} / ${kb(r.privateRss.warmupKb)} / ${kb(r.privateRss.maxKb)}`, '(RssAnon: without mapped files)');
  row('private end / after idle', `${kb(r.privateRss.endKb)} / ${kb(r.privateRss.idleKb)}`);
  row('gateway CPU sending / after', `${r.cpu.sending ?? '?'}% / ${r.cpu.after ?? '?'}% of a core`, '(after = settle + idle)');
  row('status line after SIGUSR1', r.statusMs === undefined ? 'none within 15 s' : `${r.statusMs} ms`);
  row('gateway log (stderr)', `${r.log.bytes} bytes, ${r.log.lines} lines, ${r.log.errorLines} error`, `${(r.log.bytes / Math.max(1, r.sent)).toFixed(2)} B/datagram`);
  const stats = (r.status?.stats ?? {}) as Record<string, unknown>;
  const counters = Object.entries(stats).filter(([, v]) => typeof v === 'number' && v !== 0);
  lines.push('', `  gateway status counters (SIGUSR1): sessions ${String(r.status?.sessions ?? '?')}, upstream ${JSON.stringify(r.status?.upstream ?? '?')}`);
  const status = (r.status ?? {}) as Record<string, unknown>;
  lines.push(`    sessions by state ${JSON.stringify(status.sessionsByState ?? '?')}`);
  lines.push(`    held for devices ${String(status.heldForDevices ?? '?')} (in memory ${String(status.heldForDevicesInMemory ?? '?')}), memory MiB ${JSON.stringify(status.memory ?? '?')}`);
  lines.push(`    ${counters.map(([k, v]) => `${k} ${String(v)}`).join(', ') || '(no status line)'}`);
  lines.push('', `  datagrams by kind: ${Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push('', '  log lines by message (lines, bytes), biggest first:');
  for (const t of r.log.top.slice(0, 15)) lines.push(`    ${String(t.lines).padStart(8)} ${String(t.bytes).padStart(10)}  ${t.msg.slice(0, 100)}`);
  const errors = r.log.top.filter((t) => t.level >= 50);
  if (errors.length > 0) lines.push('', '  first error-level line of each kind:', ...errors.map((t) => `    ${t.sample}`));
  if (r.control.failureSamples.length > 0) lines.push('', '  control failures:', ...r.control.failureSamples.map((s) => `    ${s}`));
  if (r.control.missingAtBroker.length > 0) lines.push('', `  missing at broker: ${r.control.missingAtBroker.slice(0, 20).join(', ')}`, `  mosquitto says it dropped ${r.control.brokerDropped} message(s); the watcher's connection closed ${r.control.watcherCloses} time(s)`);
  if (r.crash) {
    lines.push('', `  crash after ${r.crash.incident?.sentBefore ?? '?'} datagrams (${r.dropsFromCrash} broker disconnect(s) from it not counted as link drops); last non-JSON stderr lines:`, ...r.crash.tail.filter((s) => s.trim() !== '' && !s.endsWith('...')).map((s) => `    ${s}`));
    lines.push('    hostile datagrams sent before it, newest first:', ...(r.crash.incident?.suspects ?? []).map((s) => `      ${s}`));
  }
  if (r.brokerComplaints.length > 0) lines.push('', '  mosquitto complaints:', ...r.brokerComplaints.slice(0, 10).map((s) => `    ${s}`));
  r.linkDrops.slice(0, 5).forEach((drop, i) => {
    lines.push('', `  link drop ${i + 1}: ${drop.line} (after ${drop.sentBefore} datagrams)`, '    likely culprits (intact datagrams carrying text a broker refuses, newest first):');
    lines.push(...(drop.suspects.length > 0 ? drop.suspects : ['(none in the ring)']).map((s) => `      ${s}`));
    if (drop.mqtt) {
      const { closedBy, offences } = drop.mqtt;
      lines.push(`    the ${closedBy} closed the TCP link first; packets on that link a broker refuses (the first is the likely offence):`);
      lines.push(...(offences.length > 0 ? offences.slice(0, 5) : ['(none recognised: see the last packets in the JSON report)']).map((s) => `      ${s}`));
    }
    lines.push(`    last ${drop.last.length} datagrams sent: see the JSON report`);
  });
  if (r.linkDrops.length > 5) lines.push(`  ... and ${r.linkDrops.length - 5} more link drops`);
  return lines.join('\n');
}

function kb(value: number | undefined): string {
  return value === undefined ? '?' : `${(value / 1024).toFixed(1)} MiB`;
}
