/**
 * Data-parallel training over worker threads gives what training the whole batch in one thread
 * gives: the same losses, weights, batch-norm statistics and optimizer state within float rounding,
 * including a batch with fewer images than workers and a transferred model with frozen layers.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { setFmaKernelsEnabled, wasmKernelSet } from '../../../src/engine/backend/simd/simd-kernels'
import { ENV } from '../../../src/engine/env'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { trainWorkerCount } from '../../../src/engine/backend/worker-count'
import { createStepper } from '../../../src/engine/train/trainer'
import type { StepBatch } from '../../../src/engine/train/train-step'
import { CLASSES, makeBatch, SIZE } from './helpers/step-batches'

beforeAll(async () => {
  await selectBackend('wasm')
})

/** Two identical models (dropout off: its masks are random), the second frozen up to `frozen` layers. */
function twins(frozenLayers: number): [tf.LayersModel, tf.LayersModel] {
  const build = (): tf.LayersModel => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: CLASSES, seed: 3, dropout: 0 })
    model.layers.slice(0, frozenLayers).forEach((layer) => (layer.trainable = false))
    return model
  }
  return [build(), build()]
}

/**
 * Largest difference relative to the weight's largest magnitude, at least 1e-3: the conv biases
 * before batch norm get a gradient of zero in exact arithmetic, so theirs is rounding noise near 0.
 */
function maxRelativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(1e-3, tf.max(tf.abs(a)).dataSync()[0] as number)
    return (tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number) / scale
  })
}

async function trainBoth(frozenLayers: number, batches: StepBatch[]): Promise<{ losses: [number[], number[]]; weights: number; optimizer: number; correct: [number, number]; workerKernels: readonly string[] | undefined }> {
  const [single, parallel] = twins(frozenLayers)
  const optimizers = [tf.train.momentum(0.05, 0.9), tf.train.momentum(0.05, 0.9)] as const
  const shape = { size: SIZE, numClasses: CLASSES }
  const one = await createStepper({ model: single, optimizer: optimizers[0], shape, weightDecay: 5e-4, workers: 1 })
  const two = await createStepper({ model: parallel, optimizer: optimizers[1], shape, weightDecay: 5e-4, workers: 2 })
  expect(two.workers).toBe(2)
  const workerKernels = two.workerKernels
  const losses: [number[], number[]] = [[], []]
  const correct: [number, number] = [0, 0]
  try {
    for (const batch of batches) {
      const a = await one.step(batch, 0.05)
      const b = await two.step(batch, 0.05)
      losses[0].push(a.loss)
      losses[1].push(b.loss)
      correct[0] += a.correct
      correct[1] += b.correct
    }
    await two.sync()
  } finally {
    await two.dispose()
  }
  // Every weight, batch-norm moving statistics included.
  const weights = Math.max(...single.weights.map((w, i) => maxRelativeDifference(w.read(), parallel.weights[i]!.read())))
  const [sa, pa] = [await optimizers[0].getWeights(), await optimizers[1].getWeights()]
  expect(pa.length).toBe(sa.length)
  const optimizer = Math.max(...sa.slice(1).map((w, i) => maxRelativeDifference(w.tensor, pa[i + 1]!.tensor)))
  expect(sa[0]!.tensor.dataSync()[0]).toBe(pa[0]!.tensor.dataSync()[0])
  tf.dispose([single, parallel, ...optimizers, sa[0]!.tensor, pa[0]!.tensor] as unknown as tf.Tensor[])
  return { losses, weights, optimizer, correct, workerKernels }
}

describe('data-parallel training over 2 worker threads', () => {
  it('matches one thread step for step, with a 1-image batch among them', async () => {
    // The one-image batch comes last: batch norm over one image throws the model far (the next loss
    // is ~5.5), and the step after it amplifies rounding-level differences (a ReLU or max-pool choice
    // can flip), moving some weights by up to 3e-2 relative: with batch seed 11 in place of 4 the
    // code before the first-layer change failed this bound too. Last, it checks the stand-in shard only.
    const batches = [makeBatch(16, 1), makeBatch(13, 2), makeBatch(16, 4), makeBatch(1, 3)]
    const result = await trainBoth(0, batches)
    // Node 20 runs relaxed SIMD by the flag simd-kernels.ts sets in each thread: the FMA build everywhere.
    expect(result.workerKernels).toEqual(['simd+fma', 'simd+fma'])
    for (let i = 0; i < batches.length; i++) expect(result.losses[1][i]).toBeCloseTo(result.losses[0][i]!, 4)
    expect(result.correct[1]).toBe(result.correct[0])
    expect(result.weights).toBeLessThan(1e-4)
    expect(result.optimizer).toBeLessThan(1e-3)
  })

  it('matches one thread with the SIMD kernels’ build without fused multiply-adds (WORKBENCH_WASM_FMA=0)', async () => {
    // The tests above ran the FMA build (relaxed SIMD), this process's default.
    expect(wasmKernelSet()).toBe('simd+fma')
    // This thread by the setter; the workers, started after it, by the environment they inherit.
    const before = process.env[ENV.wasmFma]
    process.env[ENV.wasmFma] = '0'
    setFmaKernelsEnabled(false)
    try {
      expect(wasmKernelSet()).toBe('simd')
      const batches = [makeBatch(16, 1), makeBatch(13, 2)]
      const result = await trainBoth(0, batches)
      // The workers, too, ran the plain SIMD build (each reports its own set).
      expect(result.workerKernels).toEqual(['simd', 'simd'])
      for (let i = 0; i < batches.length; i++) expect(result.losses[1][i]).toBeCloseTo(result.losses[0][i]!, 4)
      expect(result.correct[1]).toBe(result.correct[0])
      expect(result.weights).toBeLessThan(1e-4)
      expect(result.optimizer).toBeLessThan(1e-3)
    } finally {
      if (before === undefined) delete process.env[ENV.wasmFma]
      else process.env[ENV.wasmFma] = before
      setFmaKernelsEnabled(true)
    }
  })

  it('matches one thread on a model whose first blocks are frozen', async () => {
    const result = await trainBoth(9, [makeBatch(16, 5), makeBatch(16, 6)])
    for (let i = 0; i < 2; i++) expect(result.losses[1][i]).toBeCloseTo(result.losses[0][i]!, 4)
    expect(result.weights).toBeLessThan(1e-4)
  })

  it('reports a worker failure as an error instead of hanging', async () => {
    const [model] = twins(0)
    const stepper = await createStepper({ model, optimizer: tf.train.momentum(0.05, 0.9), shape: { size: SIZE, numClasses: CLASSES }, weightDecay: 0, workers: 2 })
    try {
      // One image's pixels short: the last worker cannot shape its shard, the other waits at a barrier.
      const bad = makeBatch(16, 7)
      bad.x = bad.x.subarray(0, 15 * SIZE * SIZE * 3)
      // The cause is reported, not the other worker's being stopped by it.
      await expect(stepper.step(bad, 0.05)).rejects.toThrow(/training worker 1: .*(size|shape)/i)
    } finally {
      await stepper.dispose()
      model.dispose()
    }
  })

  it('chooses one worker per core on the CPU backends, none extra on tfjs-node, and checks the override', () => {
    expect(trainWorkerCount('tensorflow', 64, {})).toBe(1)
    expect(trainWorkerCount('wasm', 8, {})).toBe(1)
    expect(trainWorkerCount('wasm', 64, { WORKBENCH_TRAIN_WORKERS: '3' })).toBe(3)
    expect(() => trainWorkerCount('wasm', 64, { WORKBENCH_TRAIN_WORKERS: 'two' })).toThrow(/WORKBENCH_TRAIN_WORKERS=two/)
  })
})
