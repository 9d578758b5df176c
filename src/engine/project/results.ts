import type { RunRecord } from '../../shared/project'
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
}

/** One row per run, in the project's order. */
export function reportRows(runs: RunRecord[]): ReportRow[] {
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
    error: r.error ?? null
  }))
}

/** The rows as CSV (RFC 4180 quoting), for papers and spreadsheets. */
export function reportCsv(rows: ReportRow[]): string {
  const columns: (keyof ReportRow)[] = ['id', 'kind', 'variant', 'from', 'to', 'n', 'status', 'bestValAcc', 'epochs', 'testAcc', 'seconds']
  const cell = (v: unknown): string => {
    const text = v === null || v === undefined ? '' : String(v)
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n') + '\n'
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
 * group to each target group, next to each target's baseline. Missing pairs are null.
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
  const values = sources.map((s) => targets.map((t) => cells.find((r) => r.from === s && r.to === t)?.bestValAcc ?? null))
  const baselines = targets.map((t) => runs.find((r) => r.kind === 'base' && r.to === t)?.bestValAcc ?? null)
  return { sources, targets, values, baselines }
}
