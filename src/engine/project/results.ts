import type { RunRecord } from '../../shared/project'
import { cellByRunId, repeatCells, spreadOf, type RepeatCell } from '../../shared/repeats'
import { TRANSFER_VARIANTS, type TransferVariant } from '../../shared/transfer'

/** The row `report --json` gives per run. */
export interface ReportRow {
  id: string
  kind: RunRecord['kind']
  variant: TransferVariant | null
  from: string | null
  to: string
  n: number | null
  status: RunRecord['status']
  bestValAcc: number | null
  epochs: number
  testAcc: number | null
  seconds: number
  /** Why the run failed or was stopped; for an `unreadable` run, what is wrong with its run.json. */
  error: string | null
  seed: number
  /** The cell the run repeats (see {@link ReportCell}); null for an unreadable run. */
  cell: string | null
}

/** One row per run, in the project's order. */
export function reportRows(runs: RunRecord[]): ReportRow[] {
  const cells = cellByRunId(repeatCells(runs))
  return runs.map((r) => ({
    id: r.id,
    kind: r.kind,
    variant: r.variant,
    from: r.from,
    to: r.to,
    n: r.n,
    status: r.status,
    bestValAcc: r.bestValAcc,
    epochs: r.epochs,
    testAcc: r.testAcc,
    seconds: Math.round(r.seconds * 10) / 10,
    error: r.error ?? null,
    seed: r.seed,
    cell: cells.get(r.id)?.cell ?? null
  }))
}

/**
 * `report`'s per-cell figures: a cell is a base or a variant at one n, and its repeats differ only in
 * the seed. Mean and sample standard deviation (n − 1; null for one run) over the finished runs; count
 * is how many finished runs the figures stand on.
 */
export interface ReportCell extends Omit<RepeatCell, 'bestValAcc' | 'testAcc'> {
  count: number
  bestValAccMean: number | null
  bestValAccStd: number | null
  testAccMean: number | null
  testAccStd: number | null
}

/** Accuracies to 6 decimals (0.0001 %): float noise such as 0.09999999999999998 helps no table. */
const round6 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6)

/** One row per cell, in the order cells first appear among the runs. */
export function reportCells(runs: RunRecord[]): ReportCell[] {
  return repeatCells(runs).map(({ bestValAcc, testAcc, ...cell }) => ({
    ...cell,
    count: bestValAcc.count,
    bestValAccMean: round6(bestValAcc.mean),
    bestValAccStd: round6(bestValAcc.std),
    testAccMean: round6(testAcc.mean),
    testAccStd: round6(testAcc.std)
  }))
}

const csvCell = (v: unknown): string => {
  const text = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v)
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

const CELL_COLUMNS = ['count', 'bestValAccMean', 'bestValAccStd', 'testAccMean', 'testAccStd'] as const

/** The cells as CSV, one line per cell (`report --csv --cells`). */
export function reportCellsCsv(cells: ReportCell[]): string {
  const columns: (keyof ReportCell)[] = ['cell', 'kind', 'variant', 'from', 'to', 'n', ...CELL_COLUMNS, 'seeds']
  return [columns.join(','), ...cells.map((row) => columns.map((c) => csvCell(row[c])).join(','))].join('\n') + '\n'
}

/**
 * The rows as CSV (RFC 4180 quoting), for papers and spreadsheets: one line per run, its own figures
 * first, then its seed and its cell's mean, std and count (the same on every repeat of a cell).
 */
export function reportCsv(rows: ReportRow[], cells: ReportCell[] = []): string {
  const columns: (keyof ReportRow)[] = ['id', 'kind', 'variant', 'from', 'to', 'n', 'status', 'bestValAcc', 'epochs', 'testAcc', 'seconds', 'seed', 'cell']
  const byName = new Map(cells.map((c) => [c.cell, c]))
  const header = [...columns, ...CELL_COLUMNS].join(',')
  const line = (row: ReportRow): string => {
    const cell = row.cell === null ? undefined : byName.get(row.cell)
    return [...columns.map((c) => csvCell(row[c])), ...CELL_COLUMNS.map((c) => csvCell(cell?.[c]))].join(',')
  }
  return [header, ...rows.map(line)].join('\n') + '\n'
}

/** Best validation accuracy vs n for each variant studying one target group, with the base baseline. */
export interface TransferCurve {
  /** Target group. */
  to: string
  /** Source group of the AnB variants (the BnB controls copy from `to`). */
  from: string
  baseline: { runId: string; bestValAcc: number | null } | null
  series: { variant: TransferVariant; points: { n: number; bestValAcc: number | null; runId: string; status: RunRecord['status'] }[] }[]
}

/** Builds the transfer curve for target `to` with source `from` from the project's runs. */
export function transferCurve(runs: RunRecord[], from: string, to: string): TransferCurve {
  const base = runs.find((r) => r.kind === 'base' && r.to === to)
  const series = TRANSFER_VARIANTS.map((variant) => {
    const sourceGroup = variant.startsWith('B') ? to : from
    const points = runs
      .filter((r) => r.kind === 'transfer' && r.variant === variant && r.to === to && r.from === sourceGroup && r.n !== null)
      .map((r) => ({ n: r.n as number, bestValAcc: r.bestValAcc, runId: r.id, status: r.status }))
      .sort((a, b) => a.n - b.n)
    return { variant, points }
  }).filter((s) => s.points.length > 0)
  return { to, from, baseline: base ? { runId: base.id, bestValAcc: base.bestValAcc } : null, series }
}

/**
 * Source × target similarity at depth n: best accuracy of the frozen transfer (AnB) from each source
 * group to each target group (the mean over repeats), next to each target's baseline. Missing pairs are null.
 */
export function similarityMatrix(runs: RunRecord[], n: number, variant: TransferVariant = 'AnB'): {
  sources: string[]
  targets: string[]
  values: (number | null)[][]
  baselines: (number | null)[]
} {
  const cells = runs.filter((r) => r.kind === 'transfer' && r.variant === variant && r.n === n && r.from !== null)
  const sources = [...new Set(cells.map((r) => r.from as string))].sort()
  const targets = [...new Set(cells.map((r) => r.to))].sort()
  // With repeats, a pair's figure is the mean over its repeats.
  const values = sources.map((s) => targets.map((t) => spreadOf(cells.filter((r) => r.from === s && r.to === t).map((r) => r.bestValAcc)).mean))
  const baselines = targets.map((t) => spreadOf(runs.filter((r) => r.kind === 'base' && r.to === t).map((r) => r.bestValAcc)).mean)
  return { sources, targets, values, baselines }
}
