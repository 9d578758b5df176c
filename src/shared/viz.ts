/**
 * What the "look inside" views get from the engine: filters, weight histograms, activation maps, top
 * images, base-vs-transferred comparisons and predictions, as plain JSON-safe data (number arrays,
 * PNG data URLs for dataset images). The same colour scale as the engine's PNG export lives here, so
 * a view drawing a heatmap on a canvas shows exactly what the exported picture shows.
 * Plain TypeScript: shared by engine, main and renderer.
 */

/** A small picture as numbers: values in 0…1, row-major, channels last (1 = grey, 3 = RGB). */
export interface VizTile {
  width: number
  height: number
  channels: 1 | 3
  values: number[]
}

/** A layer the views can pick, in input-to-output order. */
export interface VizLayerInfo {
  /** Keras name: `block1_conv1` … `fc1`, `fc2`, `predictions`. */
  name: string
  /** Seed 003's label for convs ("conv 1-1"); the Keras name for dense layers. */
  label: string
  kind: 'conv' | 'dense'
  /** 1-based position among weight layers (transfer depth n copies layers 1…n). */
  index: number
  /** Output channels (convs) or units (dense). */
  channels: number
  /** Spatial size of the layer's output for this model's input size (convs); 1 for dense layers. */
  outputSize: number
  /** False when the layer was frozen in this model (a transferred, frozen layer). */
  trainable: boolean
}

/**
 * How kernels are shown: `rgb` (first conv only: one colour tile per filter), `mean` (one grey tile
 * per filter, the mean over input channels), `channels` (one grey tile per input channel of each filter).
 */
export type FilterMode = 'rgb' | 'mean' | 'channels'

/** One filter (output channel) of a conv layer. */
export interface FilterView {
  /** Output channel index. */
  index: number
  /** Raw weight range of the filter (the tile values map min → 0, max → 1). */
  min: number
  max: number
  /** L2 norm of the filter's weights. */
  norm: number
  /** One tile for `rgb` and `mean`, one per shown input channel for `channels`. */
  tiles: VizTile[]
}

/** The kernels of one conv layer, each filter normalized on its own. */
export interface FilterGrid {
  layer: string
  label: string
  mode: FilterMode
  kernelSize: [number, number]
  inputChannels: number
  outputChannels: number
  /** Input channels drawn per filter in `channels` mode (the first ones); 1 or 3 otherwise. */
  shownInputChannels: number
  filters: FilterView[]
}

/** A histogram of a layer's kernel weights, with summary statistics. */
export interface WeightHistogram {
  layer: string
  label: string
  kind: 'conv' | 'dense'
  /** Kernel shape (conv: kh, kw, in, out; dense: in, out). */
  shape: number[]
  count: number
  min: number
  max: number
  mean: number
  std: number
  /** bins + 1 edges, ascending; counts[i] counts values in [edges[i], edges[i+1]) (the last bin is closed). */
  edges: number[]
  counts: number[]
  /** Bias statistics, when the layer has a bias. */
  bias: { count: number; min: number; max: number; mean: number; std: number } | null
}

/** The value range a set of maps is coloured over. */
export interface ColorScale {
  min: number
  max: number
  colormap: ColormapName
  /** `shared`: one range for every map (comparable); `per-map`: each map stretched to its own range. */
  mode: 'shared' | 'per-map'
}

/** One channel's activation map: raw values (not rescaled), row-major. */
export interface ActivationMap {
  channel: number
  width: number
  height: number
  min: number
  max: number
  mean: number
  values: number[]
}

/** Feature maps of one conv layer for one image. */
export interface ActivationMaps {
  layer: string
  label: string
  /** The layer whose output is shown: the conv's ReLU when the model has batch norm (`block1_conv1_relu`). */
  outputLayer: string
  channelCount: number
  scale: ColorScale
  maps: ActivationMap[]
}

/** A dataset image shown with a result. */
export interface VizImageRef {
  /** Index into the split's image set. */
  index: number
  /** Where it came from (file path, `file#record`, `demo:…`). */
  source: string
  label: number
  className: string
  /** The image as a PNG data URL at the model's input size. */
  dataUrl: string
}

/** The images of a validation split that excite one channel most. */
export interface TopImages {
  layer: string
  label: string
  outputLayer: string
  channel: number
  split: 'val' | 'test'
  /** How an image's score is taken from its map: the spatial maximum (default) or mean. */
  score: 'max' | 'mean'
  /** Images scanned to find these. */
  scanned: number
  scale: ColorScale
  images: (VizImageRef & { rank: number; score: number; map: ActivationMap })[]
}

/** Change of one filter (or dense unit) between two models. */
export interface FilterChange {
  index: number
  /** ‖target − base‖ / ‖base‖ (0 when identical). */
  relativeChange: number
  /** Cosine similarity of the two weight vectors. */
  cosine: number
  /** Bit-for-bit identical. */
  identical: boolean
}

/** One weight layer of a base model beside the same layer of a model transferred from it. */
export interface LayerComparison {
  layer: string
  label: string
  kind: 'conv' | 'dense'
  baseRunId: string
  targetRunId: string
  /** Whether the target run copied this layer from the base (index ≤ n) and kept it frozen. */
  transferred: boolean
  frozen: boolean
  /** Every weight of the layer (kernel, bias, batch norm with its statistics) bit-for-bit identical. */
  identical: boolean
  /** Relative change of the whole kernel. */
  relativeChange: number
  filters: FilterChange[]
  /** Filter pictures of both sides (convs only), each filter normalized on its own. */
  base: FilterGrid | null
  target: FilterGrid | null
}

/** The per-layer summary of a base-vs-target comparison. */
export interface ModelComparison {
  baseRunId: string
  targetRunId: string
  variant: string | null
  n: number | null
  layers: { layer: string; label: string; index: number; kind: 'conv' | 'dense'; transferred: boolean; frozen: boolean; identical: boolean; relativeChange: number | null; shapeMatches: boolean }[]
}

/** A model's top classes for one image. */
export interface Prediction {
  temperature: number
  /** Highest probability first. */
  top: { label: number; className: string; probability: number; logit: number }[]
}

/** Predictions over a split: true label rows, predicted label columns. */
export interface ConfusionMatrix {
  split: 'val' | 'test'
  classNames: string[]
  counts: number[][]
  total: number
  correct: number
  accuracy: number
}

/** The images of one confusion-matrix cell (true class → predicted class). */
export interface CellImages {
  split: 'val' | 'test'
  trueLabel: number
  predictedLabel: number
  /** Images in the cell (the list may be cut at the limit). */
  total: number
  images: (VizImageRef & { predictedProbability: number; trueProbability: number })[]
}

/** Progress of a long viz job (reading a split, scanning it batch by batch). */
export interface VizProgress {
  phase: 'loading-data' | 'scanning'
  done: number
  total: number
}

export type ColormapName = 'viridis' | 'gray'

// Polynomial fit of matplotlib's viridis (after mattz's shadertoy fit): c0 + t·c1 + … + t⁶·c6 per channel.
const VIRIDIS = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832]
] as const

/** The colour (0…255 RGB) of a value in 0…1 on a colour scale; values outside are clamped. */
export function colorAt(colormap: ColormapName, t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0
  if (colormap === 'gray') {
    const v = Math.round(x * 255)
    return [v, v, v]
  }
  const rgb: [number, number, number] = [0, 0, 0]
  for (let c = 0; c < 3; c++) {
    let acc = 0
    for (let k = VIRIDIS.length - 1; k >= 0; k--) acc = acc * x + VIRIDIS[k][c]
    rgb[c] = Math.round(Math.min(1, Math.max(0, acc)) * 255)
  }
  return rgb
}

/** Seed 003's label for a Keras conv name ("block2_conv1" → "conv 2-1"); other names unchanged. */
export function seedLayerLabel(name: string): string {
  const match = /^block(\d+)_conv(\d+)$/.exec(name)
  return match ? `conv ${match[1]}-${match[2]}` : name
}

/**
 * The image a view feeds the model: a file on disk, an image of the run's own validation or test
 * split (by position in the split), or the bytes of a file dropped on the window (as a data URL).
 */
export type VizImageSource =
  | { kind: 'file'; path: string }
  | { kind: 'split'; split: 'val' | 'test'; position: number }
  | { kind: 'data-url'; dataUrl: string }

/** Which model to look inside: a run of a project and one of its checkpoints (default `best`). */
export interface VizRunRef {
  projectDir: string
  runId: string
  checkpoint?: 'best' | 'last'
}

/** Layer names accept Keras names (`block1_conv1`) and seed 003's labels (`conv 1-1`). */
export interface FiltersRequest extends VizRunRef {
  layer: string
  mode?: FilterMode
  maxFilters?: number
  maxInputChannels?: number
  /**
   * 'init': the grid shows trained − initial kernel, what training added on top of the random
   * initialization (first-layer filters of a briefly trained network keep much of their initial
   * noise). Same grid format.
   */
  relativeTo?: 'init'
}

export interface HistogramsRequest extends VizRunRef {
  /** Default: every weight layer. */
  layers?: string[]
  bins?: number
}

export interface ActivationsRequest extends VizRunRef {
  layer: string
  image: VizImageSource
  /** First N maps (default 6) or all. */
  maps?: number | 'all'
  channels?: number[]
  scaleMode?: ColorScale['mode']
}

export interface TopImagesRequest extends VizRunRef {
  layer: string
  channel: number
  /** Images shown (default 9). */
  k?: number
  split?: 'val' | 'test'
  score?: 'max' | 'mean'
}

export interface CompareRequest extends VizRunRef {
  /** Default: the run's source run. */
  baseRunId?: string
  /** One layer in detail; without it, the per-layer summary. */
  layer?: string
  mode?: FilterMode
}

export interface PredictRequest extends VizRunRef {
  image: VizImageSource
  top?: number
  temperature?: number
}

export interface ConfusionRequest extends VizRunRef {
  split?: 'val' | 'test'
}

export interface CellImagesRequest extends VizRunRef {
  split?: 'val' | 'test'
  trueLabel: number
  predictedLabel: number
  limit?: number
}

/** A page of a run's validation or test images, for picking one to feed the model. */
export interface SplitImagesRequest extends VizRunRef {
  split?: 'val' | 'test'
  offset?: number
  /** Default 48, at most 500. */
  limit?: number
}

export interface SplitImagesPage {
  split: 'val' | 'test'
  total: number
  offset: number
  /** `position` is what a `{ kind: 'split' }` image source takes. */
  images: (VizImageRef & { position: number })[]
}
