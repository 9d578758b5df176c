/**
 * The monitor's live charts as data: one or several runs on one chart, the x axis in logged steps,
 * epochs or training time, the curves smoothed by an exponential moving average, the y axis linear
 * or logarithmic. Pure: series in, Chart.js datasets and axis options out.
 */
import type { ChartData, ChartDataset, ChartOptions } from 'chart.js'
import type { EpochMetrics } from '../../../shared/metrics'
import { SERIES_COLORS } from './chart-setup'
import { line } from './chart-data'
import type { BatchPoint, RunSeries } from './series'

export type XAxisMode = 'step' | 'epoch' | 'time'

/** Words for the axis modes (buttons and axis titles). */
export const X_AXIS_TITLES: Record<XAxisMode, string> = { step: 'step (batches trained)', epoch: 'epoch', time: 'training time (s)' }

/** One run on the charts: its label, its series and its batch size (to place batches in time). */
export interface ChartRun {
  id: string
  label: string
  series: RunSeries
  batchSize: number
  /** Epochs the run is configured for (the epoch axis spans them). */
  epochs: number
}

export interface ChartSettings {
  x: XAxisMode
  /** EMA weight of the past, 0 (raw) … < 1 (TensorBoard's smoothing slider). */
  smoothing: number
  /** Logarithmic loss axis. */
  logY: boolean
}

type Point = { x: number; y: number }
type LineData = ChartData<'line', Point[]>
type LineDataset = ChartDataset<'line', Point[]>

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are not pulled toward
 * 0): s_t = w·s_{t−1} + (1−w)·y_t, divided by 1 − w^t. Weight 0 returns the values unchanged.
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  if (!(weight > 0)) return [...values]
  const w = Math.min(weight, 0.999)
  let last = 0
  let n = 0
  return values.map((y) => {
    if (!Number.isFinite(y)) return y
    n++
    last = w * last + (1 - w) * y
    return last / (1 - w ** n)
  })
}

/** Seconds of training at the end of each epoch (epoch e ↦ sum of the seconds of epochs 1…e). */
function epochEndTimes(epochs: readonly EpochMetrics[]): Map<number, number> {
  const out = new Map<number, number>()
  let total = 0
  for (const e of epochs) {
    total += e.seconds
    out.set(e.epoch, total)
  }
  return out
}

/**
 * Where a logged batch sits on the x axis. On the time axis: the seconds of the epochs before it
 * plus the images of its epoch so far at its epoch's speed (the batch records carry no clock).
 */
export function batchX(point: BatchPoint, mode: XAxisMode, run: Pick<ChartRun, 'series' | 'batchSize'>, ends = epochEndTimes(run.series.epochs)): number {
  if (mode === 'epoch') return point.x
  if (mode === 'step') return point.step
  const epoch = Math.floor(point.x - 1e-9) + 1
  const before = ends.get(epoch - 1) ?? 0
  const fraction = point.x - (epoch - 1)
  // step / x is the batches per epoch, so this is the batch's number within its epoch.
  const stepsInEpoch = point.x > 0 ? Math.round((point.step / point.x) * fraction) : 0
  return before + (point.imagesPerSecond > 0 ? (stepsInEpoch * run.batchSize) / point.imagesPerSecond : 0)
}

/** Where an epoch's end sits on the x axis (its last batch's step; its training time). */
export function epochX(epoch: EpochMetrics, mode: XAxisMode, run: Pick<ChartRun, 'series'>, ends = epochEndTimes(run.series.epochs)): number {
  if (mode === 'epoch') return epoch.epoch
  if (mode === 'time') return ends.get(epoch.epoch) ?? 0
  // Steps per epoch from any logged batch (every batch of a run has the same count).
  const b = run.series.batches.find((p) => p.x > 0)
  const perEpoch = b ? Math.round(b.step / b.x) : 0
  return perEpoch > 0 ? epoch.epoch * perEpoch : epoch.epoch
}

/** Points with y smoothed (non-finite y dropped first; a log axis also drops y ≤ 0, which it cannot show). */
function smoothed(points: Point[], settings: ChartSettings, positiveOnly: boolean): Point[] {
  const kept = points.filter((p) => Number.isFinite(p.y) && (!positiveOnly || p.y > 0))
  const ys = smoothEma(kept.map((p) => p.y), settings.smoothing)
  return kept.map((p, i) => ({ x: p.x, y: ys[i] as number }))
}

const colorOf = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length] as string

/**
 * An epoch figure of every run: one run shows its train and validation lines; several show each
 * run's validation line (solid) and training line (dashed) in the run's colour.
 */
export function epochChartData(runs: readonly ChartRun[], settings: ChartSettings, figure: 'acc' | 'loss'): LineData {
  const datasets: LineDataset[] = []
  const positiveOnly = figure === 'loss' && settings.logY
  runs.forEach((run, i) => {
    const ends = epochEndTimes(run.series.epochs)
    const pts = (pick: (e: EpochMetrics) => number | null): Point[] =>
      run.series.epochs.flatMap((e) => {
        const y = pick(e)
        return y === null ? [] : [{ x: epochX(e, settings.x, run, ends), y }]
      })
    const train = smoothed(pts((e) => (figure === 'acc' ? e.trainAcc : e.trainLoss)), settings, positiveOnly)
    const val = smoothed(pts((e) => (figure === 'acc' ? e.valAcc : e.valLoss)), settings, positiveOnly)
    if (runs.length === 1) {
      datasets.push(line(`train ${figure}`, colorOf(0), train), line(`val ${figure}`, colorOf(1), val))
    } else {
      datasets.push(line(`${run.label} · val`, colorOf(i), val), line(`${run.label} · train`, colorOf(i), train, { borderDash: [5, 4], borderWidth: 1.5 }))
    }
  })
  return { datasets }
}

/** Training loss per logged batch, one line per run (smoothed). */
export function batchChartData(runs: readonly ChartRun[], settings: ChartSettings): LineData {
  return {
    datasets: runs.map((run, i) => {
      const ends = epochEndTimes(run.series.epochs)
      const pts = smoothed(run.series.batches.map((b) => ({ x: batchX(b, settings.x, run, ends), y: b.loss })), settings, settings.logY)
      return line(runs.length === 1 ? 'batch loss' : run.label, colorOf(runs.length === 1 ? 2 : i), pts, { borderWidth: 1.5, pointRadius: pts.length > 60 ? 0 : 2 })
    })
  }
}

/**
 * The x axis of the epoch charts. On the epoch axis it spans the runs' configured epochs with whole
 * ticks; a one-epoch run gets 0.5 … 1.5 so its single point sits in the middle (never an empty 1–2).
 */
export function xAxis(runs: readonly ChartRun[], settings: ChartSettings, kind: 'epoch' | 'batch'): NonNullable<ChartOptions<'line'>['scales']>[string] {
  const title = { display: true, text: X_AXIS_TITLES[settings.x] }
  if (settings.x !== 'epoch') return { type: 'linear', title, ...(settings.x === 'step' ? { ticks: { precision: 0 } } : {}) }
  const epochs = Math.max(1, ...runs.map((r) => Math.max(r.epochs, r.series.epochs.length)))
  if (kind === 'batch') return { type: 'linear', min: 0, max: epochs, title }
  // Whole epochs only: the half-epoch margins of a one-epoch axis get no label.
  const ticks = { stepSize: 1, callback: (v: number | string) => (Number.isInteger(Number(v)) ? String(v) : '') }
  return epochs === 1 ? { type: 'linear', min: 0.5, max: 1.5, title, ticks } : { type: 'linear', min: 1, max: epochs, title, ticks: { precision: 0 } }
}

/** The loss axis: linear or logarithmic (a log axis has no 0). */
export function lossAxis(settings: ChartSettings): NonNullable<ChartOptions<'line'>['scales']>[string] {
  return settings.logY ? { type: 'logarithmic', title: { display: true, text: 'loss (log)' } } : { type: 'linear', title: { display: true, text: 'loss' } }
}

/** Whether any run has a finished epoch to draw (else the epoch charts say why they are empty). */
export function hasEpochs(runs: readonly ChartRun[]): boolean {
  return runs.some((r) => r.series.epochs.length > 0)
}
