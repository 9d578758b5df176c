/**
 * A feature study's result as chart data and CSV tables: few-shot accuracy vs k (mean with a ± std
 * band, a 95 % interval error bar and every draw), learning curves per k, probe accuracy vs depth,
 * accuracy vs temperature, and the warnings where a drawn trend is within the uncertainty.
 */
import type { ChartData, ChartOptions } from 'chart.js'
import { studyWarnings, type FeatureProgress, type FeatureStudyResult, type HeadCurvePoint } from '../../../shared/features'
import { SERIES_COLORS } from './chart-setup'
import { toCsv, type CsvColumn } from './csv'

type LineData = ChartData<'line', { x: number; y: number | null }[]>
type CategoryData = ChartData<'line', (number | null)[], string>

/** Label of the error-bar series (Wilson 95 % interval of each accuracy on the test set). */
export const INTERVAL_LABEL = '95% interval (Wilson, test set)'

/** A point's Wilson 95 % interval; null for a result stored before intervals were reported. */
const ciOf = (p: { ci95?: [number, number] }): [number, number] | null => p.ci95 ?? null

/**
 * Error bars as one series: per point a vertical segment lo → hi, then a null that breaks the line
 * before the next point. 'line' point markers (short horizontal strokes) draw the caps.
 */
function errorBars<X extends number | string>(points: { x: X; ci: [number, number] | null }[], color: string) {
  const data = points.flatMap((p) => (p.ci ? [{ x: p.x, y: p.ci[0] }, { x: p.x, y: p.ci[1] }, { x: p.x, y: null }] : []))
  return { label: INTERVAL_LABEL, data, borderColor: color, backgroundColor: color, borderWidth: 1.5, pointStyle: 'line' as const, pointRadius: 6, pointHitRadius: 4, spanGaps: false }
}

const BAND_ALPHA = '33' // hex alpha of a ± std band (≈ 20 %)
const MEAN_COLOR = SERIES_COLORS[0] as string
const DRAW_COLOR = SERIES_COLORS[1] as string

/** Band datasets carry an empty label; the legend leaves them out. */
export const LEGEND_WITHOUT_BANDS = { labels: { filter: (item: { text: string }) => item.text !== '' } }

const percentAxis = (title: string): Record<string, unknown> => ({ min: 0, max: 1, title: { display: true, text: title }, ticks: { callback: (v: number | string) => `${Math.round(Number(v) * 100)}%` } })

function band<T>(points: T[], lower: (p: T) => unknown, upper: (p: T) => unknown, color: string): LineData['datasets'] {
  const common = { borderWidth: 0, pointRadius: 0, pointHitRadius: 0, backgroundColor: `${color}${BAND_ALPHA}` }
  return [
    { ...common, label: '', data: points.map(lower) as { x: number; y: number }[], fill: false },
    { ...common, label: '', data: points.map(upper) as { x: number; y: number }[], fill: '-1' }
  ]
}

/** Test accuracy vs k: the mean over draws, a ± 1 std band, and each draw as a dot. */
export function fewShotData(result: FeatureStudyResult): LineData {
  const shots = result.shots
  return {
    datasets: [
      ...band(
        shots,
        (s) => ({ x: s.k, y: Math.max(0, s.meanAcc - s.stdAcc) }),
        (s) => ({ x: s.k, y: Math.min(1, s.meanAcc + s.stdAcc) }),
        MEAN_COLOR
      ),
      { label: 'mean test accuracy (± 1 std)', data: shots.map((s) => ({ x: s.k, y: s.meanAcc })), borderColor: MEAN_COLOR, backgroundColor: MEAN_COLOR, pointRadius: 4, borderWidth: 2 },
      errorBars(shots.map((s) => ({ x: s.k, ci: ciOf(s) })), MEAN_COLOR),
      {
        label: 'each draw',
        data: shots.flatMap((s) => s.accs.map((a) => ({ x: s.k, y: a }))),
        showLine: false,
        borderColor: DRAW_COLOR,
        backgroundColor: `${DRAW_COLOR}99`,
        pointRadius: 2.5,
        pointStyle: 'circle'
      }
    ]
  }
}

/** Few-shot chart axes: k on x (the ks tried, padded), accuracy on y. */
export function fewShotOptions(result: FeatureStudyResult): ChartOptions<'line'> {
  const ks = result.shots.map((s) => s.k)
  const chance = result.classNames.length > 0 ? 1 / result.classNames.length : 0
  return {
    scales: {
      x: { type: 'linear', min: 0, max: Math.max(...ks, 1) + 1, title: { display: true, text: 'k (training images per class)' }, ticks: { precision: 0 } },
      y: percentAxis(`test accuracy (chance ${Math.round(chance * 100)}%)`)
    },
    plugins: { legend: LEGEND_WITHOUT_BANDS }
  } as ChartOptions<'line'>
}

export type CurveMetric = 'acc' | 'loss'

/** Train (dashed) and test (solid) curves of the head per k, averaged over draws. */
export function shotCurvesData(result: FeatureStudyResult, metric: CurveMetric): LineData {
  const pick = (p: HeadCurvePoint, split: 'train' | 'test'): number => (split === 'train' ? (metric === 'acc' ? p.trainAcc : p.trainLoss) : metric === 'acc' ? p.testAcc : p.testLoss)
  return {
    datasets: result.shots.flatMap((s, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length] as string
      return (['train', 'test'] as const).map((split) => ({
        label: `k=${s.k} ${split}`,
        data: s.curve.map((p) => ({ x: p.epoch, y: pick(p, split) })),
        borderColor: color,
        backgroundColor: color,
        borderDash: split === 'train' ? [5, 4] : [],
        borderWidth: split === 'train' ? 1.5 : 2,
        pointRadius: 0
      }))
    })
  }
}

/**
 * Top of the loss axis: the largest loss after the first tenth of the iterations, with room above,
 * when the first steps reach more than three times that. The first steps on unstandardized features can start thousands of times higher and flatten the rest;
 * null when nothing needs clipping.
 */
export function lossAxisMax(result: FeatureStudyResult): number | null {
  const all = result.shots.flatMap((s) => s.curve.flatMap((p) => [p.trainLoss, p.testLoss])).filter(Number.isFinite)
  const late = result.shots.flatMap((s) => {
    const skip = Math.ceil(s.curve.length / 10)
    return s.curve.slice(skip).flatMap((p) => [p.trainLoss, p.testLoss])
  }).filter(Number.isFinite)
  if (all.length === 0 || late.length === 0) return null
  const lateMax = Math.max(...late)
  // Only a start several times above the rest is worth hiding; ordinary curves keep their first points.
  return Math.max(...all) > 3 * lateMax ? lateMax * 1.25 : null
}

export function shotCurvesOptions(result: FeatureStudyResult, metric: CurveMetric): ChartOptions<'line'> {
  const epochs = Math.max(1, ...result.shots.map((s) => s.curve.at(-1)?.epoch ?? 1))
  const clip = metric === 'loss' ? lossAxisMax(result) : null
  return {
    scales: {
      x: { type: 'linear', min: 0, max: epochs, title: { display: true, text: 'iteration (epochs over the k-shot set)' }, ticks: { precision: 0 } },
      y: metric === 'acc' ? percentAxis('accuracy') : { min: 0, ...(clip === null ? {} : { max: clip }), title: { display: true, text: clip === null ? 'cross-entropy loss' : 'cross-entropy loss (first steps clipped)' } }
    },
    plugins: { legend: { labels: { boxWidth: 10, font: { size: 11 } } } }
  } as ChartOptions<'line'>
}

/**
 * Error bars on a category axis: Chart.js places {x: label, y} points at their label (a numeric x
 * would be taken as the point's own index), but its types only allow numeric x, hence the cast.
 */
function categoryBars(points: { x: string; ci: [number, number] | null }[], color: string): CategoryData['datasets'][number] {
  return errorBars(points, color) as unknown as CategoryData['datasets'][number]
}

function categoryBand(values: { acc: number; stdAcc: number }[], color: string): CategoryData['datasets'] {
  const common = { borderWidth: 0, pointRadius: 0, pointHitRadius: 0, backgroundColor: `${color}${BAND_ALPHA}` }
  return [
    { ...common, label: '', data: values.map((v) => Math.max(0, v.acc - v.stdAcc)), fill: false },
    { ...common, label: '', data: values.map((v) => Math.min(1, v.acc + v.stdAcc)), fill: '-1' }
  ]
}

/** Probe accuracy in depth order, one labelled point per probed layer. */
export function probeData(result: FeatureStudyResult): CategoryData {
  const probes = [...result.probes].sort((a, b) => a.depth - b.depth)
  return {
    labels: probes.map((p) => p.layer),
    datasets: [
      ...categoryBand(probes, MEAN_COLOR),
      { label: 'probe test accuracy (± 1 std)', data: probes.map((p) => p.acc), borderColor: MEAN_COLOR, backgroundColor: MEAN_COLOR, pointRadius: 4, borderWidth: 2 },
      categoryBars(probes.map((p) => ({ x: p.layer, ci: ciOf(p) })), MEAN_COLOR)
    ]
  }
}

/** Accuracy per temperature, T in the order tried. */
export function temperatureData(result: FeatureStudyResult): CategoryData {
  const color = SERIES_COLORS[2] as string
  return {
    labels: result.temperatures.map((t) => `T=${t.T}`),
    datasets: [
      ...categoryBand(result.temperatures, color),
      { label: 'test accuracy (± 1 std)', data: result.temperatures.map((t) => t.acc), borderColor: color, backgroundColor: color, pointRadius: 4, borderWidth: 2 },
      categoryBars(result.temperatures.map((t) => ({ x: `T=${t.T}`, ci: ciOf(t) })), color)
    ]
  }
}

export function categoryOptions(result: FeatureStudyResult, xTitle: string): ChartOptions<'line'> {
  const chance = result.classNames.length > 0 ? 1 / result.classNames.length : 0
  return {
    // offset: a single probe or temperature sits mid-axis, not on the edge.
    scales: { x: { type: 'category', offset: true, title: { display: true, text: xTitle } }, y: percentAxis(`test accuracy (chance ${Math.round(chance * 100)}%)`) },
    plugins: { legend: LEGEND_WITHOUT_BANDS }
  } as ChartOptions<'line'>
}

/** Points on a chart's main series (the one the legend shows first), for tests and the e2e check. */
export function mainPointCount(data: { datasets: { label?: string; data: unknown[] }[] }): number {
  return data.datasets.find((d) => d.label)?.data.length ?? 0
}

/** The points a study's charts connect whose difference is within their uncertainty, in words. */
export function trendWarnings(result: FeatureStudyResult): string[] {
  // Recomputed rather than read from result.warnings: results stored before warnings existed get them too.
  return studyWarnings(result)
}

/** "41.2% ± 1.3%": an accuracy with its std over draws. */
export function formatAccStd(acc: number, std: number): string {
  return `${(100 * acc).toFixed(1)}% ± ${(100 * std).toFixed(1)}%`
}

/** "38.1–44.3%": a 95 % interval; '—' when the result predates intervals. */
export function formatInterval(ci: [number, number] | undefined): string {
  return ci ? `${(100 * ci[0]).toFixed(1)}–${(100 * ci[1]).toFixed(1)}%` : '—'
}

/** The test set in words: "5,000 test images (every test image of the classes)". */
export function testSetText(result: FeatureStudyResult): string {
  const n = result.testImages as number | undefined
  const how = result.testPerClass === null ? 'every test image of the classes' : `${result.testPerClass} per class`
  return n === undefined ? `${result.testPerClass} test images per class` : `${n.toLocaleString('en-US')} test images (${how})`
}

const round = (v: number | null | undefined, digits = 4): number | null => (v === null || v === undefined ? null : Number(v.toFixed(digits)))
const ciLow = (p: { ci95?: [number, number] }): number | null => round(p.ci95?.[0])
const ciHigh = (p: { ci95?: [number, number] }): number | null => round(p.ci95?.[1])
const testImages = (p: { testImages?: number }): number | null => p.testImages ?? null

const SHOT_COLUMNS: CsvColumn<FeatureStudyResult['shots'][number]>[] = [
  { header: 'k', value: (s) => s.k },
  { header: 'mean_test_acc', value: (s) => round(s.meanAcc) },
  { header: 'std_test_acc', value: (s) => round(s.stdAcc) },
  { header: 'ci95_low', value: ciLow },
  { header: 'ci95_high', value: ciHigh },
  { header: 'test_images', value: testImages },
  { header: 'draws', value: (s) => s.accs.length },
  { header: 'draw_accs', value: (s) => s.accs.map((a) => round(a)).join(' ') }
]

const PROBE_COLUMNS: CsvColumn<FeatureStudyResult['probes'][number]>[] = [
  { header: 'layer', value: (p) => p.layer },
  { header: 'depth', value: (p) => p.depth },
  { header: 'dims', value: (p) => p.dims },
  { header: 'test_acc', value: (p) => round(p.acc) },
  { header: 'std_test_acc', value: (p) => round(p.stdAcc) },
  { header: 'ci95_low', value: ciLow },
  { header: 'ci95_high', value: ciHigh },
  { header: 'test_images', value: testImages }
]

const TEMPERATURE_COLUMNS: CsvColumn<FeatureStudyResult['temperatures'][number]>[] = [
  { header: 'T', value: (t) => t.T },
  { header: 'test_acc', value: (t) => round(t.acc) },
  { header: 'std_test_acc', value: (t) => round(t.stdAcc) },
  { header: 'ci95_low', value: ciLow },
  { header: 'ci95_high', value: ciHigh },
  { header: 'test_images', value: testImages }
]

interface CurveRow extends HeadCurvePoint {
  k: number
}

const CURVE_COLUMNS: CsvColumn<CurveRow>[] = [
  { header: 'k', value: (r) => r.k },
  { header: 'epoch', value: (r) => r.epoch },
  { header: 'train_loss', value: (r) => round(r.trainLoss, 5) },
  { header: 'train_acc', value: (r) => round(r.trainAcc) },
  { header: 'test_loss', value: (r) => round(r.testLoss, 5) },
  { header: 'test_acc', value: (r) => round(r.testAcc) }
]

/** The study's tables as CSV texts, keyed by what they hold. */
export function featureCsv(result: FeatureStudyResult): { shots: string; curves: string; probes: string; temperatures: string; timing: string } {
  const timing: CsvColumn<FeatureStudyResult>[] = [
    { header: 'source', value: (r) => r.source },
    { header: 'layer', value: (r) => r.layer },
    { header: 'pooling', value: (r) => r.pooling },
    { header: 'backend', value: (r) => r.backend },
    { header: 'timed_images', value: (r) => r.timedImages },
    { header: 'cached_epoch_s', value: (r) => round(r.headEpochSeconds, 6) },
    { header: 'full_epoch_s', value: (r) => round(r.fullEpochSeconds, 6) },
    { header: 'speedup', value: (r) => round(r.speedup, 2) },
    { header: 'cache_build_s', value: (r) => round(r.cacheSeconds, 3) },
    { header: 'cache_hits', value: (r) => r.cacheHits },
    { header: 'cache_misses', value: (r) => r.cacheMisses }
  ]
  return {
    shots: toCsv(SHOT_COLUMNS, result.shots),
    curves: toCsv(
      CURVE_COLUMNS,
      result.shots.flatMap((s) => s.curve.map((p) => ({ ...p, k: s.k })))
    ),
    probes: toCsv(PROBE_COLUMNS, result.probes),
    temperatures: toCsv(TEMPERATURE_COLUMNS, result.temperatures),
    timing: toCsv(timing, [result])
  }
}

/** Seconds as milliseconds with sensible digits ("0.42 ms", "38 ms", "1.2 s"). */
export function formatEpochTime(seconds: number | null): string {
  if (seconds === null) return '—'
  if (seconds >= 10) return `${seconds.toFixed(0)} s`
  if (seconds >= 1) return `${seconds.toFixed(1)} s`
  const ms = seconds * 1000
  return ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`
}

/** "37× faster" (one decimal below 10×). */
export function formatSpeedup(speedup: number | null): string {
  if (speedup === null) return '—'
  return `${speedup >= 10 ? speedup.toFixed(0) : speedup.toFixed(1)}×`
}

const PHASE_LABELS: Record<FeatureProgress['phase'], string> = {
  loading: 'Loading the network',
  caching: 'Caching activations',
  'few-shot': 'Few-shot heads',
  probes: 'Layer probes',
  temperature: 'Temperature heads',
  timing: 'Timing epochs'
}

const PHASE_UNITS: Record<FeatureProgress['phase'], string> = { loading: 'steps', caching: 'images', 'few-shot': 'heads', probes: 'heads', temperature: 'heads', timing: 'epochs' }

/** The progress line under the bar: phase, done/total in the phase's unit, and a rate while caching. */
export function progressText(progress: FeatureProgress, ratePerSecond: number | null): string {
  const parts = [PHASE_LABELS[progress.phase], `${progress.done}/${progress.total} ${PHASE_UNITS[progress.phase]}`]
  if (ratePerSecond !== null && Number.isFinite(ratePerSecond) && ratePerSecond > 0) {
    parts.push(`${ratePerSecond >= 100 ? ratePerSecond.toFixed(0) : ratePerSecond.toFixed(1)} ${PHASE_UNITS[progress.phase]}/s`)
  }
  return parts.join(' · ')
}
