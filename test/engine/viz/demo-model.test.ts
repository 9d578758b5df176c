import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { DEMO_CLASS_NAMES } from '../../../src/engine/data/demo-dataset'
import { activationMaps, extractMap, readActivations, renderActivationsPng } from '../../../src/engine/viz/activations'
import { compareLayer, compareModels, renderComparisonPng, transferContextOf } from '../../../src/engine/viz/compare'
import { filterGrid, renderFilterPng } from '../../../src/engine/viz/filters'
import { renderHistogramsPng, weightHistogram } from '../../../src/engine/viz/histograms'
import { imageBytes, imagesToTensor, normalizationOf } from '../../../src/engine/viz/image-input'
import { renderConfusionPng, renderPredictionPng } from '../../../src/engine/viz/prediction-figures'
import { cellImages, confusionMatrix, predictImage, runPredictions } from '../../../src/engine/viz/predictions'
import { activationLayerName, listVizLayers, RunModelCache, type RunModel } from '../../../src/engine/viz/run-model'
import { loadRunSplit, type RunSplit } from '../../../src/engine/viz/run-split'
import { computeTopActivations, runTopActivations, topImagesForChannel } from '../../../src/engine/viz/top-images'
import { renderTopImagesPng, topImagePixels } from '../../../src/engine/viz/top-images-figure'
import { vizCacheDir } from '../../../src/engine/viz/viz-cache'
import { VizService } from '../../../src/engine/viz/viz-service'
import { trainTransferProject, type TrainedProject } from './trained-project'

const ARTIFACTS = join(process.cwd(), 'test-results', 'viz')
const N = 3

let project: TrainedProject
let models: RunModelCache
let base: RunModel
let target: RunModel
let val: RunSplit

beforeAll(async () => {
  await selectBackend('wasm')
  project = await trainTransferProject({
    dataset: 'demo',
    groups: { A: DEMO_CLASS_NAMES.slice(0, 5), B: DEMO_CLASS_NAMES.slice(5, 10) },
    n: N,
    config: { arch: 'vgg11_bn', width: 1 / 8, epochs: 2, batchSize: 32, trainPerClass: 60, lr: 0.05, schedule: 'constant', seed: 5 }
  })
  models = new RunModelCache(2)
  base = await models.open(project.dir, project.base.id)
  target = await models.open(project.dir, project.transfer.id)
  val = await loadRunSplit(target.record, target.meta, 'val')
  await mkdir(ARTIFACTS, { recursive: true })
}, 600_000)

afterAll(() => models?.dispose())

/** Writes a PNG artifact and returns its size. */
async function saveArtifact(name: string, png: Buffer): Promise<{ width: number; height: number }> {
  await writeFile(join(ARTIFACTS, name), png)
  const meta = await sharp(png).metadata()
  expect(meta.format).toBe('png')
  return { width: meta.width as number, height: meta.height as number }
}

describe('a base and an AnB model transferred from it at n=3 (demo data)', () => {
  it('layer list: frozen layers 1…3 are reported frozen in the target', () => {
    const layers = listVizLayers(target.model, target.depth, target.meta.inputSize)
    expect(layers.map((l) => l.trainable)).toEqual(layers.map((l) => l.index > N))
    expect(layers[0]).toMatchObject({ name: 'block1_conv1', label: 'conv 1-1', channels: 8, outputSize: 32 })
    expect(layers.find((l) => l.name === 'block3_conv1')?.outputSize).toBe(8)
  })

  it('compare: frozen layers are bit-identical to the base, re-initialized layers differ filter by filter', async () => {
    const sides = [{ runId: base.runId, model: base.model }, { runId: target.runId, model: target.model }] as const
    const context = transferContextOf(target.record)
    const summary = await compareModels(sides[0], sides[1], target.depth, context)
    for (const layer of summary.layers) {
      expect(layer.transferred).toBe(layer.index <= N)
      expect(layer.frozen).toBe(layer.index <= N)
      expect(layer.identical).toBe(layer.index <= N)
      if (layer.index > N) expect(layer.relativeChange).toBeGreaterThan(0.1)
    }
    const frozen = await compareLayer(sides[0], sides[1], 'block1_conv1', 1, context)
    expect(frozen.identical).toBe(true)
    expect(frozen.filters.every((f) => f.identical && f.relativeChange === 0 && Math.abs(f.cosine - 1) < 1e-6)).toBe(true)
    expect(frozen.target?.filters).toEqual(frozen.base?.filters)
    const fresh = await compareLayer(sides[0], sides[1], 'block3_conv2', 4, context, { mode: 'mean' })
    expect(fresh.identical).toBe(false)
    expect(fresh.filters).toHaveLength(32)
    expect(fresh.filters.some((f) => f.identical)).toBe(false)
    await saveArtifact('demo-compare-conv1-1.png', await renderComparisonPng(frozen, 'demo: conv 1-1, base vs AnB n=3'))
    await saveArtifact('demo-compare-conv3-2.png', await renderComparisonPng(fresh, 'demo: conv 3-2, base vs AnB n=3'))
  })

  it('activation maps: first N or all channels of a conv, after ReLU, equal to the layer output', async () => {
    const pixels = imageBytes(val.set, val.indices[0], val.size)
    const before = tf.memory().numTensors
    const six = await activationMaps(target.model, target.meta, pixels, 'block1_conv1')
    const all = await activationMaps(target.model, target.meta, pixels, 'block3_conv1', { maps: 'all', scaleMode: 'per-map' })
    expect(tf.memory().numTensors).toBe(before)
    expect(six.outputLayer).toBe('block1_conv1_relu')
    expect(six.maps.map((m) => m.channel)).toEqual([0, 1, 2, 3, 4, 5])
    expect(six.maps.every((m) => m.width === 32 && m.height === 32 && m.values.length === 1024)).toBe(true)
    expect(all.maps).toHaveLength(all.channelCount)
    expect(all.maps[0].width).toBe(8)
    for (const m of [...six.maps, ...all.maps]) expect(m.min).toBeGreaterThanOrEqual(0)
    expect(six.scale.max).toBe(Math.max(...six.maps.map((m) => m.max)))

    const x = imagesToTensor(pixels, 1, val.size, normalizationOf(target.meta))
    const direct = await readActivations(target.model, x, activationLayerName(target.model, 'block1_conv1'))
    x.dispose()
    expect(six.maps[4].values).toEqual(extractMap(direct, 0, 4).values)
    await expect(activationMaps(target.model, target.meta, pixels, 'block1_conv1', { channels: [8] })).rejects.toThrow(/channel 8 is outside 0 … 7/)
    const { width } = await saveArtifact('demo-activations.png', await renderActivationsPng(six, pixels, val.size, 'demo: conv 1-1, 6 maps'))
    // Input + 6 maps in one row, 128 px each with 4 px gaps.
    expect(width).toBe(7 * 128 + 8 * 4)
  })

  it('top images: for every channel, the cached top k are exactly the k highest-scoring validation images', async () => {
    const layer = 'block2_conv1'
    const first = await runTopActivations(project.dir, target, layer, { k: 5 })
    expect(first.cached).toBe(false)
    const again = await runTopActivations(project.dir, target, layer, { k: 5 })
    expect(again.cached).toBe(true)
    expect(again.top.index).toEqual(first.top.index)
    expect((await readdir(vizCacheDir(project.dir, target.runId))).filter((f) => f.startsWith(`top-${layer}-val-max-`))).toHaveLength(2)

    // Brute force: every validation image's spatial-max activation, every channel.
    const x = tf.tidy(() => {
      const bytes = val.size * val.size * 3
      const all = new Uint8Array(val.indices.length * bytes)
      val.indices.forEach((index, i) => all.set(imageBytes(val.set, index, val.size), i * bytes))
      return imagesToTensor(all, val.indices.length, val.size, normalizationOf(target.meta))
    })
    const acts = await readActivations(target.model, x, 'block2_conv1_relu')
    x.dispose()
    const channels = acts.shape[3]
    const { index } = again.top
    expect(index.scanned).toBe(val.indices.length)
    expect(index.channels).toHaveLength(channels)
    for (let c = 0; c < channels; c++) {
      const scores = Array.from(val.indices, (_, i) => extractMap(acts, i, c).max).sort((a, b) => b - a)
      const cachedScores = index.channels[c].scores
      expect(cachedScores.length).toBe(index.k)
      cachedScores.forEach((s, r) => expect(s).toBeCloseTo(scores[r], 4))
    }

    const top = await topImagesForChannel(target.model, target.meta, again.top, 2, 5)
    expect(top.images.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5])
    for (const image of top.images) {
      // The map shown is the one the score came from.
      expect(image.map.max).toBeCloseTo(image.score, 4)
      expect(image.dataUrl.startsWith('data:image/png;base64,')).toBe(true)
      expect(val.set.labels[image.index]).toBe(image.label)
    }
    await expect(topImagesForChannel(target.model, target.meta, again.top, 2, 40)).rejects.toThrow(/top 16/)
    await expect(topImagesForChannel(target.model, target.meta, again.top, 99)).rejects.toThrow(/channel 99/)
    await saveArtifact('demo-top-images.png', await renderTopImagesPng(top, topImagePixels(again.top, 2, 5), val.size, 'demo: conv 2-1 channel 2'))
  })

  it('a scan gives the event loop a turn after every batch, so a training loop beside it keeps going', async () => {
    let done = false
    let ticks = 0
    // Stands in for a training job in the same process: one "batch" per event-loop turn.
    const ticker = (async () => {
      while (!done) {
        ticks++
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    })()
    await computeTopActivations(target.model, target.meta, val, 'block2_conv1', { batchSize: 8 })
    done = true
    await ticker
    expect(ticks).toBeGreaterThanOrEqual(Math.ceil(val.indices.length / 8) - 1)
  })

  it('scans in batches, reporting progress per batch and stopping when aborted', async () => {
    const progress: number[] = []
    await computeTopActivations(target.model, target.meta, val, 'block1_conv1', { batchSize: 16, onProgress: (p) => progress.push(p.done) })
    expect(progress).toHaveLength(Math.ceil(val.indices.length / 16))
    expect(progress[progress.length - 1]).toBe(val.indices.length)
    const controller = new AbortController()
    controller.abort()
    await expect(computeTopActivations(target.model, target.meta, val, 'block1_conv1', { signal: controller.signal })).rejects.toThrow(/abort/i)
  })

  it('predictions: probabilities sum to 1, temperature flattens them; the confusion matrix reproduces the best validation accuracy', async () => {
    const pixels = imageBytes(val.set, val.indices[1], val.size)
    const p = await predictImage(target.model, target.meta, pixels, { top: 5 })
    const probs = p.top.map((t) => t.probability)
    expect(probs.reduce((a, b) => a + b)).toBeCloseTo(1, 5)
    expect([...probs].sort((a, b) => b - a)).toEqual(probs)
    const warm = await predictImage(target.model, target.meta, pixels, { top: 5, temperature: 10 })
    expect(warm.top.map((t) => t.label)).toEqual(p.top.map((t) => t.label))
    expect(warm.top[0].probability).toBeLessThan(p.top[0].probability)
    expect(warm.top[0].probability).toBeGreaterThan(1 / 5)
    await expect(predictImage(target.model, target.meta, pixels, { temperature: 0 })).rejects.toThrow(/temperature/)

    const { predictions, cached } = await runPredictions(project.dir, target, 'val', { loadSplit: async () => val })
    expect(cached).toBe(false)
    const matrix = confusionMatrix(predictions)
    expect(matrix.total).toBe(val.indices.length)
    expect(matrix.counts.flat().reduce((a, b) => a + b)).toBe(matrix.total)
    // Same split, same weights, same normalization as the trainer's validation pass.
    expect(target.record.bestValAcc).not.toBeNull()
    expect(matrix.accuracy).toBeCloseTo(target.record.bestValAcc as number, 6)
    const reread = await runPredictions(project.dir, target, 'val')
    expect(reread.cached).toBe(true)
    expect(Array.from(reread.predictions.probabilities as Float32Array)).toEqual(Array.from(predictions.probabilities as Float32Array))

    // The largest off-diagonal cell: its images are all of the true class, predicted as the other.
    let cell = { t: 0, p: 1, count: -1 }
    matrix.counts.forEach((row, t) => row.forEach((count, q) => t !== q && count > cell.count && (cell = { t, p: q, count })))
    const images = await cellImages(predictions, val, cell.t, cell.p, 4)
    expect(images.total).toBe(cell.count)
    expect(images.images.length).toBe(Math.min(4, cell.count))
    for (const image of images.images) {
      expect(val.set.labels[image.index]).toBe(cell.t)
      expect(image.predictedProbability).toBeGreaterThanOrEqual(image.trueProbability)
    }
    const shown = images.images.map((i) => i.predictedProbability)
    expect([...shown].sort((a, b) => b - a)).toEqual(shown)
    await saveArtifact('demo-confusion.png', await renderConfusionPng(matrix, 'demo: AnB n=3, validation'))
    await saveArtifact('demo-prediction.png', await renderPredictionPng(p, pixels, val.size, 'demo: prediction'))
  })

  it('filters and histograms of the trained model export as PNG', async () => {
    const grid = await filterGrid(base.model, 'block1_conv1')
    expect(grid.filters).toHaveLength(8)
    await saveArtifact('demo-filters-conv1-1.png', await renderFilterPng(grid, 'demo base A: conv 1-1'))
    const histograms = await Promise.all(['block1_conv1', 'block3_conv2', 'fc1'].map((l) => weightHistogram(target.model, l)))
    const { height } = await saveArtifact('demo-histograms.png', await renderHistogramsPng(histograms, 'demo AnB: weights'))
    expect(height).toBeGreaterThan(3 * 160)
  })

  it('the service: images by split position, file or dropped data URL give the same maps; a leased model survives eviction', async () => {
    const service = new VizService({ modelCapacity: 1 })
    try {
      const ref = { projectDir: project.dir, runId: target.runId }
      const pixels = imageBytes(val.set, val.indices[2], val.size)
      const png = await sharp(Buffer.from(pixels), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer()
      const file = join(project.dir, 'image.png')
      await writeFile(file, png)
      const bySplit = await service.activations({ ...ref, layer: 'conv 1-1', image: { kind: 'split', split: 'val', position: 2 } })
      const byFile = await service.activations({ ...ref, layer: 'conv 1-1', image: { kind: 'file', path: file } })
      const byUrl = await service.activations({ ...ref, layer: 'conv 1-1', image: { kind: 'data-url', dataUrl: `data:image/png;base64,${png.toString('base64')}` } })
      expect(byFile.data.maps).toEqual(bySplit.data.maps)
      expect(byUrl.data.maps).toEqual(bySplit.data.maps)
      await expect(service.activations({ ...ref, layer: 'conv 1-1', image: { kind: 'split', split: 'val', position: 10_000 } })).rejects.toThrow(/outside 0 … /)
      const page = await service.splitImages({ ...ref, offset: 2, limit: 3 })
      expect(page.total).toBe(val.indices.length)
      expect(page.images.map((i) => [i.position, i.index])).toEqual([2, 3, 4].map((p) => [p, val.indices[p]]))
      const decoded = await sharp(Buffer.from(page.images[0].dataUrl.split(',')[1], 'base64')).raw().toBuffer()
      expect(Array.from(decoded)).toEqual(Array.from(pixels))

      // A top-images scan holds its model while other requests, with room for one model, open others.
      await rm(vizCacheDir(project.dir, target.runId), { recursive: true, force: true })
      const scan = service.topImages({ ...ref, layer: 'block1_conv1', channel: 0, k: 3 })
      const others = Promise.all([service.layers({ projectDir: project.dir, runId: base.runId }), service.compareSummary(ref)])
      const [top] = await Promise.all([scan, others])
      expect(top.data.images).toHaveLength(3)
      expect(top.data.images[0].score).toBeCloseTo(top.data.images[0].map.max, 4)
      const figure = await sharp(await top.renderPng()).metadata()
      expect(figure.width).toBeGreaterThan(3 * 96)
    } finally {
      service.dispose()
    }
  })

  it('leaves no tensors behind', async () => {
    const pixels = imageBytes(val.set, val.indices[3], val.size)
    const before = tf.memory().numTensors
    await predictImage(target.model, target.meta, pixels, { temperature: 2 })
    await activationMaps(target.model, target.meta, pixels, 'block4_conv1', { maps: 'all' })
    const top = await computeTopActivations(target.model, target.meta, val, 'block3_conv1', { k: 4, score: 'mean' })
    await topImagesForChannel(target.model, target.meta, top, 1, 4)
    await runPredictions(project.dir, base, 'val', { loadSplit: () => loadRunSplit(base.record, base.meta, 'val') })
    await compareModels({ runId: 'a', model: base.model }, { runId: 'b', model: target.model }, target.depth, transferContextOf(target.record))
    await filterGrid(target.model, 'block2_conv1', { mode: 'channels' })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the model cache hands out one model per checkpoint and frees what it evicts', async () => {
    expect(await models.open(project.dir, project.transfer.id)).toBe(target)
    const cache = new RunModelCache(1)
    const before = tf.memory().numTensors
    await cache.open(project.dir, project.base.id)
    const loaded = tf.memory().numTensors - before
    expect(loaded).toBeGreaterThan(0)
    await cache.open(project.dir, project.transfer.id) // evicts the base
    expect(tf.memory().numTensors - before).toBe(loaded)
    cache.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(existsSync(join(project.dir, 'runs', project.base.id, 'best', 'model.json'))).toBe(true)
  })
})
