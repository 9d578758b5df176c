import * as tf from '@tensorflow/tfjs'
import type { HeadCurvePoint, HeadOptions } from '../../shared/features'
import { createRandom, deriveSeed, shuffleInPlace } from '../random'
import { headLossAndGradients } from './head-gradient'

/** Defaults for a softmax head on frozen features: Adam, because feature scales differ wildly between layers and networks. */
export const DEFAULT_HEAD_OPTIONS: Readonly<HeadOptions> = Object.freeze({
  epochs: 100,
  lr: 0.01,
  batchSize: 256,
  weightDecay: 1e-4,
  standardize: true,
  seed: 0
})

/**
 * Where a head's training rows come from: cached features in memory, or (for the report's first
 * approach) a forward pass through the frozen network on every read.
 */
export interface FeatureSource {
  rows: number
  dims: number
  labels: Int32Array
  /** Features of the given rows, rows × dims. */
  read(rows: Int32Array): Float32Array | Promise<Float32Array>
  /** The whole matrix, when it is in memory (lets a head standardize it once rather than every read). */
  matrix?: Float32Array
}

/** A source over a feature matrix already in memory. */
export function memorySource(x: Float32Array, labels: Int32Array, dims: number): FeatureSource {
  if (x.length !== labels.length * dims) throw new Error(`feature matrix has ${x.length} values, expected ${labels.length} rows × ${dims}`)
  return {
    rows: labels.length,
    dims,
    labels,
    matrix: x,
    read(rows) {
      const out = new Float32Array(rows.length * dims)
      for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * dims, (rows[i] + 1) * dims), i * dims)
      return out
    }
  }
}

/**
 * Per-dimension centre and scale of the training features: features are standardized as
 * (x − mean) / std. `std` is each dimension's own std, except where that would blow test rows up.
 */
export interface Standardizer {
  mean: Float32Array
  std: Float32Array
  /** Dimensions that were constant on the training rows (they got the layer's typical scale, see measureStandardizer). */
  constantDims: number
}

/**
 * Below this fraction of the layer's typical std, a dimension's own std is not trusted as its scale.
 * A ReLU dimension that is nonzero in one of 20 training rows has a tiny std; dividing by it sends a test
 * image with an ordinary value there to hundreds, as dangerous as a constant dimension. 0.1 caps that
 * amplification at 10× the layer's scale while leaving every dimension that really varies alone.
 */
export const MIN_SCALE_FRACTION = 0.1

/**
 * Measures a standardizer over a feature matrix (the training rows).
 *
 * Constant dimensions are centred but not scaled by their own std (which is 0): they are divided by the
 * layer's typical std instead (the root mean square of the varying dimensions' stds, 1 when none vary).
 * Why not a tiny floor (the old 1e-6): ReLU features are sparse, and with a few shots many dimensions
 * are 0 on every training row; a test image with 0.5 there became 500,000, and the head's weights on
 * those dimensions never trained (their inputs were 0), so test logits became huge random numbers.
 * Why not drop them: a kept dimension costs nothing (its standardized training value is 0, so only
 * weight decay moves its weight) and keeps every head the layer's width, which probes report and the
 * timed full pass shares. Why the typical std rather than 1: raw feature scales differ wildly between
 * layers and preprocessings (caffe VGG16 activations reach hundreds), so "1" would not mean "unscaled"
 * relative to the standardized dimensions. Nearly constant dimensions are floored at
 * MIN_SCALE_FRACTION of the same typical std.
 */
export function measureStandardizer(x: Float32Array, dims: number): Standardizer {
  const rows = x.length / dims
  const mean = new Float64Array(dims)
  const sq = new Float64Array(dims)
  for (let r = 0; r < rows; r++) for (let d = 0; d < dims; d++) mean[d] += x[r * dims + d] / rows
  for (let r = 0; r < rows; r++) for (let d = 0; d < dims; d++) sq[d] += (x[r * dims + d] - mean[d]) ** 2
  const own = Float64Array.from(sq, (s) => Math.sqrt(s / Math.max(1, rows)))
  // "Constant" relative to the largest std, so float32 rounding of a constant column (±1 ulp) counts as constant.
  const largest = own.reduce((a, v) => Math.max(a, v), 0)
  const isConstant = (s: number): boolean => !(s > 1e-6 * largest)
  let sumSq = 0
  let varying = 0
  for (const s of own) {
    if (isConstant(s)) continue
    sumSq += s * s
    varying++
  }
  const typical = varying > 0 ? Math.sqrt(sumSq / varying) : 1
  const std = Float32Array.from(own, (s) => (isConstant(s) ? typical : Math.max(s, MIN_SCALE_FRACTION * typical)))
  return { mean: Float32Array.from(mean), std, constantDims: dims - varying }
}

/** Hinton's soft targets: the teacher's class probabilities at temperature T, for every training row. */
export interface SoftTargets {
  /** rows × classes probabilities, in the same row order as the training source. */
  probs: Float32Array
  T: number
  /** Weight of the soft loss; the hard-label loss gets 1 − alpha. */
  alpha: number
}

export interface TrainHeadInput {
  train: FeatureSource
  /** Evaluated after every epoch at T = 1; features in memory. */
  test?: { x: Float32Array; labels: Int32Array }
  numClasses: number
  options: HeadOptions
  /** Training divides the logits by T (evaluation always uses T = 1). Default 1. */
  temperature?: number
  soft?: SoftTargets
  /** Use these statistics instead of measuring them on the training rows (standardize only). */
  standardizer?: Standardizer
  onEpoch?(point: HeadCurvePoint): void
}

export interface HeadResult {
  curve: HeadCurvePoint[]
  testAcc: number
  testLoss: number
  /** Seconds in training steps (feature reads included, test evaluation excluded), per epoch on average. */
  epochSeconds: number
  /** The same, epoch by epoch (timing statistics robust to a busy machine take the median). */
  epochTimes: number[]
}

/**
 * Trains a linear softmax head (logits = xW + b) on features. Loss: cross-entropy with the labels on
 * logits / T; with soft targets, alpha · T² · CE(teacher_T, student_T) + (1 − alpha) · CE(labels, student_1)
 * (Hinton et al.: soft-target gradients shrink as 1/T², so T² keeps the two terms balanced across T).
 */
export async function trainHead(input: TrainHeadInput): Promise<HeadResult> {
  const { numClasses, options } = input
  const T = input.temperature ?? 1
  if (!(T > 0)) throw new Error(`temperature must be positive, got ${T}`)
  if (input.soft && input.soft.probs.length !== input.train.rows * numClasses) throw new Error('soft targets must have one row of class probabilities per training row')
  const std = options.standardize ? (input.standardizer ?? measureStandardizer(await input.train.read(allRows(input.train.rows)), input.train.dims)) : undefined
  // Standardizing in JS keeps two ops per step off the (op-overhead-bound) backend; features already
  // in memory are standardized once, a live source batch by batch as they are read.
  const train = !std ? input.train : input.train.matrix ? memorySource(standardize(input.train.matrix, std), input.train.labels, input.train.dims) : standardizedSource(input.train, std)
  const random = createRandom(deriveSeed(options.seed, 'head:shuffle'))
  const order = allRows(train.rows)
  const batchSize = Math.max(1, Math.min(options.batchSize, train.rows))

  const init = [tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, 'head:W') }).apply([train.dims, numClasses]), tf.zeros([numClasses])]
  const [W, b] = init.map((t) => tf.variable(t))
  tf.dispose(init) // a variable shares its initial value's data and keeps its own reference
  const testX = input.test ? tf.tensor2d(std ? standardize(input.test.x, std) : input.test.x, [input.test.labels.length, train.dims]) : undefined
  const testY = input.test ? tf.tensor1d(input.test.labels, 'int32') : undefined
  const optimizer = tf.train.adam(options.lr)
  const curve: HeadCurvePoint[] = []
  const epochTimes: number[] = []
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const epochStart = performance.now()
      shuffleInPlace(order, random)
      let lossSum = 0
      let correct = 0
      for (let start = 0; start < train.rows; start += batchSize) {
        const rows = order.subarray(start, start + batchSize)
        const features = await train.read(rows)
        const labels = Int32Array.from(rows, (r) => train.labels[r])
        const soft = input.soft ? gatherRows(input.soft.probs, rows, numClasses) : undefined
        const [loss, hits] = await headStep({ W, b, optimizer, features, labels, soft, dims: train.dims, numClasses, T, input, options })
        lossSum += loss * rows.length
        correct += hits
      }
      epochTimes.push((performance.now() - epochStart) / 1000)
      const test = testX && testY ? await evaluateHead(W, b, testX, testY, numClasses) : { loss: NaN, acc: NaN }
      const point = { epoch, trainLoss: lossSum / train.rows, trainAcc: correct / train.rows, testLoss: test.loss, testAcc: test.acc }
      curve.push(point)
      input.onEpoch?.(point)
    }
  } finally {
    optimizer.dispose()
    tf.dispose([W, b, testX as tf.Tensor, testY as tf.Tensor].filter(Boolean))
  }
  const last = curve.at(-1)
  return { curve, testAcc: last?.testAcc ?? NaN, testLoss: last?.testLoss ?? NaN, epochSeconds: epochTimes.reduce((a, t) => a + t, 0) / Math.max(1, epochTimes.length), epochTimes }
}

/** (x − mean) / std per dimension, into a new matrix. */
export function standardize(x: Float32Array, std: Standardizer): Float32Array {
  const dims = std.mean.length
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - std.mean[i % dims]) / std.std[i % dims]
  return out
}

function standardizedSource(source: FeatureSource, std: Standardizer): FeatureSource {
  return { rows: source.rows, dims: source.dims, labels: source.labels, read: async (rows) => standardize(await source.read(rows), std) }
}

interface StepArgs {
  W: tf.Variable
  b: tf.Variable
  optimizer: tf.Optimizer
  features: Float32Array
  labels: Int32Array
  soft?: Float32Array
  dims: number
  numClasses: number
  T: number
  input: TrainHeadInput
  options: HeadOptions
}

function oneHot(labels: Int32Array, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses)
  labels.forEach((label, i) => (out[i * numClasses + label] = 1))
  return out
}

/**
 * One Adam step with closed-form gradients; returns the batch's mean loss and number of correct
 * predictions (counted in JS from the logits). Loss and logits come back in one read: [loss, ...logits].
 */
async function headStep(a: StepArgs): Promise<[number, number]> {
  const n = a.labels.length
  const lossAndLogits = tf.tidy(() => {
    const x = tf.tensor2d(a.features, [n, a.dims])
    const y = tf.tensor2d(oneHot(a.labels, a.numClasses), [n, a.numClasses])
    const soft = a.input.soft ? { targets: tf.tensor2d(a.soft as Float32Array, [n, a.numClasses]), T: a.input.soft.T, alpha: a.input.soft.alpha } : undefined
    const { loss, dW, db, logits } = headLossAndGradients(x, a.W as tf.Tensor2D, a.b as tf.Tensor1D, y, { T: a.T, soft, weightDecay: a.options.weightDecay })
    a.optimizer.applyGradients({ [a.W.name]: dW, [a.b.name]: db })
    return tf.concat([tf.reshape(loss, [1]), tf.reshape(logits, [-1])])
  })
  const values = (await lossAndLogits.data()) as Float32Array
  lossAndLogits.dispose()
  return [values[0], countHits(values.subarray(1), a.labels, a.numClasses)]
}

function countHits(logits: ArrayLike<number>, labels: Int32Array, numClasses: number): number {
  let hits = 0
  for (let i = 0; i < labels.length; i++) {
    let best = 0
    for (let c = 1; c < numClasses; c++) if (logits[i * numClasses + c] > logits[i * numClasses + best]) best = c
    if (best === labels[i]) hits++
  }
  return hits
}

/** Loss and accuracy at T = 1 on prepared features (one read: [loss, acc]). */
async function evaluateHead(W: tf.Tensor, b: tf.Tensor, x: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): Promise<{ loss: number; acc: number }> {
  const lossAndAcc = tf.tidy(() => {
    const logits = tf.add(tf.matMul(x, W), b) as tf.Tensor2D
    const l = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, numClasses), tf.logSoftmax(logits)), 1)))
    const a = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'))
    return tf.stack([l, a])
  })
  const [loss, acc] = (await lossAndAcc.data()) as Float32Array
  lossAndAcc.dispose()
  return { loss, acc }
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i)
}

function gatherRows(matrix: Float32Array, rows: Int32Array, width: number): Float32Array {
  const out = new Float32Array(rows.length * width)
  for (let i = 0; i < rows.length; i++) out.set(matrix.subarray(rows[i] * width, (rows[i] + 1) * width), i * width)
  return out
}
