import type * as tf from '@tensorflow/tfjs'
import type { FeaturePooling, HeadOptions, PreprocessingSpec } from '../../shared/features'
import type { ImageSet } from '../data/dataset'
import { extractFeatures } from './extract'
import { measureStandardizer, trainHead, type FeatureSource } from './head'
import { makeInputBatch } from './preprocessing'

/** The frozen network and images behind a live feature source. */
export interface LiveExtractor {
  model: tf.LayersModel
  layer: string
  pooling: FeaturePooling
  set: ImageSet
  /** Image index in `set` of every row. */
  imageIndices: Int32Array
  labels: Int32Array
  dims: number
  imageSize: number
  inputSize: number
  preprocessing: PreprocessingSpec
}

/**
 * The report's first approach as a feature source: every read runs the frozen network on the
 * images (no cache), exactly as a full forward pass per training epoch does.
 */
export function liveSource(extractor: LiveExtractor): FeatureSource {
  return {
    rows: extractor.labels.length,
    dims: extractor.dims,
    labels: extractor.labels,
    async read(rows) {
      const indices = Int32Array.from(rows, (r) => extractor.imageIndices[r])
      const { x } = makeInputBatch(extractor.set, indices, extractor.imageSize, extractor.inputSize, extractor.preprocessing)
      let features: tf.Tensor2D
      try {
        ;[features] = extractFeatures(extractor.model, x, [extractor.layer], extractor.pooling)
      } finally {
        x.dispose()
      }
      try {
        return (await features.data()) as Float32Array
      } finally {
        features.dispose()
      }
    }
  }
}

/** Median seconds per epoch of the same head on the same images: from cached features, and with a full forward pass. */
export interface EpochTimes {
  headEpochSeconds: number
  fullEpochSeconds: number
  images: number
}

/**
 * Times the report's two approaches on the same training images, batch size and head: epochs over
 * features read from the cache, and epochs that run the frozen network on every batch. The
 * standardizer is measured once up front so neither timing includes an extra pass.
 * @param cached the cached features of exactly the extractor's rows, in the same order
 */
export async function timeEpochs(
  extractor: LiveExtractor,
  cached: FeatureSource,
  head: HeadOptions,
  numClasses: number,
  epochs: { head: number; full: number } = { head: 21, full: 3 }
): Promise<EpochTimes> {
  const all = Int32Array.from({ length: cached.rows }, (_, i) => i)
  const standardizer = head.standardize ? measureStandardizer(await cached.read(all), cached.dims) : undefined
  const fromCache = await trainHead({ train: cached, numClasses, options: { ...head, epochs: epochs.head }, standardizer })
  const full = await trainHead({ train: liveSource(extractor), numClasses, options: { ...head, epochs: epochs.full }, standardizer })
  // Medians: on a shared machine another process can stall any single epoch; both sides are judged alike.
  return { headEpochSeconds: median(fromCache.epochTimes), fullEpochSeconds: median(full.epochTimes), images: cached.rows }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
