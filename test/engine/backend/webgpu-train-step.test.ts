import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { transferLayers } from '../../../src/engine/models/transfer'
import { createRandom } from '../../../src/engine/random'
import type { StepBatch } from '../../../src/engine/train/train-step'
import { createSingleThreadStepper } from '../../../src/engine/train/single-thread-stepper'
import { createOptimizer } from '../../../src/engine/train/trainer'
import { resolveTrainConfig } from '../../../src/shared/train-config'
import { listWeightLayers } from '../../../src/shared/vgg'
import { describeWebGpu, maxAbs, maxAbsDiff, readAll, watchGpuSyncReads } from './webgpu-support'

/**
 * The engine's own training step (its single-thread stepper: forward in training mode, softmax cross-entropy,
 * gradients, L2 decay, momentum SGD) on a VGG11-BN at width ⅛ with a batch of 4, two steps, on
 * webgpu against tfjs's cpu backend from the same weights and batches; then the same with the first
 * layers transferred and frozen.
 *
 * What is compared: each step's loss and correct count, and each weight's change over the two steps
 * (BN moving statistics included) relative to the largest change of that weight on cpu. The change,
 * not the weight: a weight moves by ~1e-2 of itself here, so comparing weights would hide gradient
 * errors 100× larger. Measured on lavapipe: losses within 4e-7 (relative); weight changes within
 * 1.8e-5 (relative), set by the float32 spacing of the weights themselves, not by the kernels: γ
 * sits near 1, where floats are 1.2e-7 apart, and moves by 7e-3, so two correct updates can differ
 * by 1–2 spacings = 1.7e-5–3.5e-5 of the change (every other weight agrees within 3.7e-6). The
 * bound, 1e-4, is 3× that worst case; a wrong gradient (a transposed kernel, a missing batch-norm
 * term, a wrong stride) errs by 1e-1 or more.
 * A conv bias before batch norm has a zero gradient in exact arithmetic: on both backends it moves
 * by rounding noise only (measured ≤ 2e-8), so it is checked against an absolute bound instead.
 */
const CHANGE_TOLERANCE = 1e-4
const LOSS_TOLERANCE = 1e-5
/** Largest change a conv bias (zero gradient before batch norm) may show: lr 0.05 × a gradient of 2e-5. */
const BIAS_NOISE = 1e-6

const ARCH = 'vgg11_bn'
const WIDTH = 1 / 8
const CLASSES = 5
const SIZE = 32
const STEPS = 2
const NAMES = listWeightLayers(ARCH).map((l) => l.name)
const FROZEN = 3
const config = resolveTrainConfig({ arch: ARCH, width: WIDTH, batchSize: 4, lr: 0.05, seed: 1 })

const isConvBias = (name: string): boolean => /^block\d_conv\d\/bias$/.test(name)

function batches(): StepBatch[] {
  const random = createRandom(21)
  return Array.from({ length: STEPS }, (_, s) => ({
    x: Float32Array.from({ length: 4 * SIZE * SIZE * 3 }, () => random.next() * 2 - 1),
    labels: Int32Array.from({ length: 4 }, (_, i) => (i + s) % CLASSES),
    count: 4
  }))
}

interface StepResult {
  losses: number[]
  correct: number[]
  /** Every weight of the model (BN moving statistics included), by name, after the steps. */
  after: Map<string, Float32Array>
  before: Map<string, Float32Array>
  trainable: string[]
}

/** Initial weights, built once (on cpu) and copied into each backend's model. */
let targetInit: Float32Array[]
let sourceInit: Float32Array[]
let sourceByName: Map<string, Float32Array>
let watch: ReturnType<typeof watchGpuSyncReads> | undefined
const measured: string[] = []

async function readWeights(model: tf.LayersModel): Promise<Map<string, Float32Array>> {
  const values = await readAll(model.weights.map((w) => w.read()))
  return new Map(model.weights.map((w, i) => [w.originalName, values[i]]))
}

function setWeightsFrom(model: tf.LayersModel, values: Float32Array[]): void {
  const tensors = values.map((w, i) => tf.tensor(w, model.weights[i].shape as number[]))
  model.setWeights(tensors)
  tf.dispose(tensors)
}

/** Builds the model on `backend` from the shared initial weights, optionally transfers and freezes, steps. */
async function stepOn(backend: 'cpu' | 'webgpu', frozen: number): Promise<StepResult> {
  await tf.setBackend(backend)
  expect(tf.getBackend()).toBe(backend)
  const model = buildVgg({ arch: ARCH, width: WIDTH, numClasses: CLASSES, seed: 3, dropout: 0 })
  setWeightsFrom(model, targetInit)
  if (frozen > 0) {
    const source = buildVgg({ arch: ARCH, width: WIDTH, numClasses: 4, seed: 11, dropout: 0 })
    setWeightsFrom(source, sourceInit)
    transferLayers(source, model, NAMES, frozen, true)
    source.dispose()
  }
  const before = await readWeights(model)
  const optimizer = createOptimizer(config)
  const stepper = createSingleThreadStepper({ model, optimizer, shape: { size: SIZE, numClasses: CLASSES }, weightDecay: config.weightDecay })
  const tensorsBefore = tf.memory().numTensors
  const losses: number[] = []
  const correct: number[] = []
  for (const batch of batches()) {
    const step = await stepper.step(batch, config.lr, true)
    losses.push(step.loss)
    correct.push(step.correct)
  }
  // The optimizer's momentum slots (one per trainable weight) are the only tensors a step may leave behind.
  expect(tf.memory().numTensors - tensorsBefore).toBe(model.trainableWeights.length)
  await stepper.dispose()
  const after = await readWeights(model)
  const trainable = model.trainableWeights.map((w) => w.originalName)
  optimizer.dispose()
  model.dispose()
  return { losses, correct, after, before, trainable }
}

/** Each weight's change on webgpu against its change on cpu, relative to the cpu change's scale. */
function changeErrors(cpu: StepResult, gpu: StepResult): Map<string, number> {
  const errors = new Map<string, number>()
  for (const [name, cpuAfter] of cpu.after) {
    const cpuBefore = cpu.before.get(name) as Float32Array
    const gpuAfter = gpu.after.get(name) as Float32Array
    const gpuBefore = gpu.before.get(name) as Float32Array
    expect(maxAbsDiff(cpuBefore, gpuBefore), `${name} starts equal`).toBe(0)
    const cpuChange = cpuAfter.map((v, i) => v - cpuBefore[i])
    const gpuChange = gpuAfter.map((v, i) => v - gpuBefore[i])
    if (isConvBias(name)) {
      expect(maxAbs(cpuChange), `${name} on cpu`).toBeLessThan(BIAS_NOISE)
      expect(maxAbs(gpuChange), `${name} on webgpu`).toBeLessThan(BIAS_NOISE)
    } else errors.set(name, maxAbsDiff(cpuChange, gpuChange) / (maxAbs(cpuChange) || 1))
  }
  return errors
}

function expectSameStep(label: string, cpu: StepResult, gpu: StepResult): Map<string, number> {
  expect(gpu.trainable).toEqual(cpu.trainable)
  const lossErrors = cpu.losses.map((l, i) => Math.abs(gpu.losses[i] - l) / Math.abs(l))
  const errors = changeErrors(cpu, gpu)
  const worst = [...errors].sort((a, b) => b[1] - a[1])
  measured.push(
    `${label}: losses cpu ${cpu.losses.map((l) => l.toFixed(6)).join(' ')} | webgpu ${gpu.losses.map((l) => l.toFixed(6)).join(' ')} ` +
      `(max rel ${Math.max(...lossErrors).toExponential(1)}); weight change max rel error ${worst[0][1].toExponential(1)} (${worst[0][0]}), ` +
      `next ${worst.slice(1, 3).map(([n, e]) => `${n} ${e.toExponential(1)}`).join(', ')}; largest but γ ${worst.find(([n]) => !n.endsWith('/gamma'))?.[1].toExponential(1)}`
  )
  lossErrors.forEach((e, i) => expect(e, `${label}: loss of step ${i + 1}`).toBeLessThan(LOSS_TOLERANCE))
  expect(gpu.correct).toEqual(cpu.correct)
  for (const [name, e] of errors) expect(e, `${label}: change of ${name}`).toBeLessThan(CHANGE_TOLERANCE)
  return errors
}

describeWebGpu('the engine’s training step on webgpu matches the cpu backend (VGG11-BN ⅛, batch 4)', () => {
  beforeAll(async () => {
    await selectBackend('webgpu')
    expect(tf.getBackend()).toBe('webgpu')
    watch = watchGpuSyncReads()
    await tf.setBackend('cpu')
    const target = buildVgg({ arch: ARCH, width: WIDTH, numClasses: CLASSES, seed: 3, dropout: 0 })
    const source = buildVgg({ arch: ARCH, width: WIDTH, numClasses: 4, seed: 11, dropout: 0 })
    targetInit = await readAll(target.weights.map((w) => w.read()))
    sourceInit = await readAll(source.weights.map((w) => w.read()))
    sourceByName = new Map(source.weights.map((w, i) => [w.originalName, sourceInit[i]]))
    target.dispose()
    source.dispose()
  }, 300_000)

  afterAll(() => {
    watch?.stop()
    if (measured.length > 0) console.log(measured.join('\n'))
  })

  it('every layer trained: same losses and weight updates (BN moving statistics included)', async () => {
    const cpu = await stepOn('cpu', 0)
    const gpu = await stepOn('webgpu', 0)
    expect(tf.getBackend()).toBe('webgpu')
    expect(gpu.trainable).toHaveLength(NAMES.length * 2 + 8 * 2) // kernel+bias per weight layer, γ+β per BN
    const errors = expectSameStep('all layers trained', cpu, gpu)
    // Every weight moved (the test would pass trivially on a step that changed nothing), but the
    // conv biases: zero, before batch norm, with a zero gradient.
    for (const [name, after] of gpu.after) if (!isConvBias(name)) expect(maxAbsDiff(after, gpu.before.get(name) as Float32Array), `${name} moved`).toBeGreaterThan(0)
    expect(errors.size).toBe(NAMES.length * 2 + 8 * 4 - 8) // every weight but the 8 conv biases
  }, 300_000)

  it(`layers 1…${FROZEN} transferred and frozen: they (and their batch norms) stay bit-identical; the rest match cpu`, async () => {
    const cpu = await stepOn('cpu', FROZEN)
    const gpu = await stepOn('webgpu', FROZEN)
    expectSameStep(`layers 1…${FROZEN} frozen`, cpu, gpu)
    const frozenLayers = NAMES.slice(0, FROZEN).flatMap((n) => [n, `${n}_bn`])
    let frozenWeights = 0
    for (const [name, after] of gpu.after) {
      const layer = name.split('/')[0]
      if (frozenLayers.includes(layer)) {
        frozenWeights++
        expect(gpu.trainable).not.toContain(name)
        // Bit-identical to the weights copied from the source (and to what cpu left there).
        expect(after, `${name} frozen`).toEqual(gpu.before.get(name))
        expect(after, `${name} as on cpu`).toEqual(cpu.after.get(name))
        expect(after, `${name} copied from the source`).toEqual(sourceByName.get(name))
      } else if (!isConvBias(name)) expect(maxAbsDiff(after, gpu.before.get(name) as Float32Array), `${name} moved`).toBeGreaterThan(0)
    }
    expect(frozenWeights).toBe(FROZEN * 6) // kernel, bias; γ, β, moving mean, moving variance
  }, 300_000)

  it('the trainer’s single-thread stepper reads back only when asked: one read for both steps, same loss sum and updates', async () => {
    const cpu = await stepOn('cpu', 0)
    await tf.setBackend('webgpu')
    const model = buildVgg({ arch: ARCH, width: WIDTH, numClasses: CLASSES, seed: 3, dropout: 0 })
    setWeightsFrom(model, targetInit)
    const before = await readWeights(model)
    const optimizer = createOptimizer(config)
    const stepper = createSingleThreadStepper({ model, optimizer, shape: { size: SIZE, numClasses: CLASSES }, weightDecay: config.weightDecay })
    const reads = countDataReads()
    const [first, second] = batches()
    const unread = await stepper.step(first as StepBatch, config.lr, false)
    expect(unread.images).toBe(0)
    expect(reads.count).toBe(0) // nothing came back to the CPU
    const read = await stepper.step(second as StepBatch, config.lr, true)
    expect(reads.count).toBe(1) // one readback for both steps
    reads.stop()
    expect(read.images).toBe(8)
    // The mean over both batches of 4 of each step's mean loss, and the correct predictions of both.
    const cpuMean = (cpu.losses[0] + cpu.losses[1]) / 2
    expect(Math.abs(read.loss - cpuMean) / cpuMean).toBeLessThan(LOSS_TOLERANCE)
    expect(read.correct).toBe(cpu.correct[0] + cpu.correct[1])
    const after = await readWeights(model)
    await stepper.dispose()
    optimizer.dispose()
    model.dispose()
    // The stepper's updates match cpu's (its losses and counts are checked above, as window sums).
    for (const [name, e] of changeErrors(cpu, { ...cpu, before, after })) expect(e, `single-thread stepper: change of ${name}`).toBeLessThan(CHANGE_TOLERANCE)
  }, 300_000)

  it('read nothing synchronously from the GPU', () => {
    expect(watch?.reads).toEqual([])
  })
})

/** Counts `Tensor.data()` calls (the asynchronous readback) until stopped. */
function countDataReads(): { count: number; stop(): void } {
  const proto = tf.Tensor.prototype as unknown as { data: (...args: unknown[]) => Promise<unknown> }
  const original = proto.data
  const counter = {
    count: 0,
    stop: () => {
      proto.data = original
    }
  }
  proto.data = function (this: unknown, ...args: unknown[]) {
    counter.count++
    return original.apply(this, args)
  }
  return counter
}
