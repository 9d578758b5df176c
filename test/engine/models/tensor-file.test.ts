/**
 * writeTensorsFile writes what tf.io.encodeWeights would (the same bytes and specs), in chunks
 * straight from wasm memory or one tensor at a time on other backends, and a checkpoint saved
 * through it loads back to the same weights and optimizer state.
 */
import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { loadCheckpoint, loadOptimizerInto, saveCheckpoint, type CheckpointMeta } from '../../../src/engine/models/checkpoint'
import { writeTensorsFile } from '../../../src/engine/models/tensor-file'

let dir: string

beforeAll(async () => {
  await selectBackend('wasm')
  dir = await mkdtemp(join(tmpdir(), 'tensor-file-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A few tensors, one larger than the 4 MB chunk, one int32 (as an optimizer's iteration count). */
function sample(): { name: string; tensor: tf.Tensor }[] {
  return [
    { name: 'big', tensor: tf.tensor1d(Float32Array.from({ length: 1_500_000 }, (_, i) => Math.sin(i) * 1e3)) },
    { name: 'iter', tensor: tf.scalar(-7, 'int32') },
    { name: 'small/kernel', tensor: tf.tensor2d([1.5, -2, 3, 4e-9, 5, 6], [2, 3]) }
  ]
}

async function expectSameAsEncodeWeights(file: string): Promise<void> {
  const tensors = sample()
  const specs = await writeTensorsFile(dir, file, tensors)
  const encoded = await tf.io.encodeWeights(tensors)
  expect(specs).toEqual(encoded.specs)
  const bytes = await readFile(join(dir, file))
  expect(Buffer.compare(bytes, Buffer.from(encoded.data as ArrayBuffer))).toBe(0)
  tf.dispose(tensors.map((t) => t.tensor))
}

describe('writeTensorsFile', () => {
  it('writes the bytes tf.io.encodeWeights makes, from wasm memory', async () => {
    expect(tf.getBackend()).toBe('wasm')
    await expectSameAsEncodeWeights('wasm.bin')
  })

  it('writes the same from another backend (cpu)', async () => {
    await tf.setBackend('cpu')
    try {
      await expectSameAsEncodeWeights('cpu.bin')
    } finally {
      await tf.setBackend('wasm')
    }
  })

  it('refuses a dtype it cannot store, naming the file and the weight', async () => {
    const flags = tf.tensor1d([true, false], 'bool')
    await expect(writeTensorsFile(dir, 'bool.bin', [{ name: 'mask', tensor: flags }])).rejects.toThrow(/bool\.bin: cannot store mask, a bool tensor/)
    flags.dispose()
  })

  it('saves a checkpoint that loads back to the same weights and momentum', async () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 0.125, numClasses: 3, seed: 5 })
    const optimizer = tf.train.momentum(0.1, 0.9)
    // One step, so the momentum exists and differs from zero.
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1)
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3)
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar)
    const meta: CheckpointMeta = { arch: 'vgg11_bn', width: 0.125, inputSize: 32, classNames: ['a', 'b', 'c'], normalization: { mean: [0, 0, 0], std: [1, 1, 1] }, epoch: 1, valAcc: null }
    await saveCheckpoint(join(dir, 'ckpt'), model, meta, optimizer)

    const loaded = await loadCheckpoint(join(dir, 'ckpt'))
    expect(loaded.meta).toEqual(meta)
    expect(loaded.model.weights.length).toBe(model.weights.length)
    model.weights.forEach((w, i) => expect(loaded.model.weights[i]!.read().dataSync()).toEqual(w.read().dataSync()))
    const restored = tf.train.momentum(0.1, 0.9)
    await loadOptimizerInto(join(dir, 'ckpt'), restored)
    const [a, b] = [await optimizer.getWeights(), await restored.getWeights()]
    expect(b.map((w) => w.name)).toEqual(a.map((w) => w.name))
    a.forEach((w, i) => expect(b[i]!.tensor.dataSync()).toEqual(w.tensor.dataSync()))
    expect(a[0]!.tensor.dataSync()[0]).toBe(1)
    tf.dispose([x, y, a[0]!.tensor, b[0]!.tensor])
    model.dispose()
    loaded.model.dispose()
  })
})
