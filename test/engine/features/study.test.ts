import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { layerFromLabel, parseFeaturesArgs, runFeaturesCommand } from '../../../src/cli/commands/features'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { DEMO_CLASS_NAMES } from '../../../src/engine/data/demo-dataset'
import { prepareTrainingData } from '../../../src/engine/data/prepare-training-data'
import { FeatureStudyCancelled } from '../../../src/engine/features/cancel'
import { featureCacheRoot, listFeatureCaches } from '../../../src/engine/features/feature-cache'
import { runFeatureStudy } from '../../../src/engine/features/study'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { saveCheckpoint } from '../../../src/engine/models/checkpoint'
import { train } from '../../../src/engine/train/trainer'
import type { FeatureStudyResult } from '../../../src/shared/features'
import { resolveTrainConfig } from '../../../src/shared/train-config'

const A = DEMO_CLASS_NAMES.slice(0, 5)
const B = DEMO_CLASS_NAMES.slice(5)
let project: string

/** Trains a tiny VGG11-BN on some demo classes for a few epochs and saves it as runs/<id>/best. */
async function trainBase(id: string, classes: string[], epochs: number): Promise<void> {
  const config = resolveTrainConfig({ arch: 'vgg11_bn', width: 1 / 16, epochs, batchSize: 32, lr: 0.05, schedule: 'constant', trainPerClass: 100, seed: 1 })
  const { data } = await prepareTrainingData('demo', classes, config)
  const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: classes.length, seed: 1 })
  const summary = await train({ model, config, data })
  const normalization = { mean: [...data.normalization.mean], std: [...data.normalization.std] }
  await saveCheckpoint(join(project, 'runs', id, 'best'), model, { arch: 'vgg11_bn', width: 1 / 16, inputSize: 32, classNames: classes, normalization, epoch: epochs, valAcc: summary.bestValAcc })
  model.dispose()
}

beforeAll(async () => {
  await selectBackend('wasm')
  project = await mkdtemp(join(tmpdir(), 'tw-study-'))
  // Long enough that block4 features carry the shapes (3 epochs sometimes left them near chance).
  await trainBase('base-A', A, 8)
  await trainBase('base-B', B, 2)
})

afterAll(async () => {
  await rm(project, { recursive: true, force: true })
})

const common = () => ({ projectDir: project, source: 'base-A', dataset: 'demo', classes: B, testPerClass: 20, draws: 3, seed: 2 })

describe('feature study (demo data, tiny VGG11-BN trained on group A, studied on group B)', () => {
  it('few-shot curve rises with k; probes and soft-feature temperatures report per layer and T; caches are reused; no leaks', async () => {
    const before = tf.memory().numTensors
    const first = await runFeatureStudy({
      ...common(),
      layer: 'block4_pool',
      shots: [16, 1],
      probeLayers: ['block1_pool', 'block3_pool', 'fc1'],
      temperatures: [1, 8],
      temperatureMode: 'soft-features'
    })
    expect(tf.memory().numTensors).toBe(before)
    expect(first.classNames).toEqual(B)
    expect(first.preprocessing.name).toBe('checkpoint')
    expect(first.shots.map((s) => s.k)).toEqual([1, 16])
    expect(first.shots[1].meanAcc).toBeGreaterThan(first.shots[0].meanAcc)
    expect(first.shots[1].meanAcc).toBeGreaterThan(1 / 5 + 0.1) // well above chance on 100 test images
    expect(first.shots[0].accs).toHaveLength(3)
    expect(first.shots[0].curve).toHaveLength(100)
    // Uncertainty: every accuracy with the test set's size and its Wilson 95 % interval around it.
    expect([first.testPerClass, first.testImages]).toEqual([20, 100])
    for (const point of [...first.shots.map((s) => ({ acc: s.meanAcc, ...s })), ...first.probes, ...first.temperatures]) {
      expect(point.testImages).toBe(100)
      expect(point.ci95[0]).toBeLessThanOrEqual(point.acc)
      expect(point.ci95[1]).toBeGreaterThanOrEqual(point.acc)
      expect(point.ci95[1] - point.ci95[0]).toBeGreaterThan(0.05) // 100 images: several points either side
    }
    expect(Array.isArray(first.warnings)).toBe(true)
    expect(first.probes.map((p) => [p.layer, p.dims])).toEqual([['block1_pool', 4], ['block3_pool', 16], ['fc1', 256]])
    expect(first.probes.map((p) => p.depth)).toEqual([...first.probes.map((p) => p.depth)].sort((a, b) => a - b))
    expect(first.temperatureMode).toBe('soft-features')
    expect(first.temperatures.map((t) => t.T)).toEqual([1, 8])
    for (const t of first.temperatures) expect(t.acc).toBeGreaterThanOrEqual(0)
    // 5 layers (block4_pool, 3 probes, predictions for soft features) × (pool, test).
    expect([first.cacheMisses, first.cacheHits]).toEqual([10, 0])
    expect(first.timedImages).toBe(5 * 64) // the whole pool: 4 × the largest k per class
    expect(first.headEpochSeconds).toBeGreaterThan(0)
    expect(first.fullEpochSeconds).toBeGreaterThan(0)
    expect(first.speedup).toBe(first.fullEpochSeconds! / first.headEpochSeconds!)

    const again = await runFeatureStudy({ ...common(), layer: 'block4_pool', shots: [1, 16], timeFullPass: false })
    expect([again.cacheMisses, again.cacheHits, again.cacheSeconds]).toEqual([0, 2, 0])
    // Same caches, same seeds: the same curve.
    expect(again.shots.map((s) => s.accs)).toEqual(first.shots.map((s) => s.accs))
    expect([again.speedup, again.headEpochSeconds, again.timedImages]).toEqual([null, null, 0])
  })

  it("distills from a teacher's soft targets; a teacher without the study's classes is named", async () => {
    const result = await runFeatureStudy({ ...common(), layer: 'fc1', shots: [4], temperatures: [1, 4], temperatureMode: 'distill', teacher: 'base-B', timeFullPass: false })
    expect(result.temperatures.map((t) => t.T)).toEqual([1, 4])
    for (const t of result.temperatures) expect(t.acc).toBeGreaterThan(0)
    await expect(runFeatureStudy({ ...common(), layer: 'fc1', shots: [4], temperatures: [2], temperatureMode: 'distill', teacher: 'base-A', timeFullPass: false })).rejects.toThrow(
      /teacher does not predict 'cross', 'triangle'/
    )
  })

  it('evaluates on every test image of the classes by default', async () => {
    const { testPerClass: _, ...rest } = common()
    // A probe of the main layer itself reuses its test matrix: at probe k = 2 and one draw it is the k = 2 head again.
    const result = await runFeatureStudy({ ...rest, layer: 'fc1', probeLayers: ['fc1'], shots: [2], draws: 1, timeFullPass: false })
    // The demo dataset has 100 test images per class; 5 classes.
    expect([result.testPerClass, result.testImages, result.shots[0].testImages, result.probes[0].testImages]).toEqual([null, 500, 500, 500])
    expect(result.probes[0].acc).toBe(result.shots[0].meanAcc)
    await expect(runFeatureStudy({ ...common(), testPerClass: 0, layer: 'fc1', shots: [2] })).rejects.toThrow(/testPerClass: 0 is not a positive integer/)
  })

  it('stops when cancelled, leaving no half-built cache', async () => {
    const abort = new AbortController()
    const study = runFeatureStudy({ ...common(), layer: 'block2_pool', probeLayers: ['block3_conv1'], pooling: 'max', shots: [16], signal: abort.signal, onProgress: (p) => p.phase === 'caching' && abort.abort() })
    await expect(study).rejects.toThrow(FeatureStudyCancelled)
    const caches = await listFeatureCaches(featureCacheRoot(project))
    expect(caches.filter((c) => c.pooling === 'max')).toEqual([])
    expect((await readdir(featureCacheRoot(project))).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('names a wrong layer, a missing source and too small a pool', async () => {
    await expect(runFeatureStudy({ ...common(), layer: 'block9_conv1', shots: [2] })).rejects.toThrow(/no layer 'block9_conv1'; its layers are block1_conv1/)
    await expect(runFeatureStudy({ ...common(), source: 'base-Z', layer: 'fc1', shots: [2] })).rejects.toThrow(/'base-Z' is neither a run/)
    await expect(runFeatureStudy({ ...common(), layer: 'fc1', shots: [8], poolPerClass: 4, timeFullPass: false })).rejects.toThrow(/has 4 training images in the pool; k = 8 needs 8/)
  })
})

describe('cli features', () => {
  it('parses seed-style layer labels and flags', () => {
    expect(layerFromLabel('conv 3-1')).toBe('block3_conv1')
    expect(layerFromLabel('fc2')).toBe('fc2')
    const { options, json } = parseFeaturesArgs(['--project', 'p', '--source', 'r', '--layer', '4-2', '--dataset', 'demo', '--shots', '2,4', '--probe-k', 'all', '--epochs', '5', '--json'])
    expect(json).toBe(true)
    expect(options).toMatchObject({ layer: 'block4_conv2', shots: [2, 4], probeK: null, head: { epochs: 5 } })
    expect(options).not.toHaveProperty('draws') // unset flags leave the engine's defaults
    expect(() => parseFeaturesArgs(['--project', 'p', '--source', 'r', '--layer', 'fc1', '--dataset', 'demo', '--pooling', 'sum'])).toThrow(/--pooling: 'sum'/)
    expect(() => parseFeaturesArgs(['--project', 'p', '--layer', 'fc1', '--dataset', 'demo'])).toThrow(/--source is required/)
    const flags = ['--project', 'p', '--source', 'r', '--layer', 'fc1', '--dataset', 'demo']
    expect(parseFeaturesArgs([...flags, '--test-per-class', 'all']).options).not.toHaveProperty('testPerClass')
    expect(parseFeaturesArgs([...flags, '--test-per-class', '50']).options).toMatchObject({ testPerClass: 50 })
    expect(() => parseFeaturesArgs([...flags, '--test-per-class', '2.5'])).toThrow(/--test-per-class: '2.5' is not a positive whole number or 'all'/)
  })

  it('prints the study as JSON for charts, from a model.json path, and lists the caches', async () => {
    const chunks: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true))
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      const modelJson = join(project, 'runs', 'base-A', 'best', 'model.json')
      const code = await runFeaturesCommand(['--project', project, '--source', modelJson, '--layer', 'conv 4-1', '--dataset', 'demo', '--classes', B.join(','), '--shots', '2,4', '--draws', '2', '--epochs', '20', '--temperatures', '1,2', '--json'])
      expect(code).toBe(0)
      const result = JSON.parse(chunks.join('')) as FeatureStudyResult
      expect(result.layer).toBe('block4_conv1')
      expect(result.source).toBe(modelJson)
      expect(result.shots.map((s) => [s.k, s.accs.length, s.curve.length])).toEqual([[2, 2, 20], [4, 2, 20]])
      // Intervals and test-set sizes in the JSON: every demo test image of the 5 classes by default.
      expect(result.testImages).toBe(500)
      for (const s of [...result.shots, ...result.temperatures]) expect([s.testImages, s.ci95.length]).toEqual([500, 2])
      expect(Array.isArray(result.warnings)).toBe(true)
      expect(result.temperatureMode).toBe('head')
      expect(typeof result.speedup).toBe('number')
      chunks.length = 0
      expect(await runFeaturesCommand(['caches', '--project', project, '--json'])).toBe(0)
      const { caches } = JSON.parse(chunks.join('')) as { caches: { layer: string; source: string }[] }
      expect(caches.some((c) => c.layer === 'block4_conv1' && c.source === modelJson)).toBe(true)
    } finally {
      write.mockRestore()
      vi.restoreAllMocks()
    }
  })
})
