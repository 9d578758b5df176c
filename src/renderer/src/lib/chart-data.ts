/** Chart.js data for a run's figures and for comparing runs. Pure: series in, datasets out. */
import type { ChartData, ChartDataset } from 'chart.js'
import type { TransferCurveData } from '../../../shared/contract'
import type { EpochMetrics } from '../../../shared/metrics'
import { SERIES_COLORS, VARIANT_COLORS } from './chart-setup'

type Point = { x: number; y: number }
type LineData = ChartData<'line', Point[]>

function line(label: string, color: string, data: Point[], extra: Partial<ChartDataset<'line', Point[]>> = {}): ChartDataset<'line', Point[]> {
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: data.length > 40 ? 0 : 2.5, tension: 0, ...extra }
}

const points = (epochs: readonly EpochMetrics[], pick: (e: EpochMetrics) => number | null): Point[] =>
  epochs.flatMap((e) => {
    const y = pick(e)
    return y === null || !Number.isFinite(y) ? [] : [{ x: e.epoch, y }]
  })

/** Train and validation accuracy per epoch. */
export function accuracyData(epochs: readonly EpochMetrics[]): LineData {
  return {
    datasets: [line('train acc', SERIES_COLORS[0] as string, points(epochs, (e) => e.trainAcc)), line('val acc', SERIES_COLORS[1] as string, points(epochs, (e) => e.valAcc))]
  }
}

/** Train and validation loss per epoch. */
export function lossData(epochs: readonly EpochMetrics[]): LineData {
  return {
    datasets: [line('train loss', SERIES_COLORS[0] as string, points(epochs, (e) => e.trainLoss)), line('val loss', SERIES_COLORS[1] as string, points(epochs, (e) => e.valLoss))]
  }
}

/** Training loss per logged batch (x in epochs). */
export function batchLossData(batches: readonly { x: number; loss: number }[]): LineData {
  return { datasets: [line('batch loss', SERIES_COLORS[2] as string, batches.map((b) => ({ x: b.x, y: b.loss })), { borderWidth: 1.5, pointRadius: batches.length > 60 ? 0 : 2 })] }
}

/** Best validation accuracy vs n, one line per variant, and the target's base as a flat baseline. */
export function transferCurveData(curve: TransferCurveData, maxN: number): LineData {
  const datasets = curve.series.map((s) =>
    line(
      s.variant,
      VARIANT_COLORS[s.variant] ?? (SERIES_COLORS[0] as string),
      s.points.flatMap((p) => (p.bestValAcc === null ? [] : [{ x: p.n, y: p.bestValAcc }])),
      { pointRadius: 4, pointHoverRadius: 6 }
    )
  )
  if (curve.baseline?.bestValAcc !== null && curve.baseline?.bestValAcc !== undefined) {
    const y = curve.baseline.bestValAcc
    datasets.push(line(`base ${curve.to} (baseline)`, VARIANT_COLORS['baseline'] as string, [{ x: 0, y }, { x: maxN, y }], { borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 }))
  }
  return { datasets }
}

/** Validation accuracy per epoch of several runs, for comparing them. */
export function overlayData(runs: readonly { label: string; epochs: readonly EpochMetrics[] }[]): LineData {
  return { datasets: runs.map((r, i) => line(r.label, SERIES_COLORS[i % SERIES_COLORS.length] as string, points(r.epochs, (e) => e.valAcc))) }
}
