import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { root } from './processes.js';

/** One scenario's outcome: a headline figure for us and, where it applies, for direct MQTT. */
export interface ScenarioRow {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  /** Median over runs. */
  readonly ours: number;
  readonly direct?: number;
  /** ours / direct, or the figure the target is stated in. */
  readonly ratio?: number;
  readonly target: string;
  readonly met: boolean;
  /** Other figures worth reading (medians), e.g. p99 latencies, RTTs. */
  readonly details: Record<string, number | string>;
  /** Every run's raw figures. */
  readonly runs: readonly unknown[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function machine(): Record<string, string | number> {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), arch: process.arch };
}

const format = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(value < 10 ? 2 : 1));

export function printHeader(): void {
  console.log(`\n${'scenario'.padEnd(34)} ${'metric'.padEnd(30)} ${'ours'.padStart(12)} ${'direct'.padStart(12)} ${'ratio'.padStart(7)}  target                met`);
  console.log('-'.repeat(130));
}

export function printRow(row: ScenarioRow): void {
  console.log(
    `${row.scenario.padEnd(34)} ${`${row.metric} (${row.unit})`.padEnd(30)} ${format(row.ours).padStart(12)} ${format(row.direct).padStart(12)} ${format(row.ratio).padStart(7)}  ${row.target.padEnd(21)} ${row.met ? 'yes' : 'NO'}`,
  );
  const details = Object.entries(row.details)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? format(value) : value}`)
    .join('  ');
  if (details) console.log(`${''.padEnd(34)} ${details}`);
}

/** Appends the row, with the machine and time, to bench/results/RESULTS.jsonl. */
export function appendResult(row: ScenarioRow, file: string): void {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, file), `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), ...row })}\n`);
}
