/**
 * How long a sweep will take, before it starts: images per epoch from the groups and the config,
 * speed from runs this project already measured — finished runs and the run training now; the same
 * architecture, width, input size and batch when there are such runs, else other shapes scaled by the
 * cost model below — and only before any run has measured a speed from the engine's backend and the
 * speeds measured on the development machine.
 */
import type { EngineBackend } from '../../../shared/contract'
import type { TrainConfig } from '../../../shared/train-config'

/**
 * Measured on a 2-core CPU, wasm backend, VGG11-BN at 32×32, batch 64, two data-parallel training
 * threads: 28–34 img/s at width 1, 320–380 at ¼, 470–515 at ⅛. Per thread at width 1, and the
 * exponent of 1/width that fits them roughly (small widths pay a fixed cost per op).
 */
const WASM_IMAGES_PER_SECOND_AT_WIDTH_1 = 15
const WIDTH_EXPONENT = 1.5
/** A rough GPU figure for width 1 until a run has measured it (a mid-range card, 32×32). */
const GPU_IMAGES_PER_SECOND_AT_WIDTH_1 = 1500
/** Relative cost of the conv stacks (FLOPs relative to VGG11). */
const ARCH_COST: Record<string, number> = { vgg11: 1, vgg13: 1.49, vgg16: 2.04, vgg19: 2.58 }
/** Validation is forward-only: about this many times faster per image than training. */
const VALIDATION_SPEEDUP = 3
/** Seconds a run spends starting: loading data, building the model, saving checkpoints. */
const RUN_OVERHEAD_SECONDS = 4

export interface SpeedEstimate {
  imagesPerSecond: number
  /** Where the figure comes from: this project's runs of the same shape, of other shapes scaled, the benchmark, a guess. */
  source: 'measured' | 'scaled' | 'benchmark' | 'guess'
  /** The source in a few words, shown beside the estimate. */
  label: string
  /** The source in a sentence, for the tooltip. */
  detail: string
}

/** A speed this project measured: a finished run's figure from run.json, or a running run's live one. */
export interface MeasuredSpeed {
  config: TrainConfig
  imagesPerSecond: number | null
}

const SOURCE_LABELS: Record<SpeedEstimate['source'], string> = {
  measured: 'measured in this project',
  scaled: "scaled from this project's runs",
  benchmark: 'benchmark',
  guess: 'guess'
}

/** FLOPs per image relative to VGG11 at 32×32, before the width. */
const shapeCost = (config: TrainConfig): number => (ARCH_COST[config.arch.replace(/_bn$/, '')] ?? 1) * (config.inputSize / 32) ** 2

/** How many times faster than width 1 a run of this width trains, per the width fit. */
const widthSpeedup = (config: TrainConfig): number => Math.pow(1 / Math.max(config.width, 1 / 64), WIDTH_EXPONENT)

/** Relative training cost of a config per image (the model's FLOPs relative to VGG11 at width 1, 32×32, per the width fit). */
function relativeCost(config: TrainConfig): number {
  return shapeCost(config) / widthSpeedup(config)
}

const sameShape = (a: TrainConfig, b: TrainConfig): boolean => a.arch === b.arch && a.width === b.width && a.inputSize === b.inputSize && a.batchSize === b.batchSize

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * Training speed for a config: the median of this project's measured speeds for the same shape of
 * network; else its other measured speeds scaled by the relative cost of the shapes (speed ∝ 1/cost);
 * only when nothing here has measured a speed, the backend's benchmark figure.
 */
export function estimateSpeed(config: TrainConfig, backend: EngineBackend | null, runs: readonly MeasuredSpeed[] = []): SpeedEstimate {
  const withSpeed = runs.filter((r): r is MeasuredSpeed & { imagesPerSecond: number } => r.imagesPerSecond !== null && Number.isFinite(r.imagesPerSecond) && r.imagesPerSecond > 0)
  const measured = withSpeed.filter((r) => sameShape(r.config, config)).map((r) => r.imagesPerSecond)
  const runsWord = (n: number): string => `${n} run${n > 1 ? 's' : ''}`
  if (measured.length > 0) {
    return { imagesPerSecond: median(measured), source: 'measured', label: SOURCE_LABELS.measured, detail: `the median of ${runsWord(measured.length)} of this project with this network, width and batch` }
  }
  if (withSpeed.length > 0) {
    const target = relativeCost(config)
    const scaled = withSpeed.map((r) => (r.imagesPerSecond * relativeCost(r.config)) / target)
    const widths = [...new Set(withSpeed.map((r) => r.config.width))].sort((a, b) => b - a).join(', ')
    return { imagesPerSecond: median(scaled), source: 'scaled', label: SOURCE_LABELS.scaled, detail: `${runsWord(withSpeed.length)} of this project at width ${widths}, scaled to width ${config.width} by model cost` }
  }
  const cost = shapeCost(config)
  const widthFactor = widthSpeedup(config)
  if (backend?.device === 'gpu') {
    return { imagesPerSecond: (GPU_IMAGES_PER_SECOND_AT_WIDTH_1 * Math.min(widthFactor, 4)) / cost, source: 'guess', label: SOURCE_LABELS.guess, detail: 'a rough GPU figure until the first run measures it' }
  }
  const threads = Math.max(1, backend?.threads ?? 1)
  const ips = (WASM_IMAGES_PER_SECOND_AT_WIDTH_1 * widthFactor * threads) / cost
  const source = backend ? 'benchmark' : 'guess'
  return {
    imagesPerSecond: ips,
    source,
    label: SOURCE_LABELS[source],
    detail: backend ? `${backend.label}: from the workbench's CPU benchmark, until a run of this project measures its speed` : 'backend not known yet: assuming a CPU'
  }
}

/** Training and validation images per epoch of one run. */
export function imagesPerEpoch(config: TrainConfig, classCount: number, availablePerClass: number | null): { train: number; val: number } | null {
  if (config.trainPerClass !== null) {
    const train = availablePerClass !== null ? Math.min(config.trainPerClass, Math.floor(availablePerClass * (1 - config.valFraction))) : config.trainPerClass
    const val = Math.round((train * config.valFraction) / Math.max(1e-9, 1 - config.valFraction))
    return { train: train * classCount, val: val * classCount }
  }
  if (availablePerClass === null) return null
  const train = Math.floor(availablePerClass * (1 - config.valFraction))
  return { train: train * classCount, val: (availablePerClass - train) * classCount }
}

export interface PlannedRunShape {
  /** Classes the run trains on. */
  classCount: number
  epochs: number
  /** Whether the run is already done (counts nothing). */
  done?: boolean
  /** Epochs already done (a resumed run only trains the rest). */
  epochsDone?: number
}

export interface SweepEstimate {
  seconds: number
  runs: number
  images: number
  speed: SpeedEstimate
}

/**
 * Seconds for a list of runs at one speed: every epoch trains its images and validates, plus a
 * fixed start-up per run. Null when the image count is unknown (a dataset of unknown size, no cap).
 */
export function estimateSweep(runs: readonly PlannedRunShape[], config: TrainConfig, availablePerClass: number | null, speed: SpeedEstimate): SweepEstimate | null {
  let seconds = 0
  let images = 0
  let count = 0
  for (const run of runs) {
    if (run.done) continue
    const perEpoch = imagesPerEpoch(config, run.classCount, availablePerClass)
    if (!perEpoch) return null
    const epochs = Math.max(0, run.epochs - (run.epochsDone ?? 0))
    images += perEpoch.train * epochs
    seconds += (epochs * (perEpoch.train + perEpoch.val / VALIDATION_SPEEDUP)) / speed.imagesPerSecond + RUN_OVERHEAD_SECONDS
    count++
  }
  return { seconds, runs: count, images, speed }
}
