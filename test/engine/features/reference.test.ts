/**
 * The heads against an independent reference on real CIFAR-10 features (issue 21): a tiny VGG11-BN
 * trained briefly on five CIFAR-10 classes, frozen, and its fc2 and block5_pool features of five
 * other classes. At k = 2, 8 and the whole pool, the Adam head (tfjs, mini-batches, Glorot start)
 * and a multinomial logistic regression solved to convergence by L-BFGS (float64, zero start) on the
 * same standardized features must agree within a few points, and their final test losses within a factor 1.75. Reads ../shared/datasets in place.
 */
import * as tf from '@tensorflow/tfjs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { prepareTrainingData } from '../../../src/engine/data/prepare-training-data'
import { extractFeatures } from '../../../src/engine/features/extract'
import { drawShots } from '../../../src/engine/features/few-shot'
import { DEFAULT_HEAD_OPTIONS, measureStandardizer, memorySource, standardize, trainHead } from '../../../src/engine/features/head'
import { makeInputBatch } from '../../../src/engine/features/preprocessing'
import { evaluateReference, fitReferenceLogReg } from '../../../src/engine/features/reference-logreg'
import { loadStudyImages, type StudyImages } from '../../../src/engine/features/study-data'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { train } from '../../../src/engine/train/trainer'
import { checkpointPreprocessing } from '../../../src/shared/features'
import { resolveTrainConfig } from '../../../src/shared/train-config'
import { realDataFolder } from '../../helpers/dataset-fixtures'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CIFAR = join(REPO_ROOT, '../shared/datasets/cifar10-jpg')
const BASE_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer']
const STUDY_CLASSES = ['dog', 'frog', 'horse', 'ship', 'truck']
const LAYERS = ['fc2', 'block5_pool']
/** How far apart head and reference may land, in accuracy: "a few points" on 1,000 test images (binomial SE ≈ 1.5 points). */
const AGREEMENT = 0.05
/**
 * The heads' defaults with a weight decay of 1e-2 instead of 1e-4, for both sides. With 1e-4 the
 * optimum on a few nearly separable rows lies far out (huge weights, test loss ≈ 4), while 100 Adam
 * steps stop well short of it, early stopping by another name: the comparison would then measure
 * how unconverged the head is, not whether it is right. At 1e-2 the optimum is near enough to reach.
 */
const HEAD = { ...DEFAULT_HEAD_OPTIONS, weightDecay: 1e-2 }

interface Features {
  x: Float32Array
  labels: Int32Array
  dims: number
}
let pool: Map<string, Features>
let test: Map<string, Features>

/** Every row of one image set through the frozen network: one matrix per layer. */
async function featuresOf(model: tf.LayersModel, part: StudyImages['pool'], preprocessing: ReturnType<typeof checkpointPreprocessing>): Promise<Map<string, Features>> {
  const chunks = new Map<string, Float32Array[]>(LAYERS.map((l) => [l, []]))
  const dims = new Map<string, number>()
  for (let start = 0; start < part.indices.length; start += 200) {
    const indices = part.indices.subarray(start, start + 200)
    const { x } = makeInputBatch(part.set, indices, 32, 32, preprocessing)
    const outputs = extractFeatures(model, x, LAYERS, 'avg')
    x.dispose()
    for (const [i, layer] of LAYERS.entries()) {
      chunks.get(layer)!.push((await outputs[i].data()) as Float32Array)
      dims.set(layer, outputs[i].shape[1])
    }
    tf.dispose(outputs)
  }
  const labels = Int32Array.from(part.indices, (i) => part.set.labels[i])
  return new Map(
    LAYERS.map((layer) => {
      const parts = chunks.get(layer)!
      const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
      parts.reduce((offset, p) => (x.set(p, offset), offset + p.length), 0)
      return [layer, { x, labels, dims: dims.get(layer)! }]
    })
  )
}

function rowsOf(f: Features, rows: Int32Array): Features {
  const x = new Float32Array(rows.length * f.dims)
  rows.forEach((r, i) => x.set(f.x.subarray(r * f.dims, (r + 1) * f.dims), i * f.dims))
  return { x, labels: Int32Array.from(rows, (r) => f.labels[r]), dims: f.dims }
}

describe.skipIf(!realDataFolder(CIFAR, 'head vs reference on real CIFAR-10 features (reference.test.ts)'))('softmax head vs L-BFGS reference on real CIFAR-10 features', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
    // A frozen network that has seen other classes: ~10 s on wasm (1,000 images × 4 epochs, width ⅛).
    const config = resolveTrainConfig({ arch: 'vgg11_bn', width: 1 / 8, epochs: 4, batchSize: 64, lr: 0.05, schedule: 'cosine', trainPerClass: 200, seed: 1 })
    const { data } = await prepareTrainingData(`folder:${CIFAR}`, BASE_CLASSES, config)
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: BASE_CLASSES.length, seed: 1 })
    await train({ model, config, data })
    const preprocessing = checkpointPreprocessing({ mean: [...data.normalization.mean], std: [...data.normalization.std] })
    const images = await loadStudyImages(`folder:${CIFAR}`, { classes: STUDY_CLASSES, poolPerClass: 40, testPerClass: 200, seed: 3, imageSize: 32 })
    pool = await featuresOf(model, images.pool, preprocessing)
    test = await featuresOf(model, images.test, preprocessing)
    model.dispose()
  }, 120_000)

  const cases = LAYERS.flatMap((layer) => ([2, 8, null] as const).map((k) => [layer, k] as const))
  it.each(cases)('%s, k = %s (null = the whole pool of 40 per class): head and reference agree within a few points', async (layer, k) => {
    const all = pool.get(layer)!
    const rows = k === null ? Int32Array.from(all.labels.keys()) : drawShots(all.labels, STUDY_CLASSES, k, 0, 5)
    const trainRows = rowsOf(all, rows)
    const testRows = test.get(layer)!
    const std = measureStandardizer(trainRows.x, trainRows.dims)
    const head = await trainHead({ train: memorySource(trainRows.x, trainRows.labels, trainRows.dims), test: testRows, numClasses: 5, options: HEAD, standardizer: std })
    const fit = fitReferenceLogReg(standardize(trainRows.x, std), trainRows.labels, trainRows.dims, 5, { weightDecay: HEAD.weightDecay, tolerance: 1e-5, maxIterations: 3000 })
    const reference = evaluateReference(fit, standardize(testRows.x, std), testRows.labels)
    console.info(
      `${layer} k=${k ?? 'all'} (${trainRows.dims} dims, ${std.constantDims} constant on ${rows.length} rows): head ${(100 * head.testAcc).toFixed(1)}% (test loss ${head.testLoss.toFixed(2)}, epoch 1 ${head.curve[0].testLoss.toFixed(2)} vs train ${head.curve[0].trainLoss.toFixed(2)}), reference ${(100 * reference.acc).toFixed(1)}% (test loss ${reference.loss.toFixed(2)}, ${fit.iterations} L-BFGS steps, |grad| ${fit.gradNorm.toExponential(1)})`
    )
    expect(fit.gradNorm).toBeLessThan(1e-3) // solved (near) to convergence
    // The features carry the classes, so the comparison means something: clearly above chance (20 %) from
    // 8 images per class on. From 2 per class the reference's own accuracy is mostly noise (23.1–37.5 % at
    // block5_pool over six CI runs, the frozen network trained anew each time): above chance is all it shows.
    expect(reference.acc).toBeGreaterThan(1 / 5 + (k === 2 ? 0 : 0.05))
    expect(Math.abs(head.testAcc - reference.acc)).toBeLessThan(AGREEMENT)
    // Losses too: accuracy alone forgives a head whose logits blew up early and recovered (the old 1e-6
    // floor gave test losses of 1,905 at epoch 1 and 11.7 at the end here, against the reference's 5.4).
    expect(head.testLoss / reference.loss).toBeGreaterThan(1 / 1.75)
    expect(head.testLoss / reference.loss).toBeLessThan(1.75) // measured 0.9–1.33 over runs
    // No blow-up along the way (the old floor's 1,905 at epoch 1). 3×, not 2×: at k = 2 a head overfitting ten
    // rows reached 2.0× the reference's loss in one CI run (7.88 against 3.9) without anything wrong.
    expect(Math.max(...head.curve.map((p) => p.testLoss))).toBeLessThan(3 * Math.max(reference.loss, Math.log(5)))
  })
})
