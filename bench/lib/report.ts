/**
 * Figures and the one summary line each benchmark prints: `<name>: key=value key=value …` on standard output, and the
 * same figures as JSON to BENCH_RESULT_FILE when bench/run.ts asks for them. Targets are checked here so every
 * benchmark states them the same way: `target <name> met|MISSED (<figure> vs <limit>)` lines on standard error.
 */
import { appendFileSync } from 'node:fs';

export type Figures = Record<string, number | string | boolean | null>;

/** The p-th percentile (0–100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Rounds for display: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

export function ratio(product: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : round(product / baseline);
}

export interface TargetCheck {
  name: string;
  met: boolean;
  detail: string;
}

/** Collects target checks of one benchmark. */
export class Targets {
  readonly checks: TargetCheck[] = [];

  /** `value` must be at least `limit`. */
  atLeast(name: string, value: number, limit: number, unit = ''): void {
    this.checks.push({ name, met: value >= limit, detail: `${round(value)}${unit} ≥ ${round(limit)}${unit}` });
  }

  /** `value` must be at most `limit`. */
  atMost(name: string, value: number, limit: number, unit = ''): void {
    this.checks.push({ name, met: value <= limit, detail: `${round(value)}${unit} ≤ ${round(limit)}${unit}` });
  }

  get allMet(): boolean {
    return this.checks.every((check) => check.met);
  }

  print(): void {
    for (const check of this.checks) {
      console.error(`target ${check.name}: ${check.met ? 'met' : 'MISSED'} (${check.detail})`);
    }
  }
}

/** Prints the summary line and, under bench/run.ts, appends the figures and targets to its result file. */
export function summarise(name: string, figures: Figures, targets?: Targets): void {
  targets?.print();
  const line = Object.entries(figures)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? round(value) : value}`)
    .join(' ');
  console.log(`${name}: ${line}`);
  const file = process.env.BENCH_RESULT_FILE;
  if (file) {
    appendFileSync(file, `${JSON.stringify({ name, figures, targets: targets?.checks ?? [] })}\n`);
  }
}

/** Progress on standard error (the summary line alone goes to standard output). */
export function progress(message: string): void {
  if (process.env.BENCH_QUIET !== '1') console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** An integer setting of a benchmark from the environment, e.g. BENCH_FEED_DURATION_S. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

/** A list setting, e.g. BENCH_EMAIL_SIZES=10000,100000. */
export function envList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must list positive integers, not "${raw}"`);
    return value;
  });
}
