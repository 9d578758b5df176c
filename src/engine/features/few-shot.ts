import { wilsonInterval, type HeadCurvePoint, type HeadOptions, type ShotResult } from '../../shared/features'
import { indicesByClass } from '../data/split'
import { createRandom, deriveSeed, shuffleInPlace } from '../random'
import { checkCancelled } from './cancel'
import { memorySource, trainHead, type SoftTargets } from './head'

/** Labelled rows of a cached pool: labels in memory, features read on demand. */
export interface RowPool {
  labels: Int32Array
  readRows(rows: ArrayLike<number>): Promise<Float32Array>
  meta: { dims: number }
}

/** A test set's features in memory. */
export interface TestMatrix {
  x: Float32Array
  labels: Int32Array
}

/**
 * Picks k rows of every class for draw number `draw`. Each class is shuffled once per draw and the
 * first k taken, so within a draw the k = 2 images are among the k = 4 ones: curves over k compare
 * more data, not different luck.
 * @throws naming the class when it has fewer than k rows
 */
export function drawShots(labels: Int32Array, classNames: readonly string[], k: number, draw: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`)
  const rows: number[] = []
  indicesByClass(labels, classNames.length).forEach((members, label) => {
    if (members.length < k) throw new Error(`class '${classNames[label]}' has ${members.length} training images in the pool; k = ${k} needs ${k}`)
    shuffleInPlace(members, createRandom(deriveSeed(seed, `shots:${draw}:${classNames[label]}`)))
    rows.push(...members.slice(0, k))
  })
  return Int32Array.from(rows).sort()
}

export interface DrawsInput {
  pool: RowPool
  test: TestMatrix
  classNames: string[]
  /** Images per class; null trains on the whole pool (one draw is then enough). */
  k: number | null
  draws: number
  seed: number
  head: HeadOptions
  temperature?: number
  /** Soft targets for the given pool rows (distillation). */
  softFor?(rows: Int32Array): Promise<SoftTargets>
  /** Called after each head is trained. */
  onHead?(): void
  /** Checked before every head: an aborted study stops with an error. */
  signal?: AbortSignal
}


export interface DrawsOutcome {
  accs: number[]
  /** Test images every head was evaluated on. */
  testImages: number
  curve: HeadCurvePoint[]
  /** Mean seconds per head epoch (training only). */
  epochSeconds: number
}

/** Trains one head per seeded draw of k images per class and evaluates each on the fixed test set. */
export async function runDraws(input: DrawsInput): Promise<DrawsOutcome> {
  const draws = input.k === null ? 1 : input.draws
  const accs: number[] = []
  const curves: HeadCurvePoint[][] = []
  let seconds = 0
  for (let draw = 0; draw < draws; draw++) {
    await checkCancelled(input.signal)
    const rows = input.k === null ? Int32Array.from(input.pool.labels.keys()) : drawShots(input.pool.labels, input.classNames, input.k, draw, input.seed)
    const x = await input.pool.readRows(rows)
    const labels = Int32Array.from(rows, (r) => input.pool.labels[r])
    const result = await trainHead({
      train: memorySource(x, labels, input.pool.meta.dims),
      test: input.test,
      numClasses: input.classNames.length,
      options: { ...input.head, seed: deriveSeed(input.head.seed, `draw:${draw}`) },
      temperature: input.temperature,
      soft: input.softFor ? await input.softFor(rows) : undefined
    })
    accs.push(result.testAcc)
    curves.push(result.curve)
    seconds += result.epochSeconds
    input.onHead?.()
  }
  return { accs, testImages: input.test.labels.length, curve: meanCurve(curves), epochSeconds: seconds / draws }
}

/** Few-shot curve: test accuracy (mean and spread over draws) for every k. */
export async function runFewShot(input: Omit<DrawsInput, 'k'> & { shots: number[] }): Promise<{ shots: ShotResult[]; epochSeconds: Map<number, number> }> {
  const shots: ShotResult[] = []
  const epochSeconds = new Map<number, number>()
  for (const k of input.shots) {
    const outcome = await runDraws({ ...input, k })
    const { acc, stdAcc, ci95, testImages } = summarizeAccuracy(outcome)
    shots.push({ k, meanAcc: acc, stdAcc, ci95, testImages, accs: outcome.accs, curve: outcome.curve })
    epochSeconds.set(k, outcome.epochSeconds)
  }
  return { shots, epochSeconds }
}

/** Mean accuracy over draws with both uncertainties: std over draws and the test set's Wilson 95 % interval. */
export function summarizeAccuracy(outcome: Pick<DrawsOutcome, 'accs' | 'testImages'>): { acc: number; stdAcc: number; ci95: [number, number]; testImages: number } {
  const { mean, std } = meanStd(outcome.accs)
  return { acc: mean, stdAcc: std, ci95: wilsonInterval(mean, outcome.testImages), testImages: outcome.testImages }
}

/** Mean and sample standard deviation (0 for fewer than two values). */
export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
  if (values.length < 2) return { mean, std: 0 }
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)
  return { mean, std: Math.sqrt(variance) }
}

/** Point-wise mean of several learning curves of equal length. */
export function meanCurve(curves: HeadCurvePoint[][]): HeadCurvePoint[] {
  if (curves.length === 0) return []
  const keys = ['trainLoss', 'trainAcc', 'testLoss', 'testAcc'] as const
  return curves[0].map((point, i) => {
    const out: HeadCurvePoint = { ...point }
    for (const key of keys) out[key] = curves.reduce((a, c) => a + c[i][key], 0) / curves.length
    return out
  })
}
