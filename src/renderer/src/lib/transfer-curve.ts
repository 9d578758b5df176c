/**
 * The transfer curve as data: accuracy vs n per variant for one source → target pair, every repeat as
 * a point and mean ± sample standard deviation per n, with the target's base (mean of its repeats) as
 * the baseline. Built from the project's run records; pure, so the chart, the summary table, the CSV
 * and the SVG all draw the same numbers.
 */
import type { RunRecord } from '../../../shared/project'
import { metricOf, spreadOf, type CurveMetric } from '../../../shared/repeats'
import { TRANSFER_VARIANTS, type TransferVariant } from '../../../shared/transfer'
import type { CsvColumn } from './csv'

export type { CurveMetric }

/** One repeat's figure. */
export interface CurveRepeat {
  runId: string
  seed: number
  y: number
}

/** Every finished repeat at one n (or of the baseline) and their spread. */
export interface CurveCell {
  n: number
  repeats: CurveRepeat[]
  mean: number
  /** Sample standard deviation (n − 1); null with one repeat. */
  std: number | null
  count: number
}

export interface CurveModel {
  from: string
  to: string
  metric: CurveMetric
  /** The target's own base over its repeats; null until one has finished. */
  baseline: Omit<CurveCell, 'n'> | null
  series: { variant: TransferVariant; cells: CurveCell[] }[]
}

/** Words for a metric, on axes, in titles and in file names. */
export const METRIC_LABELS: Record<CurveMetric, string> = { val: 'best validation accuracy', test: 'test accuracy' }

function cellOf(runs: readonly RunRecord[], metric: CurveMetric, n: number): CurveCell | null {
  const repeats = runs.flatMap((r) => {
    const y = metricOf(r, metric)
    return y === null || !Number.isFinite(y) ? [] : [{ runId: r.id, seed: r.seed, y }]
  })
  if (repeats.length === 0) return null
  repeats.sort((a, b) => a.seed - b.seed || a.runId.localeCompare(b.runId))
  const spread = spreadOf(repeats.map((r) => r.y))
  return { n, repeats, mean: spread.mean as number, std: spread.std, count: spread.count }
}

/**
 * The curve of target `to` with source `from`: AnB variants copy from `from`, the BnB controls from
 * `to`. Only finished runs count (a cancelled run's accuracy is of a half-trained model).
 */
export function curveFromRuns(runs: readonly RunRecord[], from: string, to: string, metric: CurveMetric): CurveModel {
  const done = runs.filter((r) => r.status === 'done')
  const series = TRANSFER_VARIANTS.map((variant) => {
    const source = variant.startsWith('B') ? to : from
    const ofVariant = done.filter((r) => r.kind === 'transfer' && r.variant === variant && r.to === to && r.from === source && r.n !== null)
    const depths = [...new Set(ofVariant.map((r) => r.n as number))].sort((a, b) => a - b)
    const cells = depths.flatMap((n) => cellOf(ofVariant.filter((r) => r.n === n), metric, n) ?? [])
    return { variant, cells }
  }).filter((s) => s.cells.length > 0)
  const base = cellOf(done.filter((r) => r.kind === 'base' && r.to === to), metric, 0)
  const baseline = base ? { repeats: base.repeats, mean: base.mean, std: base.std, count: base.count } : null
  return { from, to, metric, baseline, series }
}

/** Every figure the curve draws (repeats and mean ± std), for fitting the y axis. */
function drawnValues(model: CurveModel): number[] {
  const cells = [...model.series.flatMap((s) => s.cells), ...(model.baseline ? [{ ...model.baseline, n: 0 }] : [])]
  return cells.flatMap((c) => [...c.repeats.map((r) => r.y), c.mean - (c.std ?? 0), c.mean + (c.std ?? 0)])
}

/**
 * The y range: 'full' is 0–100 %; 'fit' hugs the data with a margin, snapped outward to 5 % steps and
 * kept inside 0–100 % (curves at 14–32 % are not squashed at the bottom).
 */
export function yRange(model: CurveModel, mode: 'fit' | 'full'): { min: number; max: number } {
  const values = drawnValues(model)
  if (mode === 'full' || values.length === 0) return { min: 0, max: 1 }
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const margin = Math.max((hi - lo) * 0.1, 0.01)
  const step = 0.05
  const min = Math.max(0, Math.floor((lo - margin) / step) * step)
  const max = Math.min(1, Math.ceil((hi + margin) / step) * step)
  // Float noise from the snapping (0.15000000000000002) would show on tick labels.
  return { min: Math.round(min * 1000) / 1000, max: Math.round(max * 1000) / 1000 }
}

/** Points drawn: repeats (dots), means (line points) and baseline repeats; for the chart's data-points count. */
export function curvePointCount(model: CurveModel): number {
  return model.series.reduce((sum, s) => sum + s.cells.reduce((k, c) => k + c.repeats.length + 1, 0), 0)
}

/** One CSV row per variant and n, and one for the baseline. */
export interface CurveCsvRow {
  series: string
  n: number | null
  cell: Omit<CurveCell, 'n'>
}

/** The rows of the curve's CSV: baseline first, then each variant by n. */
export function curveCsvRows(model: CurveModel): CurveCsvRow[] {
  const rows: CurveCsvRow[] = model.baseline ? [{ series: `base ${model.to}`, n: null, cell: model.baseline }] : []
  for (const s of model.series) for (const c of s.cells) rows.push({ series: s.variant, n: c.n, cell: c })
  return rows
}

/** The curve's CSV columns: which figure, mean, std, count, then each repeat's seed and value. */
export function curveCsvColumns(model: CurveModel): CsvColumn<CurveCsvRow>[] {
  const most = Math.max(0, ...curveCsvRows(model).map((r) => r.cell.count))
  const repeatColumns = Array.from({ length: most }, (_, i): CsvColumn<CurveCsvRow>[] => [
    { header: `seed${i + 1}`, value: (r) => r.cell.repeats[i]?.seed },
    { header: `value${i + 1}`, value: (r) => r.cell.repeats[i]?.y }
  ]).flat()
  return [
    { header: 'series', value: (r) => r.series },
    { header: 'from', value: (r) => (r.n === null ? '' : r.series.startsWith('B') ? model.to : model.from) },
    { header: 'to', value: () => model.to },
    { header: 'n', value: (r) => r.n },
    { header: 'metric', value: () => model.metric },
    { header: 'mean', value: (r) => r.cell.mean },
    { header: 'std', value: (r) => r.cell.std },
    { header: 'count', value: (r) => r.cell.count },
    ...repeatColumns
  ]
}
