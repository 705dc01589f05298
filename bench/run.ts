/**
 * `npm run bench`: every scenario of the benchmark suite against a real mosquitto, with the
 * gateway, the load generators and this process (the broker-side counter) as separate processes.
 * Options: --runs N (default 3), --scenarios 1,2,2b,3,4,4b,5a,5b,6,7, --quick (tiny smoke run),
 * --lossless-rate N (scenario 4 alone), --output FILE (under bench/results/).
 */
import { parseArgs } from 'node:util';
import { findMosquitto, startBroker } from './processes.js';
import { appendResult, machine, printHeader, printRow, type ScenarioRow } from './report.js';
import type { BenchEnv } from './scenarios/env.js';
import { scenario1 } from './scenarios/s1-qos0-lossless.js';
import { scenario2, scenario2b } from './scenarios/s2-qos1-throughput.js';
import { scenario3 } from './scenarios/s3-latency.js';
import { scenario4 } from './scenarios/s4-overload.js';
import { scenario4b } from './scenarios/s4b-flat-out.js';
import { scenario5Active, scenario5Sleeping } from './scenarios/s5-scale.js';
import { scenario6 } from './scenarios/s6-footprint.js';
import { scenario7 } from './scenarios/s7-dtls.js';

/** In order: scenario 4 uses scenario 1's result. */
const SCENARIOS = new Map<string, (env: BenchEnv) => Promise<ScenarioRow>>([
  ['1', scenario1],
  ['2', scenario2],
  ['2b', scenario2b],
  ['3', scenario3],
  ['4', scenario4],
  ['4b', scenario4b],
  ['5a', scenario5Active],
  ['5b', scenario5Sleeping],
  ['6', scenario6],
  ['7', scenario7],
]);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      scenarios: { type: 'string', default: [...SCENARIOS.keys()].join(',') },
      quick: { type: 'boolean', default: false },
      output: { type: 'string' },
      /** Scenario 4 without running scenario 1 first: the lossless rate to double. */
      'lossless-rate': { type: 'string' },
    },
  });
  if (!findMosquitto()) {
    console.error('npm run bench needs a real broker and none is installed: apt-get install -y mosquitto');
    process.exit(2);
  }
  const selected = values.scenarios.split(',').map((name) => name.trim());
  for (const name of selected) if (!SCENARIOS.has(name)) throw new Error(`unknown scenario "${name}"; choose from ${[...SCENARIOS.keys()].join(', ')}`);
  const broker = await startBroker();
  const env: BenchEnv = { broker, runs: Number(values.runs), quick: values.quick, results: new Map() };
  if (values['lossless-rate']) env.results.set('s1.ours', Number(values['lossless-rate']));
  const file = values.output ?? (values.quick ? 'quick.jsonl' : 'results.jsonl');
  console.log(`mqttsn-gateway benchmark: ${JSON.stringify(machine())}, mosquitto at ${broker.url}, ${env.runs} run(s) each, medians shown`);
  printHeader();
  let failed = false;
  try {
    for (const name of selected) {
      const row = await SCENARIOS.get(name)!(env);
      printRow(row);
      appendResult(row, file);
      failed ||= !row.met;
    }
  } finally {
    await broker.stop();
  }
  console.log(failed ? '\nSome targets were missed (see the "met" column).' : '\nAll targets met.');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
