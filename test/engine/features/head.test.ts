import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { drawShots, meanCurve, meanStd, runFewShot } from '../../../src/engine/features/few-shot'
import { DEFAULT_HEAD_OPTIONS, measureStandardizer, memorySource, standardize, trainHead, type Standardizer } from '../../../src/engine/features/head'
import { evaluateReference, fitReferenceLogReg } from '../../../src/engine/features/reference-logreg'
import { headLossAndGradients, type HeadObjective } from '../../../src/engine/features/head-gradient'
import { softmaxRows, softTargetsFor, teacherColumns } from '../../../src/engine/features/temperature'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await selectBackend('wasm')
})

/** Gaussian blobs: class c centred at a random point, spread `noise`. Separable for small noise. */
function blobs(perClass: number, classes: number, dims: number, noise: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const centres = createRandom(1234)
  const centre = Array.from({ length: classes }, () => Array.from({ length: dims }, () => centres.next() * 4 - 2))
  const random = createRandom(seed)
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next())
  const labels = Int32Array.from({ length: perClass * classes }, (_, i) => i % classes)
  const x = new Float32Array(labels.length * dims)
  labels.forEach((label, i) => {
    for (let d = 0; d < dims; d++) x[i * dims + d] = 10 * (centre[label][d] + noise * gauss()) + 50 // large offset and scale: standardization must cope
  })
  return { x, labels }
}

const head = { ...DEFAULT_HEAD_OPTIONS, epochs: 60, lr: 0.05 }

describe('softmax head on features', () => {
  it('learns separable features with real tfjs kernels, curves improve, no tensors leak', async () => {
    const train = blobs(20, 4, 16, 0.5, 1)
    const test = blobs(10, 4, 16, 0.5, 2)
    const before = tf.memory().numTensors
    const result = await trainHead({ train: memorySource(train.x, train.labels, 16), test, numClasses: 4, options: head })
    expect(tf.memory().numTensors).toBe(before)
    expect(result.curve).toHaveLength(60)
    expect(result.testAcc).toBeGreaterThan(0.9)
    expect(result.curve.at(-1)!.trainLoss).toBeLessThan(result.curve[0].trainLoss / 4)
    expect(result.epochSeconds).toBeGreaterThan(0)
  })

  it('training at temperature T divides the logits: the hard loss is computed on logits / T', async () => {
    const train = blobs(10, 3, 8, 0.3, 3)
    // One full-batch step from identical weights: at T the first loss is CE(softmax(z / T)), different from T = 1.
    const at1 = await trainHead({ train: memorySource(train.x, train.labels, 8), numClasses: 3, options: { ...head, epochs: 1, weightDecay: 0 } })
    const at100 = await trainHead({ train: memorySource(train.x, train.labels, 8), numClasses: 3, options: { ...head, epochs: 1, weightDecay: 0 }, temperature: 100 })
    // At T = 100 the logits are nearly flat: the loss is ≈ ln 3.
    expect(Math.abs(at100.curve[0].trainLoss - Math.log(3))).toBeLessThan(0.02)
    expect(Math.abs(at1.curve[0].trainLoss - Math.log(3))).toBeGreaterThan(0.1)
  })

  it('distillation follows the soft targets by their weight alpha (T² scaling keeps them in play at high T)', async () => {
    const train = blobs(15, 3, 8, 0.3, 4)
    const test = { x: train.x, labels: train.labels }
    // A "teacher" that is confidently wrong: it puts class c's mass on class c + 1.
    const teacherLogits = new Float32Array(train.labels.length * 3)
    train.labels.forEach((label, i) => (teacherLogits[i * 3 + ((label + 1) % 3)] = 8))
    const soft = (alpha: number) => ({ probs: softmaxRows(teacherLogits, 3, 4), T: 4, alpha })
    const onlySoft = await trainHead({ train: memorySource(train.x, train.labels, 8), test, numClasses: 3, options: head, soft: soft(1) })
    const onlyHard = await trainHead({ train: memorySource(train.x, train.labels, 8), test, numClasses: 3, options: head, soft: soft(0) })
    expect(onlySoft.testAcc).toBeLessThan(0.1) // learned the teacher's shifted labels
    expect(onlyHard.testAcc).toBeGreaterThan(0.9)
  })
})

/**
 * Sparse ReLU features like fc2's: each class lights up its own few dimensions, plus rare noise spikes.
 * With k rows per class most dimensions are 0 on every training row, while test rows have values there.
 */
function sparseRelu(perClass: number, classes: number, dims: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const random = createRandom(seed)
  const labels = Int32Array.from({ length: perClass * classes }, (_, i) => i % classes)
  const x = new Float32Array(labels.length * dims)
  labels.forEach((label, i) => {
    for (let d = 0; d < dims; d++) {
      const own = d % classes === label && d < 4 * classes // 4 informative dimensions per class
      const pre = own ? 1 + random.next() : random.next() < 0.05 ? 0.5 * random.next() : -1 // ReLU: mostly 0 elsewhere
      x[i * dims + d] = Math.max(0, pre)
    }
  })
  return { x, labels }
}

/** The standardizer before issue 21: each dimension's own std, floored at 1e-6. */
function oldStandardizer(x: Float32Array, dims: number): Standardizer {
  const rows = x.length / dims
  const mean = new Float32Array(dims)
  const std = new Float32Array(dims)
  for (let d = 0; d < dims; d++) {
    for (let r = 0; r < rows; r++) mean[d] += x[r * dims + d] / rows
    let sq = 0
    for (let r = 0; r < rows; r++) sq += (x[r * dims + d] - mean[d]) ** 2
    std[d] = Math.max(1e-6, Math.sqrt(sq / rows))
  }
  return { mean, std, constantDims: 0 }
}

describe('standardizing sparse ReLU features (issue 21: test losses of 10,000 at k = 2)', () => {
  const dims = 96
  const classes = 4
  const test = sparseRelu(50, classes, dims, 11)

  it.each([1, 2])('k = %i: constant training dimensions are centred, not blown up; test loss stays the order of the train loss', async (k) => {
    const train = sparseRelu(k, classes, dims, 20 + k)
    const std = measureStandardizer(train.x, dims)
    // Most dimensions are 0 on all k × 4 training rows, and some test row has a value in each of them.
    expect(std.constantDims).toBeGreaterThan(dims / 3)
    const constant = [...std.std.keys()].filter((d) => train.labels.every((_, r) => train.x[r * dims + d] === train.x[d]))
    expect(constant.length).toBe(std.constantDims)
    expect(constant.some((d) => test.labels.some((_, r) => test.x[r * dims + d] > 0))).toBe(true)
    const z = standardize(test.x, std)
    expect(Math.max(...z.map(Math.abs))).toBeLessThan(50) // the 1e-6 floor made these 500,000

    const result = await trainHead({ train: memorySource(train.x, train.labels, dims), test, numClasses: classes, options: DEFAULT_HEAD_OPTIONS })
    const first = result.curve[0]
    expect(first.testLoss).toBeLessThan(5 * first.trainLoss)
    expect(Math.max(...result.curve.map((p) => p.testLoss))).toBeLessThan(10)
    expect(result.testAcc).toBeGreaterThan(0.7) // the informative dimensions are shared by train and test

    // The same head on the old standardizer: the test loss explodes (this is what the checks above catch).
    const old = await trainHead({ train: memorySource(train.x, train.labels, dims), test, numClasses: classes, options: DEFAULT_HEAD_OPTIONS, standardizer: oldStandardizer(train.x, dims) })
    expect(old.curve[0].testLoss).toBeGreaterThan(100 * old.curve[0].trainLoss)
  })

  it('varying dimensions keep their own std; a dimension active on one row is floored at a tenth of the typical std', () => {
    // Column 0 varies (std 1), column 1 is constant 3, column 2 is nonzero on one row of 4.
    const x = Float32Array.from([0, 3, 0, 2, 3, 0, 0, 3, 0, 2, 3, 0.004])
    const std = measureStandardizer(x, 3)
    expect(Array.from(std.mean)).toEqual([1, 3, 0.001].map((v) => expect.closeTo(v, 6)))
    expect(std.std[0]).toBeCloseTo(1, 6)
    expect(std.constantDims).toBe(1)
    const typical = Math.sqrt((1 + 0.004 ** 2 * (3 / 16)) / 2) // RMS of the varying columns' stds
    expect(std.std[1]).toBeCloseTo(typical, 5)
    expect(std.std[2]).toBeCloseTo(0.1 * typical, 5)
    expect(measureStandardizer(new Float32Array(6).fill(7), 2)).toMatchObject({ constantDims: 2, std: Float32Array.from([1, 1]) })
  })
})

describe('reference logistic regression (full-batch L-BFGS, float64)', () => {
  it('converges to a stationary point of the head objective and agrees with the Adam head', async () => {
    const train = blobs(15, 4, 16, 1.5, 7)
    const test = blobs(40, 4, 16, 1.5, 8)
    const std = measureStandardizer(train.x, 16)
    const fit = fitReferenceLogReg(standardize(train.x, std), train.labels, 16, 4, { weightDecay: 1e-2 })
    expect(fit.converged).toBe(true)
    expect(fit.gradNorm).toBeLessThan(1e-6)
    const reference = evaluateReference(fit, standardize(test.x, std), test.labels)
    const head = await trainHead({ train: memorySource(train.x, train.labels, 16), test, numClasses: 4, options: { ...DEFAULT_HEAD_OPTIONS, weightDecay: 1e-2, epochs: 300 } })
    expect(Math.abs(head.testAcc - reference.acc)).toBeLessThan(0.05)
    expect(Math.abs(head.curve.at(-1)!.trainLoss - fit.loss)).toBeLessThan(0.02) // same objective, same minimum
  })
})

describe('closed-form head gradients', () => {
  /** The documented objective, differentiated by tfjs autodiff: the reference the closed form must match. */
  function autodiff(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, y: tf.Tensor2D, objective: HeadObjective) {
    const ce = (t: tf.Tensor, z: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(t, tf.logSoftmax(z)), 1)))
    const f = (Wv: tf.Tensor, bv: tf.Tensor) => {
      const z = tf.add(tf.matMul(x, Wv), bv)
      const s = objective.soft
      const main = s ? tf.add(tf.mul(ce(s.targets, tf.div(z, s.T)), s.alpha * s.T * s.T), tf.mul(ce(y, z), 1 - s.alpha)) : ce(y, tf.div(z, objective.T))
      return tf.add(main, tf.mul(tf.sum(tf.square(Wv)), objective.weightDecay / 2)) as tf.Scalar
    }
    const { value, grads } = tf.valueAndGrads(f)([W, b])
    return { loss: value, dW: grads[0], db: grads[1] }
  }

  it.each<[string, { T: number; weightDecay: number; soft?: { T: number; alpha: number } }]>([
    ['hard labels, T = 1', { T: 1, weightDecay: 0 }],
    ['hard labels at T = 3, with weight decay', { T: 3, weightDecay: 0.01 }],
    ['soft targets (T = 4, alpha = 0.7)', { T: 1, weightDecay: 0.001, soft: { T: 4, alpha: 0.7 } }]
  ])('match autodiff: %s', (_, spec) => {
    tf.tidy(() => {
      const x = tf.randomNormal([7, 6], 0, 1, 'float32', 1) as tf.Tensor2D
      const W = tf.randomNormal([6, 3], 0, 1, 'float32', 2) as tf.Tensor2D
      const b = tf.randomNormal([3], 0, 1, 'float32', 3) as tf.Tensor1D
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 2], 'int32'), 3) as tf.Tensor2D
      const targets = tf.softmax(tf.randomNormal([7, 3], 0, 2, 'float32', 4)) as tf.Tensor2D
      const objective: HeadObjective = { T: spec.T, weightDecay: spec.weightDecay, soft: spec.soft ? { ...spec.soft, targets } : undefined }
      const mine = headLossAndGradients(x, W, b, y, objective)
      const ref = autodiff(x, W, b, y, objective)
      expect(mine.loss.dataSync()[0]).toBeCloseTo(ref.loss.dataSync()[0], 5)
      expect(Array.from(mine.dW.dataSync())).toEqual(Array.from(ref.dW.dataSync()).map((v) => expect.closeTo(v, 5)))
      expect(Array.from(mine.db.dataSync())).toEqual(Array.from(ref.db.dataSync()).map((v) => expect.closeTo(v, 5)))
    })
  })
})

describe('few-shot draws and curves', () => {
  const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3)
  const names = ['a', 'b', 'c']

  it('draws k per class, nested across k within a draw, different across draws, and names a class that is too small', () => {
    const k2 = drawShots(labels, names, 2, 0, 7)
    const k8 = drawShots(labels, names, 8, 0, 7)
    expect(k2).toHaveLength(6)
    expect([0, 1, 2].map((c) => k8.filter((r) => labels[r] === c).length)).toEqual([8, 8, 8])
    expect([...k2].every((r) => k8.includes(r))).toBe(true)
    expect(Array.from(drawShots(labels, names, 8, 1, 7))).not.toEqual(Array.from(k8))
    expect(Array.from(drawShots(labels, names, 8, 0, 7))).toEqual(Array.from(k8)) // seeded
    expect(() => drawShots(labels, names, 21, 0, 7)).toThrow(/class 'a' has 20 training images in the pool; k = 21 needs 21/)
  })

  it('few-shot accuracy rises with k on noisy features, with a spread over draws', async () => {
    const pool = blobs(40, 4, 32, 2.2, 5)
    const test = blobs(25, 4, 32, 2.2, 6)
    const rowPool = { labels: pool.labels, meta: { dims: 32 }, readRows: async (rows: ArrayLike<number>) => memorySource(pool.x, pool.labels, 32).read(Int32Array.from(rows)) as Float32Array }
    const before = tf.memory().numTensors
    const { shots } = await runFewShot({ pool: rowPool, test, classNames: ['a', 'b', 'c', 'd'], shots: [1, 16], draws: 4, seed: 1, head: { ...head, epochs: 40 } })
    expect(tf.memory().numTensors).toBe(before)
    expect(shots.map((s) => s.k)).toEqual([1, 16])
    expect(shots[0].accs).toHaveLength(4)
    expect(shots[1].meanAcc).toBeGreaterThan(shots[0].meanAcc + 0.1)
    expect(shots[0].stdAcc).toBeGreaterThan(0)
    expect(shots[1].curve).toHaveLength(40)
  })

  it('averages curves and computes a sample standard deviation', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 })
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0 })
    const p = (v: number) => ({ epoch: 1, trainLoss: v, trainAcc: v, testLoss: v, testAcc: v })
    expect(meanCurve([[p(1)], [p(3)]])).toEqual([p(2)])
  })
})

describe('temperature softmax', () => {
  it('softens with T, and gives the same distribution from probabilities as from logits', () => {
    const logits = Float32Array.from([2, 0, -1, 1, 1, 1])
    const t1 = softmaxRows(logits, 3, 1)
    const t4 = softmaxRows(logits, 3, 4)
    expect(t1[0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1 + Math.exp(-1)), 6)
    expect(t4[0]).toBeLessThan(t1[0])
    expect(t4[0]).toBeGreaterThan(1 / 3)
    expect(Array.from(t4.subarray(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 6)))
    expect(Array.from(softmaxRows(t1, 3, 4, true))).toEqual(Array.from(t4).map((v) => expect.closeTo(v, 5)))
    expect(() => softmaxRows(logits, 3, 0)).toThrow(/positive/)
  })

  it("maps a teacher's classes onto the study's, naming a class it lacks", async () => {
    expect(teacherColumns(['cat', 'dog', 'ship'], ['ship', 'cat'])).toEqual([2, 0])
    expect(() => teacherColumns(['cat', 'dog'], ['cat', 'frog'])).toThrow(/does not predict 'frog'; its classes are cat, dog/)
    const teacher = { labels: Int32Array.from([0]), meta: { dims: 3 }, readRows: async () => Float32Array.from([0, 5, 10]) }
    const targets = await softTargetsFor(teacher, [2, 0], 1, 0.9, false)(Int32Array.from([0]))
    expect(targets.probs[0]).toBeCloseTo(1 / (1 + Math.exp(-10)), 5) // column 2 (logit 10) first
    expect(targets).toMatchObject({ T: 1, alpha: 0.9 })
  })
})
