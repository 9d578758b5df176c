import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { layerOutputs } from '../../../src/engine/models/layer-outputs'
import { importPretrained, PretrainedImportError } from '../../../src/engine/models/pretrained-import'
import { saveCheckpoint } from '../../../src/engine/models/checkpoint'

let dir: string

beforeAll(async () => {
  await selectBackend('wasm')
  dir = await mkdtemp(join(tmpdir(), 'tw-import-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface H5Options {
  /** Put the weights under `model_weights/` as a full-model Keras save does. */
  fullModel?: boolean
  modelConfig?: unknown
  /** Layers (by name) to leave out, or whose first weight to write with a wrong shape. */
  drop?: string[]
  corruptShape?: string
}

/**
 * Writes a model in Keras' legacy HDF5 layout with h5wasm: `layer_names` on the weights root, one
 * group per layer with `weight_names` like `block1_conv1/kernel:0`, each a dataset at
 * `<layer>/<layer>/kernel:0`. Layers are written in reverse, so only name matching can load them.
 */
async function writeKerasH5(path: string, model: tf.LayersModel, options: H5Options = {}): Promise<void> {
  const h5 = await import('h5wasm/node')
  await h5.ready
  const file = new h5.File(path, 'w')
  try {
    file.create_attribute('keras_version', '2.13.1')
    file.create_attribute('backend', 'tensorflow')
    if (options.modelConfig) file.create_attribute('model_config', JSON.stringify(options.modelConfig))
    const root = options.fullModel ? file.create_group('model_weights') : file
    const layers = model.layers.filter((l) => l.weights.length > 0 && !options.drop?.includes(l.name)).reverse()
    root.create_attribute('layer_names', layers.map((l) => l.name))
    for (const layer of layers) {
      const group = root.create_group(layer.name)
      group.create_attribute('weight_names', layer.weights.map((w) => `${w.originalName}:0`))
      const inner = group.create_group(layer.name)
      layer.weights.forEach((w, i) => {
        const values = w.read().dataSync() as Float32Array
        let shape = [...w.shape] as number[]
        let data = values
        if (options.corruptShape === layer.name && i === 0) {
          shape = [...shape.slice(0, -1), shape.at(-1)! + 1]
          data = new Float32Array(shape.reduce((a, b) => a * b, 1))
        }
        inner.create_dataset({ name: `${w.originalName.split('/').pop()}:0`, data, shape, dtype: '<f' })
      })
    }
  } finally {
    file.close()
  }
}

/** Max |a − b| of two models' outputs (last layer, or a named one) on the same random input. */
function maxOutputDiff(a: tf.LayersModel, b: tf.LayersModel, layer?: string, size = 32): number {
  const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 7)
  const [ya] = layerOutputs(a, x, [layer ?? a.layers.at(-1)!.name])
  const [yb] = layerOutputs(b, x, [layer ?? b.layers.at(-1)!.name])
  const [diff, scale] = tf.tidy(() => [tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0], tf.max(tf.abs(ya)).dataSync()[0]])
  tf.dispose([x, ya, yb])
  expect(scale).toBeGreaterThan(0) // a dead network would make the comparison vacuous
  return diff
}

async function expectImportError(promise: Promise<unknown>, ...parts: (string | RegExp)[]): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error, 'expected a PretrainedImportError').toBeInstanceOf(PretrainedImportError)
  for (const part of parts) expect((error as Error).message).toMatch(part)
}

describe('pretrained import: Keras HDF5', () => {
  it('loads a Keras-layout VGG .h5 by layer name and gives the same outputs as its tfjs twin', async () => {
    const original = buildVgg({ arch: 'vgg11', width: 1 / 16, numClasses: 3, seed: 4 })
    const twinDir = join(dir, 'twin')
    await saveCheckpoint(twinDir, original, { arch: 'vgg11', width: 1 / 16, inputSize: 32, classNames: ['a', 'b', 'c'], normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, epoch: 1, valAcc: null })
    const h5Path = join(dir, 'vgg11.h5')
    await writeKerasH5(h5Path, original)

    const before = tf.memory().numTensors
    const fromH5 = await importPretrained(h5Path)
    const twin = await importPretrained(twinDir)
    expect(fromH5.format).toBe('keras-h5')
    expect(fromH5.architecture).toBe('vgg11')
    expect(fromH5.inputSize).toBe(32) // read off fc1's input size
    expect(fromH5.preprocessing.name).toBe('caffe')
    expect(fromH5.layerNames).toContain('block3_pool')
    expect(twin.format).toBe('tfjs-layers')
    expect(twin.classNames).toEqual(['a', 'b', 'c'])
    expect(twin.preprocessing).toMatchObject({ name: 'checkpoint', mean: [0.5, 0.5, 0.5] })

    expect(maxOutputDiff(fromH5.model, twin.model)).toBeLessThan(1e-5)
    expect(maxOutputDiff(fromH5.model, original, 'block4_conv2')).toBeLessThan(1e-5)
    // Every weight landed where its name says (the file lists layers in reverse order).
    for (const layer of original.layers) {
      layer.getWeights().forEach((w, i) => expect(fromH5.model.getLayer(layer.name).getWeights()[i].dataSync()).toEqual(w.dataSync()))
    }
    fromH5.model.dispose()
    twin.model.dispose()
    expect(tf.memory().numTensors).toBe(before)
    original.dispose()
  })

  it('loads batch norm (γ, β, running statistics) and a full-model save under model_weights/', async () => {
    const original = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 4, seed: 9 })
    // Non-trivial running statistics, so a BN that ignored them would differ.
    for (const layer of original.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const ranges = [[0.8, 1.2], [0, 0.3], [-0.1, 0.1], [0.5, 1.5]] // γ, β, running mean, running variance
      const values = layer.getWeights().map((w, i) => tf.randomUniform(w.shape, ranges[i][0], ranges[i][1], 'float32', i))
      layer.setWeights(values)
      tf.dispose(values)
    }
    const path = join(dir, 'vgg11_bn_full.h5')
    await writeKerasH5(path, original, { fullModel: true })
    const imported = await importPretrained(path)
    expect(imported.architecture).toBe('vgg11_bn')
    expect(maxOutputDiff(imported.model, original)).toBeLessThan(1e-4)
    imported.model.dispose()
    original.dispose()
  })

  it('builds only the conv part from a file without a classifier (a "notop" save), at the input size asked', async () => {
    const original = buildVgg({ arch: 'vgg13', width: 1 / 16, numClasses: 3, seed: 3, inputSize: 64 })
    const path = join(dir, 'vgg13_notop.h5')
    await writeKerasH5(path, original, { drop: ['fc1', 'fc2', 'predictions'] })
    const imported = await importPretrained(path, { inputSize: 64 })
    expect(imported.architecture).toBe('vgg13')
    expect(imported.inputSize).toBe(64)
    expect(imported.model.layers.at(-1)!.name).toBe('block5_pool')
    expect(imported.model.countParams()).toBeLessThan(original.countParams())
    expect(maxOutputDiff(imported.model, original, 'block5_pool', 64)).toBeLessThan(1e-5)
    imported.model.dispose()
    original.dispose()
  })

  it('builds a non-VGG model from model_config and loads its weights by name', async () => {
    const original = tf.sequential({
      layers: [
        tf.layers.conv2d({ name: 'stem', inputShape: [32, 32, 3], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.globalAveragePooling2d({ name: 'gap' }),
        tf.layers.dense({ name: 'head', units: 3 })
      ]
    })
    const path = join(dir, 'small.h5')
    await writeKerasH5(path, original, { fullModel: true, modelConfig: original.toJSON(null, false) })
    const imported = await importPretrained(path, { inputSize: 32 })
    expect(imported.architecture).toBeNull()
    expect(imported.layerNames).toEqual(['stem', 'gap', 'head'])
    expect(maxOutputDiff(imported.model, original)).toBeLessThan(1e-5)
    imported.model.dispose()
    original.dispose()
  })

  it('names what does not fit: wrong shapes, missing layers, foreign files', async () => {
    const model = buildVgg({ arch: 'vgg11', width: 1 / 16, numClasses: 3, seed: 1 })
    const wrong = join(dir, 'wrong-shape.h5')
    await writeKerasH5(wrong, model, { corruptShape: 'fc2' })
    await expectImportError(importPretrained(wrong), /fc2/, /the file has 256×257, the model needs 256×256/)

    const incomplete = join(dir, 'no-fc2.h5')
    await writeKerasH5(incomplete, model, { drop: ['fc2'] })
    await expectImportError(importPretrained(incomplete), /classifier is incomplete/, /fc1, predictions/)

    const tooFewConvs = join(dir, 'no-conv.h5')
    await writeKerasH5(tooFewConvs, model, { drop: ['block3_conv2'] })
    await expectImportError(importPretrained(tooFewConvs), /conv layers per block are \[1, 1, 1, 2, 2\]/, /vgg11 \[1, 1, 2, 2, 2\]/)

    const inputMismatch = join(dir, 'fixed-input.h5')
    await writeKerasH5(inputMismatch, model)
    await expectImportError(importPretrained(inputMismatch, { inputSize: 224 }), /fixes the input at 32×32; 224 was asked for/)

    const text = join(dir, 'notes.h5')
    await writeFile(text, 'this is not HDF5 at all, just text\n'.repeat(40))
    await expectImportError(importPretrained(text), /not an HDF5 file/)

    const foreign = tf.sequential({ layers: [tf.layers.dense({ name: 'dense_7', inputShape: [4], units: 2 })] })
    const weightsOnly = join(dir, 'foreign-weights.h5')
    await writeKerasH5(weightsOnly, foreign)
    await expectImportError(importPretrained(weightsOnly), /dense_7/, /not a VGG's/)

    await expectImportError(importPretrained(join(dir, 'missing.h5')), /no such file/)
    foreign.dispose()
    model.dispose()
  })
})

describe('pretrained import: tfjs Layers files', () => {
  it('reads several weight shards and names a missing or truncated shard', async () => {
    const model = buildVgg({ arch: 'vgg11', width: 1 / 16, numClasses: 3, seed: 2 })
    const modelDir = join(dir, 'sharded')
    await saveCheckpoint(modelDir, model, { arch: 'vgg11', width: 1 / 16, inputSize: 32, classNames: ['x', 'y', 'z'], normalization: { mean: [0, 0, 0], std: [1, 1, 1] }, epoch: 1, valAcc: null })
    // Split weights.bin in two shards, as the converter does for big models.
    const manifest = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8'))
    const bytes = await readFile(join(modelDir, 'weights.bin'))
    const half = Math.floor(bytes.length / 2)
    await writeFile(join(modelDir, 'group1-shard1of2.bin'), bytes.subarray(0, half))
    await writeFile(join(modelDir, 'group1-shard2of2.bin'), bytes.subarray(half))
    manifest.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin']
    await writeFile(join(modelDir, 'model.json'), JSON.stringify(manifest))

    const imported = await importPretrained(join(modelDir, 'model.json'))
    expect(maxOutputDiff(imported.model, model)).toBeLessThan(1e-6)
    imported.model.dispose()

    await truncate(join(modelDir, 'group1-shard2of2.bin'), 100)
    await expectImportError(importPretrained(modelDir), /hold \d+ bytes, but the weights it lists need \d+/)
    await rm(join(modelDir, 'group1-shard2of2.bin'))
    await expectImportError(importPretrained(modelDir), /group1-shard2of2\.bin/, /missing/)

    await writeFile(join(modelDir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }))
    await expectImportError(importPretrained(modelDir), /graph model/)
    model.dispose()
  })
})
