import { describe, expect, it } from 'vitest'
import { wilsonInterval, type FeatureStudyResult } from '../../src/shared/features'
import type { Experiment, RunRecord } from '../../src/shared/project'
import type { VizLayerInfo } from '../../src/shared/viz'
import {
  blockEndLayers,
  buildFeatureRequest,
  classSets,
  createFeatureDraft,
  defaultFeatureLayer,
  parseNumberList,
  parseTestPerClass,
  presetSpec,
  sourceRuns,
  suggestedClassSet
} from '../../src/renderer/src/lib/features-form'
import {
  featureCsv,
  fewShotData,
  formatAccStd,
  formatInterval,
  INTERVAL_LABEL,
  lossAxisMax,
  formatEpochTime,
  formatSpeedup,
  mainPointCount,
  probeData,
  progressText,
  shotCurvesData,
  temperatureData,
  testSetText,
  trendWarnings
} from '../../src/renderer/src/lib/features-charts'

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
  testPerClass: null,
  testImages: 300,
  shots: [
    { k: 2, meanAcc: 0.5, stdAcc: 0.1, ci95: [0.44, 0.56], testImages: 300, accs: [0.4, 0.6], curve: curve(5) },
    { k: 4, meanAcc: 0.7, stdAcc: 0.05, ci95: [0.65, 0.75], testImages: 300, accs: [0.65, 0.75], curve: curve(5) }
  ],
  probes: [
    { layer: 'fc1', depth: 6, dims: 16, acc: 0.8, stdAcc: 0, ci95: [0.75, 0.84], testImages: 300, curve: curve(3) },
    { layer: 'block1_conv2', depth: 2, dims: 4, acc: 0.5, stdAcc: 0, ci95: [0.44, 0.56], testImages: 300, curve: curve(3) }
  ],
  temperatureMode: 'head',
  temperatures: [
    { T: 1, acc: 0.6, stdAcc: 0, ci95: [0.54, 0.66], testImages: 300, curve: curve(2) },
    { T: 4, acc: 0.65, stdAcc: 0, ci95: [0.59, 0.70], testImages: 300, curve: curve(2) }
  ],
  warnings: [],
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
    expect(plain).not.toHaveProperty('testPerClass') // the default: every test image of the classes
    expect(buildFeatureRequest({ ...draft, testPerClass: ' 32 ' }).request).toMatchObject({ testPerClass: 32 })
    expect(buildFeatureRequest({ ...draft, testPerClass: 'ALL' }).request).not.toHaveProperty('testPerClass')
  })

  it('reads test images per class as a whole number or all, naming anything else', () => {
    expect(createFeatureDraft().testPerClass).toBe('all')
    expect([parseTestPerClass(''), parseTestPerClass('all'), parseTestPerClass('8'), parseTestPerClass(8)]).toEqual([undefined, undefined, 8, 8])
    expect([parseTestPerClass('0'), parseTestPerClass('2.5'), parseTestPerClass('some')]).toEqual(['invalid', 'invalid', 'invalid'])
    const { errors } = buildFeatureRequest({ ...createFeatureDraft(), runId: 'base-A', layer: 'fc1', testPerClass: 'some' })
    expect(errors).toEqual(["Test images per class: 'some' is neither a whole number of at least 1 nor 'all'."])
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
    expect(data.datasets.map((d) => d.label)).toEqual(['', '', 'mean test accuracy (± 1 std)', INTERVAL_LABEL, 'each draw'])
    expect(data.datasets[0]!.data.map((p) => p.x)).toEqual([2, 4])
    expect(data.datasets[0]!.data.map((p) => p.y)).toEqual([expect.closeTo(0.4), expect.closeTo(0.65)])
    expect(data.datasets[1]!.data.map((p) => p.y)).toEqual([expect.closeTo(0.6), expect.closeTo(0.75)])
    expect(data.datasets[4]!.data).toHaveLength(4)
    expect(mainPointCount(data)).toBe(2)
    // Error bars: per k a segment from the interval's low to its high end, then a break.
    expect(data.datasets[3]!.data).toEqual([
      { x: 2, y: 0.44 },
      { x: 2, y: 0.56 },
      { x: 2, y: null },
      { x: 4, y: 0.65 },
      { x: 4, y: 0.75 },
      { x: 4, y: null }
    ])
    expect(probeData(RESULT).datasets.at(-1)!.data).toEqual([{ x: 'block1_conv2', y: 0.44 }, { x: 'block1_conv2', y: 0.56 }, { x: 'block1_conv2', y: null }, { x: 'fc1', y: 0.75 }, { x: 'fc1', y: 0.84 }, { x: 'fc1', y: null }])
    expect(temperatureData(RESULT).datasets.at(-1)!.label).toBe(INTERVAL_LABEL)
  })

  it('warns in words where neighbouring points of a drawn trend overlap within their uncertainty', () => {
    // k=2 (50 % ± 10 %, 44–56 %) and k=4 (70 %, 65–75 %): 40–60 % against 65–75 %, apart. Probes: apart.
    // T=1 (54–66 %) and T=4 (59–70 %) overlap.
    expect(trendWarnings(RESULT)).toEqual(['temperatures: T=1 and T=4 differ by less than their uncertainty (60.0% vs 65.0%; plausible ranges 54.0%–66.0% and 59.0%–70.0%)'])
    // The std over draws counts too: k=2 at ± 20 % reaches k=4's interval.
    const spread = { ...RESULT, shots: [{ ...RESULT.shots[0]!, stdAcc: 0.2 }, RESULT.shots[1]!] }
    expect(trendWarnings(spread)[0]).toMatch(/^few-shot curve: k=2 and k=4 differ by less than their uncertainty/)
  })

  it('shows accuracies with their std, interval and test-set size, also for results stored before intervals', () => {
    expect(formatAccStd(0.4123, 0.0131)).toBe('41.2% ± 1.3%')
    expect(formatInterval([0.381, 0.443])).toBe('38.1–44.3%')
    expect(formatInterval(undefined)).toBe('—')
    expect(testSetText(RESULT)).toBe('300 test images (every test image of the classes)')
    expect(testSetText({ ...RESULT, testPerClass: 8, testImages: 24 })).toBe('24 test images (8 per class)')
    const old = { ...RESULT, testPerClass: 8, shots: RESULT.shots.map(({ ci95: _ci, testImages: _n, ...s }) => s) } as unknown as typeof RESULT
    delete (old as Partial<typeof RESULT>).testImages
    expect(testSetText(old)).toBe('8 test images per class')
    expect(fewShotData(old).datasets[3]!.data).toEqual([])
    expect(featureCsv(old).shots.split('\n')[1]).toBe('2,0.5,0.1,,,,2,0.4 0.6')
  })

  it('computes Wilson 95 % intervals (50 of 100: 40.4–59.6 %), inside 0…1 at the extremes', () => {
    const [lo, hi] = wilsonInterval(0.5, 100)
    expect(lo).toBeCloseTo(0.4038, 4)
    expect(hi).toBeCloseTo(0.5962, 4)
    expect(wilsonInterval(0, 80)[0]).toBe(0)
    expect(wilsonInterval(0, 80)[1]).toBeCloseTo(0.0458, 3)
    expect(wilsonInterval(1, 80)[1]).toBe(1)
    // 80 test images: ± 11 points at 50 %; every CIFAR-10 test image of 10 classes (10,000): ± 1 point.
    expect(wilsonInterval(0.5, 80)[1] - 0.5).toBeGreaterThan(0.1)
    expect(wilsonInterval(0.5, 10_000)[1] - 0.5).toBeLessThan(0.01)
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
    expect(csv.shots).toBe('k,mean_test_acc,std_test_acc,ci95_low,ci95_high,test_images,draws,draw_accs\n2,0.5,0.1,0.44,0.56,300,2,0.4 0.6\n4,0.7,0.05,0.65,0.75,300,2,0.65 0.75\n')
    expect(csv.probes.split('\n')[1]).toBe('fc1,6,16,0.8,0,0.75,0.84,300')
    expect(csv.temperatures.split('\n')[0]).toBe('T,test_acc,std_test_acc,ci95_low,ci95_high,test_images')
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
