/**
 * Repeats: an experiment may train each cell (a base, or a variant at one n) K times with seeds
 * seed, seed+1, … seed+K−1, and results read each cell as mean ± standard deviation over its
 * repeats (Yosinski et al. plot every repeat and their mean). Pure: used by the planner, the CLI's
 * report and the Results view alike, so a cell means the same thing everywhere.
 */
import type { RunRecord } from './project'
import type { TrainConfig } from './train-config'
import type { TransferVariant } from './transfer'

/** At most this many repeats per cell (each one is a full set of trainings). */
export const MAX_REPEATS = 20

/** The seed of repeat r (0-based) of a config whose seed is `seed`; repeat 0 keeps the seed itself. */
export function repeatSeed(seed: number, repeat: number): number {
  return (seed + repeat) % 2 ** 32
}

/** Why a repeats value is not usable, or null when it is (an integer 1 … MAX_REPEATS). */
export function repeatsProblem(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPEATS) {
    return `repeats must be a whole number from 1 to ${MAX_REPEATS}, not ${JSON.stringify(value)}`
  }
  return null
}

/** Mean, sample standard deviation (n − 1; null below 2 values) and count of some numbers. */
export interface Spread {
  mean: number | null
  std: number | null
  count: number
}

/** {@link Spread} of the finite values (nulls and NaN are left out). */
export function spreadOf(values: readonly (number | null | undefined)[]): Spread {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (xs.length === 0) return { mean: null, std: null, count: 0 }
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  if (xs.length < 2) return { mean, std: null, count: 1 }
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)
  return { mean, std: Math.sqrt(variance), count: xs.length }
}

/** The accuracy a figure reads: best validation accuracy, or test accuracy of the best weights. */
export type CurveMetric = 'val' | 'test'

/** A run's figure for a metric. */
export function metricOf(run: Pick<RunRecord, 'bestValAcc' | 'testAcc'>, metric: CurveMetric): number | null {
  return metric === 'test' ? run.testAcc : run.bestValAcc
}

/** What makes runs repeats of one cell: everything but the seed. */
function cellIdentity(run: RunRecord): string {
  const config: Partial<TrainConfig> = { ...run.config }
  delete config.seed
  return JSON.stringify([run.kind, run.variant, run.from, run.to, run.n, run.dataset, run.classes, config])
}

/** "base B" or "AnB n=3 A→B": a cell's name in reports. */
export function cellLabel(run: Pick<RunRecord, 'kind' | 'variant' | 'n' | 'from' | 'to'>): string {
  return run.kind === 'base' ? `base ${run.to}` : `${run.variant} n=${run.n} ${run.from}→${run.to}`
}

/** One cell: its repeats (runs in project order) and their spread. Only finished runs count. */
export interface RepeatCell {
  /** A name unique in the project: the label, with " #2", " #3" … when two configs share a label. */
  cell: string
  kind: RunRecord['kind']
  variant: TransferVariant | null
  from: string | null
  to: string
  n: number | null
  /** Every run of the cell, finished or not. */
  runIds: string[]
  /** Seeds of the finished runs that count. */
  seeds: number[]
  bestValAcc: Spread
  testAcc: Spread
}

/**
 * Groups runs into cells (same kind, variant, groups, n, dataset, classes and config but the seed) in
 * the order cells first appear. Spreads are over `done` runs only: a cancelled run's half-trained
 * accuracy would drag the mean down.
 */
export function repeatCells(runs: readonly RunRecord[]): RepeatCell[] {
  const byIdentity = new Map<string, { cell: RepeatCell; runs: RunRecord[] }>()
  const labels = new Map<string, number>()
  for (const run of runs) {
    if (run.status === 'unreadable') continue
    const key = cellIdentity(run)
    let entry = byIdentity.get(key)
    if (!entry) {
      const label = cellLabel(run)
      const seen = (labels.get(label) ?? 0) + 1
      labels.set(label, seen)
      const cell: RepeatCell = {
        cell: seen === 1 ? label : `${label} #${seen}`,
        kind: run.kind,
        variant: run.variant,
        from: run.from,
        to: run.to,
        n: run.n,
        runIds: [],
        seeds: [],
        bestValAcc: { mean: null, std: null, count: 0 },
        testAcc: { mean: null, std: null, count: 0 }
      }
      entry = { cell, runs: [] }
      byIdentity.set(key, entry)
    }
    entry.cell.runIds.push(run.id)
    entry.runs.push(run)
  }
  return [...byIdentity.values()].map(({ cell, runs }) => {
    // Seed order, whatever order the runs were listed in (folder listings follow the hashed ids).
    const members = [...runs].sort((a, b) => a.seed - b.seed)
    const done = members.filter((r) => r.status === 'done')
    return { ...cell, runIds: members.map((r) => r.id), seeds: done.map((r) => r.seed), bestValAcc: spreadOf(done.map((r) => r.bestValAcc)), testAcc: spreadOf(done.map((r) => r.testAcc)) }
  })
}

/** The cell of each run id (for per-run tables that show their cell's spread). */
export function cellByRunId(cells: readonly RepeatCell[]): Map<string, RepeatCell> {
  const out = new Map<string, RepeatCell>()
  for (const cell of cells) for (const id of cell.runIds) out.set(id, cell)
  return out
}
