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
  testPerClass: number
  shots: ShotResult[]
  probes: ProbeResult[]
  temperatureMode: TemperatureMode | null
  temperatures: TemperatureResult[]
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
  /** Fixed test images per class. Default 8. */
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
