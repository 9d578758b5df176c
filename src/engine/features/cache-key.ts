import type * as tf from '@tensorflow/tfjs'
import { createHash } from 'node:crypto'
import type { FeaturePooling, PreprocessingSpec } from '../../shared/features'
import type { ImageSet } from '../data/dataset'

/** Bumped when the cache layout or extraction changes, so old caches are never reused. */
export const CACHE_FORMAT_VERSION = 1

/**
 * A fingerprint of a model's topology and every weight value: any retraining, import or edit changes
 * it. Reads weights one at a time, so a large network is never copied whole.
 */
export async function fingerprintModel(model: tf.LayersModel): Promise<string> {
  const hash = createHash('sha256')
  hash.update(JSON.stringify(model.toJSON(null, false)))
  for (const weight of model.weights) {
    const values = await weight.read().data()
    hash.update(weight.originalName)
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
  }
  return hash.digest('hex')
}

/** A fingerprint of exactly the images (pixels and labels, in order) a cache covers. */
export function fingerprintImages(set: ImageSet, indices: ArrayLike<number>, imageBytes: number): string {
  const hash = createHash('sha256')
  const label = new Int32Array(1)
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]
    hash.update(set.images.subarray(index * imageBytes, (index + 1) * imageBytes))
    label[0] = set.labels[index]
    hash.update(new Uint8Array(label.buffer))
  }
  return hash.digest('hex')
}

/** Everything a cached feature matrix depends on. Two caches are interchangeable iff their keys are equal. */
export interface CacheKeyParts {
  /** What the user calls the model (run id or file path): names the cache slot, not its validity. */
  source: string
  modelFingerprint: string
  layer: string
  pooling: FeaturePooling
  dataset: string
  split: 'train' | 'test'
  classNames: string[]
  imagesFingerprint: string
  preprocessing: PreprocessingSpec
  inputSize: number
}

/** The full key: a hash of every part and the format version. */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify({ v: CACHE_FORMAT_VERSION, ...parts })).digest('hex')
}

/**
 * The cache's folder name: one slot per (source, layer, pooling, dataset, split, classes). A slot
 * whose stored key differs (the model was retrained, the images or preprocessing changed) is stale
 * and gets rebuilt in place, so stale caches never pile up.
 */
export function cacheSlot(parts: CacheKeyParts): string {
  const what = JSON.stringify([parts.source, parts.layer, parts.pooling, parts.dataset, parts.split, parts.classNames])
  const safeLayer = parts.layer.replace(/[^A-Za-z0-9_-]/g, '_')
  return `${safeLayer}-${parts.pooling}-${parts.split}-${createHash('sha256').update(what).digest('hex').slice(0, 12)}`
}
