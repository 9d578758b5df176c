import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { DEMO_CLASS_NAMES } from '../../../src/engine/data/demo-dataset'
import { extractFeatures } from '../../../src/engine/features/extract'
import { runFeatureStudy } from '../../../src/engine/features/study'
import { loadCheckpoint } from '../../../src/engine/models/checkpoint'
import { evaluate } from '../../../src/engine/train/evaluate'
import { trainStandaloneRun } from '../../../src/engine/train/train-standalone-run'
import { imageBytes, imagesToTensor, normalizationOf } from '../../../src/engine/viz/image-input'
import { loadRunSplit, type RunSplit } from '../../../src/engine/viz/run-split'
import { VizService } from '../../../src/engine/viz/viz-service'
import type { RunRecord } from '../../../src/shared/project'
import type { TrainEvent, TrainOutcome } from '../../../src/shared/train-request'
import { describeWebGpu, readAll, relativeError, watchGpuSyncReads, webGpuAdapter } from './webgpu-support'

/**
 * Everything a user does with one run, on webgpu: train a tiny VGG11-BN on the demo data through the
 * engine's entry point (trainStandaloneRun: data, model, trainer, checkpoints, run.json), load the
 * checkpoint back, look inside it through the viz service, and extract features from it — with no
 * synchronous GPU read anywhere (on webgpu in Node those throw) and no tensor left behind.
 */

const RUN = 'train'
const CLASSES = DEMO_CLASS_NAMES.slice(0, 5)
/** Relative error allowed between webgpu and cpu inference on the same checkpoint (see webgpu-ops). */
const TOLERANCE = 1e-4

let project: string
let runFolder: string
let outcome: TrainOutcome
let record: RunRecord
let val: RunSplit
let watch: ReturnType<typeof watchGpuSyncReads> | undefined

describeWebGpu('a tiny run on webgpu, end to end: train, reload, viz, features', () => {
  beforeAll(async () => {
    const info = await selectBackend('webgpu')
    expect(info.backend).toBe('webgpu')
    watch = watchGpuSyncReads()
    project = await mkdtemp(join(tmpdir(), 'wb-webgpu-'))
    // trainStandaloneRun writes its run where a project keeps run `train`, so the viz service finds it.
    runFolder = join(project, 'runs', RUN)
  })

  afterAll(async () => {
    watch?.stop()
    if (project) await rm(project, { recursive: true, force: true })
  })

  it('trains one epoch: run.json records backend webgpu and the adapter; accuracies are numbers', async () => {
    const events: TrainEvent[] = []
    outcome = await trainStandaloneRun(
      {
        dataset: 'demo',
        classes: CLASSES,
        config: { arch: 'vgg11_bn', width: 0.125, epochs: 1, batchSize: 16, trainPerClass: 24, lr: 0.05, schedule: 'constant', seed: 4 },
        outDir: runFolder
      },
      (e) => events.push(e)
    )
    expect(outcome).toMatchObject({ status: 'done', epochs: 1, backend: 'webgpu' })
    record = JSON.parse(await readFile(join(runFolder, 'run.json'), 'utf8')) as RunRecord
    expect(record.status).toBe('done')
    expect(record.backend).toBe('webgpu')
    expect(record.device).toContain(webGpuAdapter)
    for (const acc of [record.bestValAcc, record.testAcc]) {
      expect(typeof acc).toBe('number')
      expect(acc).toBeGreaterThanOrEqual(0)
      expect(acc).toBeLessThanOrEqual(1)
    }
    expect(events.some((e) => e.type === 'status' && e.message.includes('webgpu'))).toBe(true)
    const epochs = events.filter((e) => e.type === 'epoch')
    expect(epochs).toHaveLength(1)
    expect(Number.isFinite(epochs[0].type === 'epoch' && epochs[0].metrics.trainLoss)).toBe(true)
  }, 300_000)

  it('the checkpoint loads back on webgpu and scores the validation accuracy run.json recorded', async () => {
    const { model, meta } = await loadCheckpoint(join(runFolder, 'best'))
    try {
      expect(meta.classNames).toEqual(CLASSES)
      val = await loadRunSplit(record, meta, 'val')
      const before = tf.memory().numTensors
      const result = await evaluate(model, val.set, val.indices, { size: val.size, normalization: normalizationOf(meta), batchSize: 16, numClasses: CLASSES.length })
      expect(tf.memory().numTensors).toBe(before)
      expect(result.acc).toBe(record.bestValAcc)
    } finally {
      model.dispose()
    }
  })

  it('viz on the checkpoint: filters (and since init), histograms, activations, top images, a prediction, the confusion matrix', async () => {
    const before = tf.memory().numTensors
    const viz = new VizService()
    const ref = { projectDir: project, runId: RUN }
    const image = { kind: 'split' as const, split: 'val' as const, position: 0 }
    try {
      const filters = await viz.filters({ ...ref, layer: 'conv 1-1' })
      expect(filters.data.filters).toHaveLength(8)
      const change = await viz.filters({ ...ref, layer: 'block2_conv1', relativeTo: 'init' })
      expect(change.data.outputChannels).toBe(16)
      const histograms = await viz.histograms({ ...ref, layers: ['block1_conv1', 'fc1'] })
      expect(histograms.data.map((h) => h.count)).toEqual([3 * 3 * 3 * 8, 64 * 512])
      for (const h of histograms.data) expect(Number.isFinite(h.std) && h.std > 0).toBe(true)
      const maps = await viz.activations({ ...ref, layer: 'block3_conv1', image, maps: 4 })
      expect(maps.data.maps).toHaveLength(4)
      const top = await viz.topImages({ ...ref, layer: 'block2_conv1', channel: 3, k: 4 })
      expect(top.data.scanned).toBe(val.indices.length)
      expect(top.data.images.map((i) => i.rank)).toEqual([1, 2, 3, 4])
      const prediction = await viz.predict({ ...ref, image, top: 5 })
      const probabilities = prediction.data.top.map((t) => t.probability)
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
      const confusion = await viz.confusion({ ...ref, split: 'val' })
      expect(confusion.data.total).toBe(val.indices.length)
      // The same images through the viz path (cached predictions) as through evaluate.
      expect(confusion.data.accuracy).toBeCloseTo(record.bestValAcc as number, 10)
      for (const png of await Promise.all([filters, maps, top, prediction, confusion].map((r) => r.renderPng()))) expect(png.subarray(1, 4).toString()).toBe('PNG')
    } finally {
      viz.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
  }, 300_000)

  it('features of a few images on webgpu match the cpu backend on the same checkpoint; a small few-shot study runs', async () => {
    const layers = ['block2_pool', 'block4_conv2', 'fc1', 'predictions']
    const count = 6
    const pixels = new Uint8Array(count * val.size * val.size * 3)
    for (let i = 0; i < count; i++) pixels.set(imageBytes(val.set, val.indices[i], val.size), i * val.size * val.size * 3)
    const extract = async (): Promise<Float32Array[]> => {
      const { model, meta } = await loadCheckpoint(join(runFolder, 'best'))
      const x = imagesToTensor(pixels, count, val.size, normalizationOf(meta))
      const features = extractFeatures(model, x, layers, 'avg')
      const values = await readAll(features)
      tf.dispose([x, ...features])
      model.dispose()
      return values
    }
    const before = tf.memory().numTensors
    const gpu = await extract()
    expect(tf.memory().numTensors).toBe(before)
    await tf.setBackend('cpu')
    const cpu = await extract()
    await tf.setBackend('webgpu')
    expect(gpu.map((f) => f.length)).toEqual([count * 16, count * 64, count * 512, count * CLASSES.length])
    const errors = cpu.map((ref, i) => relativeError(ref, gpu[i]))
    console.log(`features, max |webgpu − cpu| / max |cpu|: ${layers.map((l, i) => `${l} ${errors[i].toExponential(1)}`).join(', ')}`)
    errors.forEach((e, i) => expect(e, layers[i]).toBeLessThan(TOLERANCE))

    const study = await runFeatureStudy({ projectDir: project, source: RUN, dataset: 'demo', classes: DEMO_CLASS_NAMES.slice(5), layer: 'fc1', shots: [2], testPerClass: 4, draws: 1, timeFullPass: false, head: { epochs: 5 } })
    expect(study.shots).toHaveLength(1)
    expect(study.shots[0].meanAcc).toBeGreaterThanOrEqual(0)
    expect(tf.memory().numTensors).toBe(before)
  }, 300_000)

  it('read nothing synchronously from the GPU', () => {
    expect(watch?.reads).toEqual([])
  })
})
