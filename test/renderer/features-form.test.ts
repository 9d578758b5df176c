import { describe, expect, it } from 'vitest'
import type { FeatureStudyResult } from '../../src/shared/features'
import type { Experiment, RunRecord } from '../../src/shared/project'
import type { VizLayerInfo } from '../../src/shared/viz'
import {
  blockEndLayers,
  buildFeatureRequest,
  classSets,
  createFeatureDraft,
  defaultFeatureLayer,
  parseNumberList,
  presetSpec,
  sourceRuns,
  suggestedClassSet
} from '../../src/renderer/src/lib/features-form'
import { featureCsv, fewShotData, lossAxisMax, formatEpochTime, formatSpeedup, mainPointCount, probeData, progressText, shotCurvesData, temperatureData } from '../../src/renderer/src/lib/features-charts'

const layer = (name: string, kind: 'conv' | 'dense', index: number): VizLayerInfo => ({ name, label: name, kind, index, channels: 4, outputSize: 1, trainable: true })
const LAYERS = [layer('block1_conv1', 'conv', 1), layer('block1_conv2', 'conv', 2), layer('block2_conv1', 'conv', 3), layer('block2_conv2', 'conv', 4), layer('block3_conv1', 'conv', 5), layer('fc1', 'dense', 6), layer('fc2', 'dense', 7)]

const experiment: Experiment = { id: 'e1', name: 'A→B', dataset: 'demo', groups: { A: ['stripes-h', 'checker'], B: ['disc', 'ring', 'cross'], C: ['dots'] }, bases: ['A'], transfers: [], config: {} }
const run = (over: Partial<RunRecord>): RunRecord => ({ id: 'base-A', kind: 'base', to: 'A', from: null, experimentId: 'e1', dataset: 'demo', classes: ['stripes-h', 'checker'], status: 'done', ...over }) as RunRecord

const curve = (epochs: number) => Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), trainAcc: 0.5 + i / 20, testLoss: 1.2 / (i + 1), testAcc: 0.4 + i / 25 }))
const RESULT: FeatureStudyResult = {
  source: 'base-A',
  layer: 'fc1',
  pooling: 'avg',
  dataset: 'demo',
  classNames: ['disc', 'ring', 'cross'],
  preprocessing: { name: 'checkpoint', channelOrder: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
  inputSize: 32,
  backend: 'wasm',
  cacheSeconds: 1.5,
  cacheHits: 1,
  cacheMisses: 2,
  headEpochSeconds: 0.0004,
  fullEpochSeconds: 0.02,
  speedup: 50,
  timedImages: 48,
  testPerClass: 4,
  shots: [
    { k: 2, meanAcc: 0.5, stdAcc: 0.1, accs: [0.4, 0.6], curve: curve(5) },
    { k: 4, meanAcc: 0.7, stdAcc: 0.05, accs: [0.65, 0.75], curve: curve(5) }
  ],
  probes: [
    { layer: 'fc1', depth: 6, dims: 16, acc: 0.8, stdAcc: 0, curve: curve(3) },
    { layer: 'block1_conv2', depth: 2, dims: 4, acc: 0.5, stdAcc: 0, curve: curve(3) }
  ],
  temperatureMode: 'head',
  temperatures: [
    { T: 1, acc: 0.6, stdAcc: 0, curve: curve(2) },
    { T: 4, acc: 0.65, stdAcc: 0, curve: curve(2) }
  ],
  notes: []
}

describe('feature study form', () => {
  it('builds the request from the draft: sorted unique shots, probes and temperatures only when given', () => {
    const draft = { ...createFeatureDraft(), runId: 'base-A', layer: 'fc1', classes: 'disc, ring,cross, ring', shots: '8 4, 4,2', probeLayers: ['block1_conv2'], temperatures: '4, 1' }
    const { request, errors } = buildFeatureRequest(draft)
    expect(errors).toEqual([])
    expect(request).toEqual({
      source: 'base-A',
      layer: 'fc1',
      dataset: 'demo',
      classes: ['disc', 'ring', 'cross'],
      shots: [2, 4, 8],
      testPerClass: 8,
      draws: 3,
      pooling: 'avg',
      timeFullPass: true,
      probeLayers: ['block1_conv2'],
      temperatures: [1, 4],
      temperatureMode: 'head'
    })
    const plain = buildFeatureRequest({ ...draft, temperatures: '', probeLayers: [], classes: '' }).request!
    expect(plain).not.toHaveProperty('temperatures')
    expect(plain).not.toHaveProperty('probeLayers')
    expect(plain).not.toHaveProperty('classes')
  })

  it('names every problem and builds nothing', () => {
    const { request, errors } = buildFeatureRequest({ ...createFeatureDraft(), shots: '2, x', temperatures: '0', draws: 0, temperatureMode: 'distill', classes: 'disc' })
    expect(request).toBeNull()
    expect(errors.join('\n')).toMatch(/base run[\s\S]*layer[\s\S]*two classes[\s\S]*Shots: 'x'[\s\S]*Temperatures: '0'[\s\S]*Draws/)
    expect(parseNumberList('1.5', 'Shots', true).error).toMatch(/whole number/)
    expect(parseNumberList('0.5, 2', 'T', false)).toEqual({ values: [0.5, 2], error: null })
  })

  it('sends a model file with its preprocessing spec and the teacher for distillation', () => {
    const draft = { ...createFeatureDraft(), sourceKind: 'file' as const, modelPath: ' /m/vgg16/model.json ', layer: 'block5_conv3', preprocessing: 'torch' as const, inputSize: 64, temperatureMode: 'distill' as const, teacher: 'base-A' }
    const { request } = buildFeatureRequest(draft)
    expect(request).toMatchObject({ source: '/m/vgg16/model.json', inputSize: 64, teacher: 'base-A', temperatureMode: 'distill', preprocessing: presetSpec('torch') })
  })

  it('spells the presets as the engine does (Keras caffe: BGR minus the 0…255 means; torch: ImageNet mean/std)', () => {
    // The engine's table imports tfjs, so the renderer keeps a copy: these are the engine's numbers.
    expect(presetSpec('caffe')).toEqual({ name: 'caffe', channelOrder: 'bgr', mean: [103.939 / 255, 116.779 / 255, 123.68 / 255], std: [1 / 255, 1 / 255, 1 / 255] })
    expect(presetSpec('tf')).toEqual({ name: 'tf', channelOrder: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] })
    expect(presetSpec('torch')).toEqual({ name: 'torch', channelOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })
    expect(presetSpec('unit')).toEqual({ name: 'unit', channelOrder: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] })
  })

  it('picks fc1, the ends of conv blocks, finished runs, and the other group’s classes', () => {
    expect(defaultFeatureLayer(LAYERS)).toBe('fc1')
    expect(defaultFeatureLayer(LAYERS.slice(0, 3))).toBe('block2_conv1')
    expect(blockEndLayers(LAYERS)).toEqual(['block1_conv2', 'block2_conv2', 'block3_conv1'])
    expect(sourceRuns([run({ id: 't', kind: 'transfer' }), run({ id: 'p', status: 'planned' }), run({})]).map((r) => r.id)).toEqual(['base-A', 't'])
    expect(suggestedClassSet(run({}), [experiment])).toEqual({ dataset: 'demo', classes: ['disc', 'ring', 'cross'] })
    expect(suggestedClassSet(run({ experimentId: null }), [experiment])).toEqual({ dataset: 'demo', classes: ['stripes-h', 'checker'] })
    // Groups of one class are no study.
    expect(classSets([experiment]).map((s) => s.key)).toEqual(['e1/A', 'e1/B'])
  })
})

describe('feature study charts and tables', () => {
  it('draws the few-shot mean with a ± std band and each draw', () => {
    const data = fewShotData(RESULT)
    expect(data.datasets.map((d) => d.label)).toEqual(['', '', 'mean test accuracy (± 1 std)', 'each draw'])
    expect(data.datasets[0]!.data.map((p) => p.x)).toEqual([2, 4])
    expect(data.datasets[0]!.data.map((p) => p.y)).toEqual([expect.closeTo(0.4), expect.closeTo(0.65)])
    expect(data.datasets[1]!.data.map((p) => p.y)).toEqual([expect.closeTo(0.6), expect.closeTo(0.75)])
    expect(data.datasets[3]!.data).toHaveLength(4)
    expect(mainPointCount(data)).toBe(2)
  })

  it('puts train and test curves per k, probes in depth order, temperatures as tried', () => {
    const acc = shotCurvesData(RESULT, 'acc')
    expect(acc.datasets.map((d) => d.label)).toEqual(['k=2 train', 'k=2 test', 'k=4 train', 'k=4 test'])
    expect(acc.datasets[1]!.data[0]).toEqual({ x: 1, y: 0.4 })
    expect(shotCurvesData(RESULT, 'loss').datasets[0]!.data[1]).toEqual({ x: 2, y: 0.5 })
    const probes = probeData(RESULT)
    expect(probes.labels).toEqual(['block1_conv2', 'fc1'])
    expect(mainPointCount(probes)).toBe(2)
    expect(temperatureData(RESULT).labels).toEqual(['T=1', 'T=4'])
  })

  it('clips the loss axis only when the first steps dwarf the rest', () => {
    expect(lossAxisMax(RESULT)).toBeNull()
    const spiky = { ...RESULT, shots: [{ ...RESULT.shots[0]!, curve: RESULT.shots[0]!.curve.map((p, i) => (i === 0 ? { ...p, trainLoss: 5000 } : p)) }] }
    expect(lossAxisMax(spiky)).toBeCloseTo((1.2 / 2) * 1.25, 5)
  })

  it('exports the tables as CSV', () => {
    const csv = featureCsv(RESULT)
    expect(csv.shots).toBe('k,mean_test_acc,std_test_acc,draws,draw_accs\n2,0.5,0.1,2,0.4 0.6\n4,0.7,0.05,2,0.65 0.75\n')
    expect(csv.probes.split('\n')[1]).toBe('fc1,6,16,0.8,0')
    expect(csv.temperatures.split('\n')).toHaveLength(4)
    expect(csv.curves.split('\n')[0]).toBe('k,epoch,train_loss,train_acc,test_loss,test_acc')
    expect(csv.curves.trim().split('\n')).toHaveLength(11)
    expect(csv.timing.split('\n')[1]).toBe('base-A,fc1,avg,wasm,48,0.0004,0.02,50,1.5,1,2')
  })

  it('formats times, speed-ups and progress', () => {
    expect(formatEpochTime(0.0004)).toBe('0.40 ms')
    expect(formatEpochTime(0.02)).toBe('20 ms')
    expect(formatEpochTime(1.25)).toBe('1.3 s')
    expect(formatSpeedup(50)).toBe('50×')
    expect(formatSpeedup(3.14)).toBe('3.1×')
    expect(progressText({ phase: 'caching', message: 'x', done: 40, total: 96 }, 123.4)).toBe('Caching activations · 40/96 images · 123 images/s')
    expect(progressText({ phase: 'few-shot', message: 'x', done: 1, total: 2 }, null)).toBe('Few-shot heads · 1/2 heads')
  })
})
