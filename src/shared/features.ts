/**
 * Frozen-feature studies (seed 003): a frozen network's activations cached once, softmax heads trained
 * on them, few-shot curves, layer probes and temperature sweeps. These are the plain result types the
 * engine returns, the CLI prints as JSON and the UI charts. Plain TypeScript: no Node, no tfjs.
 */

/** How a layer's activations become one feature vector per image. */
export type FeaturePooling = 'avg' | 'max' | 'flatten'

/** Input preprocessing presets: Keras VGG16 ('caffe': BGR, ImageNet mean subtracted), '[-1, 1]' ('tf'), ImageNet mean/std ('torch'), 0…1 ('unit'). */
export type PreprocessingPreset = 'caffe' | 'tf' | 'torch' | 'unit'

/**
 * Exactly what happens to 0…255 RGB pixels before the network: channels reordered, then
 * (pixel / 255 − mean) / std per channel. Part of every feature cache key.
 */
export interface PreprocessingSpec {
  /** A preset's name, 'checkpoint' (the normalization a workbench run trained with) or 'custom'. */
  name: PreprocessingPreset | 'checkpoint' | 'custom'
  /** Channel order the network expects. */
  channelOrder: 'rgb' | 'bgr'
  /** Per channel, in the network's channel order, in the 0…1 pixel scale. */
  mean: [number, number, number]
  std: [number, number, number]
}

/** How to train a softmax head on features. */
export interface HeadOptions {
  /** Passes over the training rows. */
  epochs: number
  /** Adam's learning rate. */
  lr: number
  /** Rows per step; a set no larger than this trains full-batch (one step per epoch). */
  batchSize: number
  /** L2 penalty on the head's weights. */
  weightDecay: number
  /** Standardize every feature dimension with the training rows' mean and std (scale-free heads). */
  standardize: boolean
  seed: number
}

/** One point of a head's learning curve: after `epoch` passes over its training rows. */
export interface HeadCurvePoint {
  epoch: number
  trainLoss: number
  trainAcc: number
  testLoss: number
  testAcc: number
}

/** A few-shot curve point: k training images per class, several seeded draws. */
export interface ShotResult {
  k: number
  meanAcc: number
  /** Sample standard deviation over draws (0 for one draw). */
  stdAcc: number
  /** Wilson 95 % interval of meanAcc as a proportion of the test set (see wilsonInterval). */
  ci95: [number, number]
  /** Test images every head of this point was evaluated on. */
  testImages: number
  /** Test accuracy of each draw, in draw order. */
  accs: number[]
  /** Learning curve averaged over draws, one point per epoch (train and test). */
  curve: HeadCurvePoint[]
}

/** A layer probe: the same head on the (pooled) output of one layer. */
export interface ProbeResult {
  layer: string
  /** Position of the layer in the network (1-based among all layers), for an accuracy-vs-depth axis. */
  depth: number
  /** Feature dimensions after pooling. */
  dims: number
  acc: number
  stdAcc: number
  /** Wilson 95 % interval of acc on the test set. */
  ci95: [number, number]
  testImages: number
  curve: HeadCurvePoint[]
}

/**
 * Temperature modes. 'head': the head trains on logits / T and is evaluated at T = 1.
 * 'soft-features': the report's method, a head on softmax(source logits / T) of the source's output layer.
 * 'distill': Hinton's distillation from a teacher's soft targets at T, hard labels weighted in, T² scaling.
 */
export type TemperatureMode = 'head' | 'soft-features' | 'distill'

export interface TemperatureResult {
  T: number
  acc: number
  stdAcc: number
  /** Wilson 95 % interval of acc on the test set. */
  ci95: [number, number]
  testImages: number
  curve: HeadCurvePoint[]
}

/** A feature cache on disk, as listed for the UI. */
export interface FeatureCacheInfo {
  /** Folder name under `cache/features/`. */
  id: string
  source: string
  layer: string
  pooling: FeaturePooling
  dataset: string
  split: 'train' | 'test'
  classNames: string[]
  rows: number
  dims: number
  bytes: number
  /** Seconds the extraction took. */
  seconds: number
  createdAt: string
}

/** Whole result of a feature study, shaped for charts (the CLI prints it with --json). */
export interface FeatureStudyResult {
  /** Where the frozen network came from: a run id or a model file path. */
  source: string
  layer: string
  pooling: FeaturePooling
  dataset: string
  classNames: string[]
  preprocessing: PreprocessingSpec
  inputSize: number
  backend: string
  /** Seconds to fill the caches this study needed (0 when all were reused). */
  cacheSeconds: number
  /** Whether each cache was reused from disk. */
  cacheHits: number
  cacheMisses: number
  /** Seconds of one head epoch over the cached training pool, median of several (null when timing was skipped). */
  headEpochSeconds: number | null
  /** Seconds of one epoch of the same head over the same images with a full forward pass through the frozen network every batch (median). */
  fullEpochSeconds: number | null
  /** fullEpochSeconds / headEpochSeconds. */
  speedup: number | null
  /** Images in each epoch timed above (the whole cached pool). */
  timedImages: number
  /** Test images per class asked for; null: every test image of the chosen classes (the default). */
  testPerClass: number | null
  /** Test images the heads were evaluated on (all classes together). */
  testImages: number
  shots: ShotResult[]
  probes: ProbeResult[]
  temperatureMode: TemperatureMode | null
  temperatures: TemperatureResult[]
  /** Neighbouring points of a drawn trend that differ by less than their uncertainty (see uncertaintyWarnings). */
  warnings: string[]
  notes: string[]
}

/** Progress of a feature study, for a progress bar. */
export interface FeatureProgress {
  phase: 'loading' | 'caching' | 'few-shot' | 'probes' | 'temperature' | 'timing'
  message: string
  /** Work done and total in this phase's own unit (images while caching, heads otherwise). */
  done: number
  total: number
}

/** A feature study as the UI (or CLI) asks for it. Only source, layer and dataset are required. */
export interface FeatureStudyRequest {
  /** A run id of the project, or a model file (tfjs model.json / Keras .h5). */
  source: string
  /** The layer whose features the few-shot heads learn from. */
  layer: string
  dataset: string
  classes?: string[]
  /** k images per class for the few-shot curve. Default 2, 4, 8, 16. */
  shots?: number[]
  /** Fixed test images per class. Default: every test image of the chosen classes (cached once, like the rest). */
  testPerClass?: number
  /** Seeded draws per k. Default 3. */
  draws?: number
  /** Training images per class cached to draw shots from. Default 4 × the largest k. */
  poolPerClass?: number
  pooling?: FeaturePooling
  /** Layers to probe (each with a head at probeK shots). */
  probeLayers?: string[]
  temperatures?: number[]
  temperatureMode?: TemperatureMode
  /** Teacher for 'distill': a run id or model file whose classes include the study's. */
  teacher?: string
  /** Weight of the soft-target loss in distillation (Hinton: the hard loss gets much less). Default 0.9. */
  distillAlpha?: number
  /** Shots per class for probes and temperatures; null = the whole pool. Default the largest k. */
  probeK?: number | null
  head?: Partial<HeadOptions>
  preprocessing?: PreprocessingSpec
  /** Input side for a model file that does not fix it. */
  inputSize?: number
  /** Also time the full forward pass (default true). */
  timeFullPass?: boolean
  seed?: number
}

/** ImageNet channel means and stds (RGB, 0…1 scale), as Keras and torchvision use them. */
const IMAGENET_MEAN_RGB: [number, number, number] = [0.485, 0.456, 0.406]
const IMAGENET_STD_RGB: [number, number, number] = [0.229, 0.224, 0.225]
/** Keras' 'caffe' means are in 0…255 and BGR order. */
const CAFFE_MEAN_BGR: [number, number, number] = [103.939 / 255, 116.779 / 255, 123.68 / 255]

/** The spec of a named preset. */
export function preprocessingPreset(name: PreprocessingPreset): PreprocessingSpec {
  switch (name) {
    case 'caffe':
      // x_bgr − mean: std 1/255 undoes makeBatch's division by 255.
      return { name, channelOrder: 'bgr', mean: CAFFE_MEAN_BGR, std: [1 / 255, 1 / 255, 1 / 255] }
    case 'tf':
      return { name, channelOrder: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }
    case 'torch':
      return { name, channelOrder: 'rgb', mean: IMAGENET_MEAN_RGB, std: IMAGENET_STD_RGB }
    case 'unit':
      return { name, channelOrder: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] }
  }
}

export const PREPROCESSING_PRESETS: readonly PreprocessingPreset[] = ['caffe', 'tf', 'torch', 'unit']

/** Parses a preset name, naming the valid ones in the error. */
export function parsePreprocessing(name: string): PreprocessingSpec {
  if (!(PREPROCESSING_PRESETS as readonly string[]).includes(name)) {
    throw new Error(`unknown preprocessing '${name}'; use one of ${PREPROCESSING_PRESETS.join(', ')}`)
  }
  return preprocessingPreset(name as PreprocessingPreset)
}

/** The spec of a workbench checkpoint: RGB with the normalization measured on its training images. */
export function checkpointPreprocessing(normalization: { mean: number[]; std: number[] }): PreprocessingSpec {
  const three = (v: number[]): [number, number, number] => [v[0], v[1], v[2]]
  return { name: 'checkpoint', channelOrder: 'rgb', mean: three(normalization.mean), std: three(normalization.std) }
}

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054

/**
 * Wilson score interval (95 %) for an accuracy measured on n test images. Chosen over the normal
 * approximation because it stays inside [0, 1] and is honest near 0 and 1 and for small n. For a mean
 * over draws evaluated on the same test set, the test set's sampling error does not average out over
 * draws, so n is the test set's size, not draws × n.
 */
export function wilsonInterval(acc: number, n: number): [number, number] {
  if (!(n > 0) || !Number.isFinite(acc)) return [0, 1]
  const p = Math.min(1, Math.max(0, acc))
  const z2 = Z95 * Z95
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  // At 0 and 1 the bound is exactly 0 or 1 (rounding would otherwise leave 0.9999999999999999).
  return [p === 0 ? 0 : Math.max(0, centre - half), p === 1 ? 1 : Math.min(1, centre + half)]
}

/** One point of a drawn trend, with what is known about its uncertainty. */
export interface UncertainPoint {
  /** How the point is named in words, e.g. "k=8", "T=2", "fc1". */
  label: string
  acc: number
  stdAcc: number
  ci95?: [number, number]
}

/**
 * The range a point's accuracy could plausibly have: the union of its Wilson 95 % interval on the
 * test set and ± 1 std over draws (either can dominate: a small test set, or a few shots' luck).
 */
export function uncertaintyRange(point: UncertainPoint): [number, number] {
  const ci = point.ci95 ?? [point.acc, point.acc]
  return [Math.min(ci[0], point.acc - point.stdAcc), Math.max(ci[1], point.acc + point.stdAcc)]
}

/**
 * A warning in words for every pair of neighbouring points (in the order the chart connects them)
 * whose uncertainty ranges overlap: the line between them draws a trend the measurement cannot tell.
 */
export function uncertaintyWarnings(points: UncertainPoint[], what: string): string[] {
  const warnings: string[] = []
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]]
    const [ra, rb] = [uncertaintyRange(a), uncertaintyRange(b)]
    if (ra[0] <= rb[1] && rb[0] <= ra[1]) {
      warnings.push(`${what}: ${a.label} and ${b.label} differ by less than their uncertainty (${pctText(a.acc)} vs ${pctText(b.acc)}; plausible ranges ${rangeText(ra)} and ${rangeText(rb)})`)
    }
  }
  return warnings
}

/** The warnings of a whole study: few-shot curve, probes in depth order, temperatures in the order tried. */
export function studyWarnings(result: Pick<FeatureStudyResult, 'shots' | 'probes' | 'temperatures'>): string[] {
  return [
    ...uncertaintyWarnings(result.shots.map((s) => ({ label: `k=${s.k}`, acc: s.meanAcc, stdAcc: s.stdAcc, ci95: s.ci95 })), 'few-shot curve'),
    ...uncertaintyWarnings([...result.probes].sort((a, b) => a.depth - b.depth).map((p) => ({ label: p.layer, acc: p.acc, stdAcc: p.stdAcc, ci95: p.ci95 })), 'layer probes'),
    ...uncertaintyWarnings(result.temperatures.map((t) => ({ label: `T=${t.T}`, acc: t.acc, stdAcc: t.stdAcc, ci95: t.ci95 })), 'temperatures')
  ]
}

const pctText = (v: number): string => `${(100 * v).toFixed(1)}%`
const rangeText = (r: [number, number]): string => `${pctText(Math.max(0, r[0]))}–${pctText(Math.min(1, r[1]))}`
