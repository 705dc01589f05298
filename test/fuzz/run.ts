/**
 * `npm run fuzz`: one long campaign against the shipped gateway and a real mosquitto, a report,
 * and exit code 1 when the bar of issue 13 item 8 is missed (see report.ts).
 *   node --import tsx test/fuzz/run.ts [--datagrams N] [--rate R] [--seed S] [--devices D]
 *     [--control-ms MS] [--settle-ms MS] [--idle-ms MS] [--exclude KIND,...] [--json FILE] [--default-bounds]
 * --default-bounds runs the gateway with the shipped buffer bounds instead of harness.ts FUZZ_BUFFER_BOUNDS.
 * --exclude leaves out kinds of hostile text (hostile.ts TEXT_KINDS) whose bug is already known.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { findMosquitto } from '../helpers/mosquitto.js';
import { projectRoot } from '../helpers/processes.js';
import { runCampaign } from './harness.js';
import { TEXT_KINDS } from './hostile.js';
import { formatReport, MEMORY_FACTOR, passed } from './report.js';
import { WARMUP_SHARE } from './rss.js';

const { values } = parseArgs({
  options: {
    datagrams: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '15000' },
    seed: { type: 'string' },
    devices: { type: 'string', default: '500' },
    'control-ms': { type: 'string', default: '2000' },
    'settle-ms': { type: 'string', default: '10000' },
    'idle-ms': { type: 'string', default: '10000' },
    exclude: { type: 'string', default: '' },
    'default-bounds': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} "${text}": expected a whole number`);
  return n;
}

async function main(): Promise<number> {
  if (!findMosquitto()) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  // A random seed unless given, always printed: any campaign can be replayed.
  const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : positive('seed', values.seed);
  const exclude = values.exclude.split(',').filter((kind) => kind !== '');
  for (const kind of exclude) if (!(kind in TEXT_KINDS)) throw new Error(`--exclude ${kind}: expected some of ${Object.keys(TEXT_KINDS).join(', ')}`);
  const report = await runCampaign({
    datagrams: positive('datagrams', values.datagrams),
    rate: positive('rate', values.rate),
    seed,
    devices: Math.max(1, positive('devices', values.devices)),
    exclude,
    defaultBounds: values['default-bounds'],
    controlIntervalMs: Math.max(10, positive('control-ms', values['control-ms'])),
    settleMs: positive('settle-ms', values['settle-ms']),
    idleMs: positive('idle-ms', values['idle-ms']),
    progress: (line) => console.error(`[fuzz] ${line}`),
  });
  const jsonPath = values.json ?? join(projectRoot, '.fuzz', `report-${seed}.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, JSON.stringify(report, null, 2));
  console.log(formatReport(report));
  const ok = passed(report);
  console.log(`\n${ok ? 'PASS' : 'FAIL'}: the bar is 0 crashes, 0 broker-link drops, 0 failed control publishes, every PUBACKed control message at the broker, private memory (RssAnon) at the end <= ${MEMORY_FACTOR}x at warm-up (${WARMUP_SHARE * 100}% sent)`);
  console.log(`full report (with the last 50 datagrams before each link drop): ${jsonPath}`);
  const excluded = exclude.length > 0 ? ` --exclude ${exclude.join(',')}` : '';
  console.log(`same datagrams again: node --import tsx test/fuzz/run.ts --seed ${seed} --datagrams ${report.options.datagrams} --rate ${report.options.rate} --devices ${report.options.devices}${excluded}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
