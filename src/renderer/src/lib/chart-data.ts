/** Chart.js data for comparing runs, and the line style every run chart shares. Pure: series in, datasets out. */
import type { ChartData, ChartDataset } from 'chart.js'
import type { EpochMetrics } from '../../../shared/metrics'
import { SERIES_COLORS } from './chart-setup'

type Point = { x: number; y: number }
type LineData = ChartData<'line', Point[]>

/** One line of a run chart: its colour for line and points, points hidden once there are many. */
export function line(label: string, color: string, data: Point[], extra: Partial<ChartDataset<'line', Point[]>> = {}): ChartDataset<'line', Point[]> {
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: data.length > 40 ? 0 : 2.5, tension: 0, ...extra }
}

const points = (epochs: readonly EpochMetrics[], pick: (e: EpochMetrics) => number | null): Point[] =>
  epochs.flatMap((e) => {
    const y = pick(e)
    return y === null || !Number.isFinite(y) ? [] : [{ x: e.epoch, y }]
  })

/** Validation accuracy per epoch of several runs, for comparing them. */
export function overlayData(runs: readonly { label: string; epochs: readonly EpochMetrics[] }[]): LineData {
  return { datasets: runs.map((r, i) => line(r.label, SERIES_COLORS[i % SERIES_COLORS.length] as string, points(r.epochs, (e) => e.valAcc))) }
}
