import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../fleet/servers.js';

/** One figure of a run: percentiles of its samples (shape: shared docs, bench-results.md). */
export interface Figure {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
  unit: string;
}

export function figure(samples: readonly number[], unit = 'ms'): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { p50: Math.round(at(0.5)), p95: Math.round(at(0.95)), p99: Math.round(at(0.99)), max: Math.round(sorted.at(-1) ?? NaN), n: sorted.length, unit };
}

export interface BenchResult {
  suite: string;
  config: Record<string, unknown>;
  figures: Record<string, Figure>;
  faults?: Record<string, number>;
  /** The same figures for the side-by-side peer of the same run. */
  peer?: { name: string; figures: Record<string, Figure> };
  /** voicefleet / peer, per figure and percentile (e.g. v2v_ms_p95). */
  ratios?: Record<string, number>;
  /** Suite-specific tables that are not percentiles (e.g. a concurrency sweep). */
  details?: Record<string, unknown>;
  /** An SVG chart, written beside the JSON as <suite>-<stamp>.svg and <suite>-latest.svg. */
  svg?: string;
  notes: string;
}

/** Writes bench/results/<suite>-<UTC stamp>.json and <suite>-latest.json; returns the path. */
export function writeResult(result: BenchResult, dir = join(PROJECT_ROOT, 'bench', 'results')): string {
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  const cpu = cpus();
  const body = {
    suite: result.suite,
    when,
    commit,
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    config: result.config,
    figures: result.figures,
    ...(result.peer ? { peer: result.peer } : {}),
    ...(result.ratios ? { ratios: result.ratios } : {}),
    ...(result.details ? { details: result.details } : {}),
    ...(result.faults ? { faults: result.faults } : {}),
    notes: result.notes,
  };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.suite}-${when.replace(/[:]/g, '')}.json`);
  const text = `${JSON.stringify(body, null, 2)}\n`;
  writeFileSync(path, text);
  writeFileSync(join(dir, `${result.suite}-latest.json`), text);
  if (result.svg) {
    writeFileSync(path.replace(/\.json$/, '.svg'), result.svg);
    writeFileSync(join(dir, `${result.suite}-latest.svg`), result.svg);
  }
  return path;
}

/** A one-line progress bar on stderr: long runs show where they are. */
export function progress(label: string, done: number, total: number, detail = ''): void {
  const width = 24;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`.padEnd(100));
  if (done === total) process.stderr.write('\n');
}
