import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { measureNormalization } from '../../../src/engine/data/normalize'
import { stratifiedSplit } from '../../../src/engine/data/split'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { loadCheckpoint, saveCheckpoint } from '../../../src/engine/models/checkpoint'
import { evaluate } from '../../../src/engine/train/evaluate'
import type { TrainData } from '../../../src/engine/data/train-data'
import { train } from '../../../src/engine/train/trainer'
import type { BatchMetrics, EpochMetrics } from '../../../src/shared/metrics'
import { resolveTrainConfig } from '../../../src/shared/train-config'
import { makeSyntheticSet } from '../../helpers/synthetic-images'

beforeAll(async () => {
  const info = await selectBackend('wasm')
  expect(info.backend).toBe('wasm')
})

function makeData(perClass = 48, classes = 3): TrainData {
  const set = makeSyntheticSet(perClass, classes)
  const { train: trainIdx, val } = stratifiedSplit(set.labels, classes, { valFraction: 0.25, seed: 1 })
  return {
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
    size: 32,
    normalization: measureNormalization(set, trainIdx, 32 * 32),
    train: { set, indices: trainIdx },
    val: { set, indices: val }
  }
}

const tinyConfig = (overrides: Record<string, unknown> = {}) =>
  resolveTrainConfig({ arch: 'vgg11_bn', width: 1 / 16, epochs: 3, batchSize: 16, lr: 0.02, schedule: 'constant', logEveryBatches: 2, seed: 5, ...overrides })

describe('trainer (wasm backend, tiny VGG11-BN)', () => {
  it('learns a separable task, reports both rhythms, and leaks no tensors across epochs', async () => {
    const data = makeData()
    const config = tinyConfig({ epochs: 4 })
    const model = buildVgg({ arch: 'vgg11_bn', width: config.width, numClasses: 3, seed: 5 })
    const batches: BatchMetrics[] = []
    const epochs: EpochMetrics[] = []
    const tensorsAtEpochEnd: number[] = []
    const summary = await train({
      model,
      config,
      data,
      callbacks: {
        onBatch: (m) => batches.push(m),
        onEpoch: (m) => {
          epochs.push(m)
          tensorsAtEpochEnd.push(tf.memory().numTensors)
        }
      }
    })
    expect(summary.status).toBe('done')
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4])
    // 108 training images / 16 = 7 batches per epoch; logged on 2, 4, 6 and the last.
    expect(batches.filter((b) => b.epoch === 1)).toHaveLength(7)
    expect(batches.filter((b) => b.epoch === 1 && b.logged).map((b) => b.batch)).toEqual([2, 4, 6, 7])
    expect(epochs.every((e) => e.valAcc !== null && e.imagesPerSecond > 0 && e.lr === 0.02)).toBe(true)
    // Chance is 1/3; the task is easy.
    expect(summary.bestValAcc).toBeGreaterThan(0.6)
    expect(epochs.at(-1)!.trainLoss).toBeLessThan(epochs[0].trainLoss)
    // Flat tensor count: nothing accumulates from one epoch to the next.
    expect(new Set(tensorsAtEpochEnd.slice(1)).size).toBe(1)
    model.dispose()
  })

  it('stops cooperatively at the next batch when cancelled, keeping what it did', async () => {
    const data = makeData()
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 5 })
    const abort = new AbortController()
    let seen = 0
    const summary = await train({
      model,
      config: tinyConfig({ epochs: 50 }),
      data,
      signal: abort.signal,
      callbacks: {
        onBatch: (m) => {
          seen++
          if (m.epoch === 2 && m.batch === 3) abort.abort()
        }
      }
    })
    expect(summary.status).toBe('cancelled')
    expect(seen).toBe(7 + 3)
    // The interrupted epoch is not recorded: one whole epoch done, and a resume redoes the second.
    expect(summary.epochs).toBe(1)
    model.dispose()
  })

  it('saves a tfjs Layers checkpoint that loads back with identical predictions', async () => {
    const data = makeData(16)
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 2 })
    await train({ model, config: tinyConfig({ epochs: 1 }), data })
    const dir = join(await mkdtemp(join(tmpdir(), 'wb-ckpt-')), 'best')
    const meta = { arch: 'vgg11_bn', width: 1 / 16, inputSize: 32, classNames: data.classNames, normalization: { mean: [0, 0, 0], std: [1, 1, 1] }, epoch: 1, valAcc: 0.5 }
    await saveCheckpoint(dir, model, meta, tf.train.momentum(0.1, 0.9))
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'))
    expect(manifest.format).toBe('layers-model')
    expect(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain('block1_conv1/kernel')
    const loaded = await loadCheckpoint(dir)
    expect(loaded.meta).toEqual(meta)
    const opts = { size: 32, normalization: data.normalization, batchSize: 64, numClasses: 3 }
    const before = await evaluate(model, data.val!.set, data.val!.indices, opts)
    const after = await evaluate(loaded.model, data.val!.set, data.val!.indices, opts)
    expect(after.loss).toBeCloseTo(before.loss, 5)
    expect(after.acc).toBe(before.acc)
    loaded.model.dispose()
    model.dispose()
  })
})
