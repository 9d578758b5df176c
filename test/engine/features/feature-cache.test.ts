import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { fingerprintModel } from '../../../src/engine/features/cache-key'
import { ensureFeatureCaches, listFeatureCaches, type CacheRequest } from '../../../src/engine/features/feature-cache'
import { extractFeatures, isLinearChain, poolActivation } from '../../../src/engine/features/extract'
import { liveSource } from '../../../src/engine/features/full-pass'
import { checkpointPreprocessing, preprocessingPreset } from '../../../src/shared/features'
import { makeInputBatch } from '../../../src/engine/features/preprocessing'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { layerOutputs } from '../../../src/engine/models/layer-outputs'
import { makeSyntheticSet } from '../../helpers/synthetic-images'

let root: string
beforeAll(async () => {
  await selectBackend('wasm')
  root = await mkdtemp(join(tmpdir(), 'tw-cache-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const set = makeSyntheticSet(10, 3, 32, 5)

async function request(model: tf.LayersModel, overrides: Partial<CacheRequest> = {}): Promise<CacheRequest> {
  return {
    model,
    modelFingerprint: await fingerprintModel(model),
    source: 'base-A',
    layers: ['block2_pool', 'fc1'],
    pooling: 'avg',
    dataset: 'synthetic',
    split: 'train',
    classNames: ['a', 'b', 'c'],
    set,
    indices: Int32Array.from({ length: 30 }, (_, i) => i),
    imageSize: 32,
    inputSize: 32,
    preprocessing: checkpointPreprocessing({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
    batchSize: 8, // several batches, so streaming appends in order
    ...overrides
  }
}

describe('feature caches', () => {
  it('streams pooled features of several layers in one pass; rows equal a direct forward pass', async () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 1 })
    const req = await request(model)
    const before = tf.memory().numTensors
    const outcome = await ensureFeatureCaches(root, req)
    expect(tf.memory().numTensors).toBe(before)
    expect([outcome.hits, outcome.misses]).toEqual([0, 2])
    const pool = outcome.caches.get('block2_pool')!
    const fc1 = outcome.caches.get('fc1')!
    expect([pool.meta.rows, pool.meta.dims]).toEqual([30, 8]) // avg-pooled 8×8×8 → 8 channels
    expect([fc1.meta.rows, fc1.meta.dims]).toEqual([30, 256])
    expect(Array.from(pool.labels)).toEqual(Array.from(req.indices, (i) => set.labels[i]))

    // Rows 3, 17, 29 (out of order, across batches) against layerOutputs on those images.
    const rows = [17, 3, 29]
    const { x } = makeInputBatch(set, rows, 32, 32, req.preprocessing)
    const [act, dense] = layerOutputs(model, x, ['block2_pool', 'fc1'])
    const expected = tf.tidy(() => tf.mean(act, [1, 2]).dataSync())
    expect(Array.from(await pool.readRows(rows))).toEqual(Array.from(expected).map((v) => expect.closeTo(v, 5)))
    expect(Array.from(await fc1.readRows(rows))).toEqual(Array.from(dense.dataSync()).map((v) => expect.closeTo(v, 5)))
    tf.dispose([x, act, dense])
    model.dispose()
  })

  it('reuses a cache with the same key, and rebuilds the slot when the weights, preprocessing or images change', async () => {
    const dir = join(root, 'invalidation')
    const model = buildVgg({ arch: 'vgg11', width: 1 / 16, numClasses: 3, seed: 2 })
    const first = await ensureFeatureCaches(dir, await request(model, { layers: ['fc2'] }))
    expect(first.misses).toBe(1)
    const firstRow = await first.caches.get('fc2')!.readRows([0])
    const again = await ensureFeatureCaches(dir, await request(model, { layers: ['fc2'] }))
    expect([again.hits, again.misses, again.seconds]).toEqual([1, 0, 0])

    // One weight nudged: the fingerprint changes, the cache is stale.
    const bias = model.getLayer('block1_conv1').getWeights()[1]
    const nudged = tf.add(bias, 0.01)
    model.getLayer('block1_conv1').setWeights([model.getLayer('block1_conv1').getWeights()[0], nudged])
    nudged.dispose()
    const retrained = await ensureFeatureCaches(dir, await request(model, { layers: ['fc2'] }))
    expect(retrained.misses).toBe(1)
    expect(await retrained.caches.get('fc2')!.readRows([0])).not.toEqual(firstRow)

    expect((await ensureFeatureCaches(dir, await request(model, { layers: ['fc2'], preprocessing: preprocessingPreset('caffe') }))).misses).toBe(1)
    const otherImages = makeSyntheticSet(10, 3, 32, 99)
    expect((await ensureFeatureCaches(dir, await request(model, { layers: ['fc2'], set: otherImages }))).misses).toBe(1)
    // Stale caches were replaced in their slot, not piled up; no temp folders are left behind.
    expect(await listFeatureCaches(dir)).toHaveLength(1)
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([])

    // A different layer or pooling is a different slot, kept side by side.
    await ensureFeatureCaches(dir, await request(model, { layers: ['fc2', 'block5_pool'], pooling: 'max', set: otherImages }))
    expect((await listFeatureCaches(dir)).map((c) => `${c.layer}/${c.pooling}`).sort()).toEqual(['block5_pool/max', 'fc2/avg', 'fc2/max'])
    model.dispose()
  })

  it('rebuilds a cache whose feature file was truncated on disk', async () => {
    const dir = join(root, 'truncated')
    const model = buildVgg({ arch: 'vgg11', width: 1 / 16, numClasses: 3, seed: 3 })
    const built = await ensureFeatureCaches(dir, await request(model, { layers: ['fc1'] }))
    await truncate(join(built.caches.get('fc1')!.dir, 'features.f32'), 100)
    expect((await ensureFeatureCaches(dir, await request(model, { layers: ['fc1'] }))).misses).toBe(1)
    model.dispose()
  })

  it('a live source (full forward pass per read) yields the cached rows; oversized flattened features are refused up front', async () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 4 })
    const req = await request(model, { layers: ['block3_conv1'], pooling: 'max' })
    const cache = (await ensureFeatureCaches(join(root, 'live'), req)).caches.get('block3_conv1')!
    const rows = Int32Array.from([5, 0, 22])
    const live = liveSource({ model, layer: 'block3_conv1', pooling: 'max', set, imageIndices: cache.imageIndices, labels: cache.labels, dims: cache.meta.dims, imageSize: 32, inputSize: 32, preprocessing: req.preprocessing })
    const before = tf.memory().numTensors
    expect(Array.from(await live.read(rows))).toEqual(Array.from(await cache.readRows(rows)).map((v) => expect.closeTo(v, 5)))
    expect(tf.memory().numTensors).toBe(before)

    // block1_conv1 flattened is 32·32·4 = 4096 floats per image; 140,000 images would be 2.1 GiB.
    const many = new Int32Array(140_000)
    await expect(ensureFeatureCaches(join(root, 'huge'), await request(model, { layers: ['block1_conv1'], pooling: 'flatten', indices: many }))).rejects.toThrow(/'block1_conv1' \(flatten\) for 140000 images would take 2\.1 GiB; use 'avg' or 'max' pooling/)
    model.dispose()
  })

  it('pools conv activations (avg, max, flatten) and passes dense ones through; works for non-sequential models', () => {
    const act = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2])
    expect(Array.from(poolActivation(act, 'avg').dataSync())).toEqual([4, 5])
    expect(Array.from(poolActivation(act, 'max').dataSync())).toEqual([7, 8])
    expect(poolActivation(act, 'flatten').shape).toEqual([1, 8])

    const input = tf.input({ shape: [8, 8, 3] })
    const a = tf.layers.conv2d({ name: 'a', filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor
    const b = tf.layers.conv2d({ name: 'b', filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor
    const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor
    const branched = tf.model({ inputs: input, outputs: sum })
    expect(isLinearChain(branched)).toBe(false)
    const x = tf.ones([2, 8, 8, 3])
    const before = tf.memory().numTensors
    const [fa, fsum] = extractFeatures(branched, x, ['a', 'sum'], 'avg')
    expect(fsum.shape).toEqual([2, 2])
    const direct = branched.predict(x) as tf.Tensor
    expect(Array.from(fsum.dataSync())).toEqual(Array.from(tf.tidy(() => tf.mean(direct, [1, 2]).dataSync())).map((v) => expect.closeTo(v, 5)))
    tf.dispose([fa, fsum, direct])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, act])
    branched.dispose()
  })
})
