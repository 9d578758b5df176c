import { studyWarnings, type FeaturePooling, type FeatureProgress, type FeatureStudyRequest, type FeatureStudyResult, type HeadOptions, type ProbeResult, type TemperatureMode, type TemperatureResult } from '../../shared/features'
import { selectBackend } from '../backend/select-backend'
import { ensureFeatureCaches, featureCacheRoot, type FeatureCache } from './feature-cache'
import { layerDepth, pooledDims } from './extract'
import { runDraws, runFewShot, summarizeAccuracy, type DrawsInput, type RowPool, type TestMatrix } from './few-shot'
import { openFrozenSource, type FrozenSource } from './frozen-source'
import { timeEpochs, type EpochTimes } from './full-pass'
import { DEFAULT_HEAD_OPTIONS, memorySource } from './head'
import { loadStudyImages, type StudyImages } from './study-data'
import { endsInSoftmax, softFeaturePool, softFeatureTest, softTargetsFor, teacherColumns } from './temperature'

/** Everything a feature study can be asked to do, in the project at `projectDir`. */
export interface FeatureStudyOptions extends FeatureStudyRequest {
  projectDir: string
  /** Cooperative cancel: checked between image batches and between heads. */
  signal?: AbortSignal
  onProgress?(progress: FeatureProgress): void
}

/**
 * Seed 003 on the workbench's engine: caches a frozen network's features (train pool and test set,
 * all asked layers in one pass each), then few-shot curves on `layer`, probes of other layers, a
 * temperature sweep, and the measured speed-up of cached features over a full pass per epoch.
 */
export async function runFeatureStudy(options: FeatureStudyOptions): Promise<FeatureStudyResult> {
  const backend = await selectBackend()
  const progress = options.onProgress ?? (() => undefined)
  const shots = [...(options.shots ?? [2, 4, 8, 16])].sort((a, b) => a - b)
  // Every test image by default: with 8 per class one image moved a 10-class accuracy by 1.25 points and
  // the standard error (≈ 5 points) hid the differences a study is for. The cache makes a rerun cheap.
  const testPerClass = options.testPerClass ?? null
  if (testPerClass !== null && (!Number.isInteger(testPerClass) || testPerClass < 1)) throw new Error(`testPerClass: ${testPerClass} is not a positive integer`)
  const draws = options.draws ?? 3
  const seed = options.seed ?? 0
  const pooling = options.pooling ?? 'avg'
  const head: HeadOptions = { ...DEFAULT_HEAD_OPTIONS, seed, ...options.head }
  const probeK = options.probeK === undefined ? shots.at(-1) ?? null : options.probeK
  const temperatures = options.temperatures ?? []
  const mode = temperatures.length > 0 ? (options.temperatureMode ?? 'head') : null
  for (const k of shots) if (!Number.isInteger(k) || k < 1) throw new Error(`shots: ${k} is not a positive integer`)
  for (const T of temperatures) if (!(T > 0)) throw new Error(`temperatures: ${T} is not positive`)
  if (mode === 'distill' && !options.teacher) throw new Error("temperature mode 'distill' needs a teacher (a run id or model file)")

  progress({ phase: 'loading', message: `opening ${options.source}`, done: 0, total: 1 })
  const source = await openFrozenSource(options.projectDir, options.source, { preprocessing: options.preprocessing, inputSize: options.inputSize })
  let teacher: FrozenSource | undefined
  try {
    const outputLayer = source.model.layers.at(-1)!.name
    const probeLayers = options.probeLayers ?? []
    const layers = [...new Set([options.layer, ...probeLayers, ...(mode === 'soft-features' ? [outputLayer] : [])])]
    for (const layer of layers) layerDepth(source.model, layer) // names the valid layers if one is wrong
    if (mode === 'soft-features' && (source.model.getLayer(outputLayer).outputShape as unknown[]).length !== 2) {
      throw new Error(`temperature mode 'soft-features' needs the source's classifier output, but ${options.source} ends in '${outputLayer}' (a model without its top)`)
    }

    const images = await loadStudyImages(options.dataset, {
      classes: options.classes,
      poolPerClass: options.poolPerClass ?? 4 * (shots.at(-1) ?? 16),
      testPerClass,
      seed,
      imageSize: source.inputSize,
      onProgress: (p) => progress({ phase: 'loading', message: `reading ${options.dataset}`, done: p.done, total: p.total })
    })
    checkTestMatrixSize(images.test.indices.length, layers.map((layer) => ({ layer, dims: pooledDims(source.model, layer, pooling) })))
    const caches = await cacheBoth(options.projectDir, source, layers, pooling, options.dataset, images, progress, options.signal)
    const notes = [...source.notes, ...images.notes]
    const pool = (layer: string): FeatureCache => caches.pool.get(layer) as FeatureCache
    const readTest = async (layer: string): Promise<TestMatrix> => {
      const cache = caches.test.get(layer) as FeatureCache
      return { x: await cache.readRows(Int32Array.from(cache.labels.keys())), labels: cache.labels }
    }
    // The main layer's test matrix stays in memory for the whole study (few-shot, then temperatures);
    // a probe or output layer that is the main layer reuses it instead of reading it again.
    const mainTest = await readTest(options.layer)
    const test = async (layer: string): Promise<TestMatrix> => (layer === options.layer ? mainTest : readTest(layer))
    const classNames = images.classNames
    const base = { classNames, draws, seed, head, signal: options.signal }
    let headsDone = 0
    const perFixedK = probeK === null ? 1 : draws // the whole pool is one draw
    const headsTotal = shots.length * draws + (probeLayers.length + temperatures.length) * perFixedK
    const onHead = (phase: FeatureProgress['phase']) => () => progress({ phase, message: `${phase}: head ${++headsDone} of ${headsTotal}`, done: headsDone, total: headsTotal })

    const fewShot = await runFewShot({ ...base, pool: pool(options.layer), test: mainTest, shots, onHead: onHead('few-shot') })

    const probes: ProbeResult[] = []
    for (const layer of probeLayers) {
      const outcome = await runDraws({ ...base, pool: pool(layer), test: await test(layer), k: probeK, onHead: onHead('probes') })
      probes.push({ layer, depth: layerDepth(source.model, layer), dims: pool(layer).meta.dims, ...summarizeAccuracy(outcome), curve: outcome.curve })
    }

    let temperatureResults: TemperatureResult[] = []
    if (mode) {
      if (mode === 'distill') {
        teacher = await openFrozenSource(options.projectDir, options.teacher as string)
        if (!teacher.classNames) throw new Error(`teacher ${options.teacher} does not say which classes it predicts (no workbench.json)`)
      }
      const draw = { ...base, k: probeK, onHead: onHead('temperature') }
      temperatureResults = await sweepTemperatures(mode, temperatures, draw, {
        source,
        outputLayer,
        mainPool: pool(options.layer),
        mainTest,
        outputPool: mode === 'soft-features' ? pool(outputLayer) : undefined,
        outputTest: mode === 'soft-features' ? await test(outputLayer) : undefined,
        teacher,
        teacherPool: teacher ? await cacheTeacher(options.projectDir, teacher, options.dataset, images, progress) : undefined,
        alpha: options.distillAlpha ?? 0.9
      })
      if (mode === 'soft-features') notes.push(`temperature features: softmax(${outputLayer} / T) of the source, heads without standardization`)
    }

    let times: EpochTimes | undefined
    if (options.timeFullPass ?? true) {
      progress({ phase: 'timing', message: 'timing cached-feature epochs against full forward passes', done: 0, total: 1 })
      times = await timeBoth(source, pool(options.layer), images, options.layer, pooling, head, classNames.length)
    }
    return {
      source: source.label,
      layer: options.layer,
      pooling,
      dataset: options.dataset,
      classNames,
      preprocessing: source.preprocessing,
      inputSize: source.inputSize,
      backend: backend.label,
      cacheSeconds: caches.seconds,
      cacheHits: caches.hits,
      cacheMisses: caches.misses,
      headEpochSeconds: times?.headEpochSeconds ?? null,
      fullEpochSeconds: times?.fullEpochSeconds ?? null,
      speedup: times ? times.fullEpochSeconds / times.headEpochSeconds : null,
      timedImages: times?.images ?? 0,
      testPerClass,
      testImages: mainTest.labels.length,
      shots: fewShot.shots,
      probes,
      temperatureMode: mode,
      temperatures: temperatureResults,
      warnings: studyWarnings({ shots: fewShot.shots, probes, temperatures: temperatureResults }),
      notes
    }
  } finally {
    source.model.dispose()
    teacher?.model.dispose()
  }
}

/** Fills or reuses the pool and test caches of every layer (one forward pass per image set). */
async function cacheBoth(projectDir: string, source: FrozenSource, layers: string[], pooling: FeaturePooling, dataset: string, images: StudyImages, progress: (p: FeatureProgress) => void, signal?: AbortSignal) {
  const root = featureCacheRoot(projectDir)
  const common = { signal, model: source.model, modelFingerprint: source.fingerprint, source: source.label, layers, pooling, dataset, classNames: images.classNames, imageSize: images.imageSize, inputSize: source.inputSize, preprocessing: source.preprocessing }
  const total = images.pool.indices.length + images.test.indices.length
  const report = (offset: number) => (done: number) => progress({ phase: 'caching', message: `caching ${layers.join(', ')}`, done: offset + done, total })
  const pool = await ensureFeatureCaches(root, { ...common, split: 'train', ...images.pool }, report(0))
  const test = await ensureFeatureCaches(root, { ...common, split: 'test', ...images.test }, report(images.pool.indices.length))
  return { pool: pool.caches, test: test.caches, seconds: pool.seconds + test.seconds, hits: pool.hits + test.hits, misses: pool.misses + test.misses }
}

/** The teacher's output layer over the same pool images, cached like any feature. */
async function cacheTeacher(projectDir: string, teacher: FrozenSource, dataset: string, images: StudyImages, progress: (p: FeatureProgress) => void): Promise<FeatureCache> {
  const layer = teacher.model.layers.at(-1)!.name
  const outcome = await ensureFeatureCaches(
    featureCacheRoot(projectDir),
    { model: teacher.model, modelFingerprint: teacher.fingerprint, source: teacher.label, layers: [layer], pooling: 'flatten', dataset, split: 'train', classNames: images.classNames, imageSize: images.imageSize, inputSize: teacher.inputSize, preprocessing: teacher.preprocessing, ...images.pool },
    (done, total) => progress({ phase: 'caching', message: `caching teacher ${teacher.label}`, done, total })
  )
  return outcome.caches.get(layer) as FeatureCache
}

interface TemperatureInputs {
  source: FrozenSource
  outputLayer: string
  mainPool: FeatureCache
  mainTest: TestMatrix
  outputPool?: FeatureCache
  outputTest?: TestMatrix
  teacher?: FrozenSource
  teacherPool?: FeatureCache
  alpha: number
}

async function sweepTemperatures(mode: TemperatureMode, temperatures: number[], draw: Omit<DrawsInput, 'pool' | 'test'>, t: TemperatureInputs): Promise<TemperatureResult[]> {
  const results: TemperatureResult[] = []
  for (const T of temperatures) {
    let outcome
    if (mode === 'head') {
      outcome = await runDraws({ ...draw, pool: t.mainPool, test: t.mainTest, temperature: T })
    } else if (mode === 'soft-features') {
      const probs = endsInSoftmax(t.source.model.getLayer(t.outputLayer))
      const pool: RowPool = softFeaturePool(t.outputPool as FeatureCache, T, probs)
      const test = softFeatureTest(t.outputTest as TestMatrix, (t.outputPool as FeatureCache).meta.dims, T, probs)
      outcome = await runDraws({ ...draw, pool, test, head: { ...draw.head, standardize: false } })
    } else {
      const teacher = t.teacher as FrozenSource
      const teacherPool = t.teacherPool as FeatureCache
      const columns = teacherColumns(teacher.classNames as string[], draw.classNames)
      const probs = endsInSoftmax(teacher.model.layers.at(-1)!)
      // Teacher rows line up with the main pool's rows: both caches were built over the same images in the same order.
      outcome = await runDraws({ ...draw, pool: t.mainPool, test: t.mainTest, softFor: softTargetsFor(teacherPool, columns, T, t.alpha, probs) })
    }
    results.push({ T, ...summarizeAccuracy(outcome), curve: outcome.curve })
  }
  return results
}

/** Times cached-head epochs against full-pass epochs over the whole cached training pool. */
async function timeBoth(source: FrozenSource, cache: FeatureCache, images: StudyImages, layer: string, pooling: FeaturePooling, head: HeadOptions, numClasses: number): Promise<EpochTimes> {
  const rows = Int32Array.from(cache.labels.keys())
  const cached = memorySource(await cache.readRows(rows), cache.labels, cache.meta.dims)
  const extractor = { model: source.model, layer, pooling, set: images.pool.set, imageIndices: cache.imageIndices, labels: cache.labels, dims: cache.meta.dims, imageSize: images.imageSize, inputSize: source.inputSize, preprocessing: source.preprocessing }
  return timeEpochs(extractor, cached, head, numClasses)
}

/** The largest test feature matrix of one layer a study reads into memory (the main layer's, plus one other layer's at a time). */
export const MAX_TEST_MATRIX_BYTES = 2 * 1024 ** 3

/**
 * Refuses, before any extraction, a test set whose features would not fit in memory: the default test set
 * is every test image, and a flattened conv layer (VGG16 at 224 px: 25,088 dims at block5_pool) times
 * 10,000 images is 1 GB per layer, more for earlier layers.
 * @throws naming the layer, the size and the options that make it smaller
 */
export function checkTestMatrixSize(testImages: number, layers: { layer: string; dims: number }[]): void {
  for (const { layer, dims } of layers) {
    const bytes = testImages * dims * 4
    if (bytes > MAX_TEST_MATRIX_BYTES) {
      const gb = (bytes / 1024 ** 3).toFixed(1)
      throw new Error(`${layer}: ${testImages} test images × ${dims} feature dims would be ${gb} GB in memory (limit ${MAX_TEST_MATRIX_BYTES / 1024 ** 3} GB); pass --test-per-class N (a smaller test set) or --pooling avg`)
    }
  }
}
