/**
 * How long a sweep will take, before it starts: images per epoch from the groups and the config,
 * speed from runs this project already measured (same architecture, width, input size and batch),
 * else from the engine's backend and the speeds measured on the development machine.
 */
import type { EngineBackend } from '../../../shared/contract'
import type { RunRecord } from '../../../shared/project'
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
  /** Where the figure comes from, for the tooltip. */
  source: 'measured' | 'benchmark' | 'guess'
  detail: string
}

const sameShape = (a: TrainConfig, b: TrainConfig): boolean => a.arch === b.arch && a.width === b.width && a.inputSize === b.inputSize && a.batchSize === b.batchSize

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Training speed for a config: measured by this project's runs when it can be, else from the backend. */
export function estimateSpeed(config: TrainConfig, backend: EngineBackend | null, runs: readonly RunRecord[] = []): SpeedEstimate {
  const measured = runs.filter((r) => r.imagesPerSecond && r.imagesPerSecond > 0 && sameShape(r.config, config)).map((r) => r.imagesPerSecond as number)
  if (measured.length > 0) {
    return { imagesPerSecond: median(measured), source: 'measured', detail: `measured by ${measured.length} run${measured.length > 1 ? 's' : ''} of this project` }
  }
  const cost = (ARCH_COST[config.arch.replace(/_bn$/, '')] ?? 1) * (config.inputSize / 32) ** 2
  const widthFactor = Math.pow(1 / Math.max(config.width, 1 / 64), WIDTH_EXPONENT)
  if (backend?.device === 'gpu') {
    return { imagesPerSecond: (GPU_IMAGES_PER_SECOND_AT_WIDTH_1 * Math.min(widthFactor, 4)) / cost, source: 'guess', detail: 'a rough GPU figure until the first run measures it' }
  }
  const threads = Math.max(1, backend?.threads ?? 1)
  const ips = (WASM_IMAGES_PER_SECOND_AT_WIDTH_1 * widthFactor * threads) / cost
  return {
    imagesPerSecond: ips,
    source: backend ? 'benchmark' : 'guess',
    detail: backend ? `${backend.label}: from the workbench's CPU benchmark` : 'backend not known yet: assuming a CPU'
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
