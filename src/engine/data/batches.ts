import type { AugmentConfig } from '../../shared/train-config'
import type { Random } from '../random'
import { augmentInto } from './augment'
import type { ImageSet } from './dataset'
import type { Normalization } from './normalize'

/** A batch as plain arrays, ready to become tensors. */
export interface HostBatch {
  /** count × size × size × 3 normalized floats. */
  x: Float32Array
  labels: Int32Array
  count: number
}

/**
 * Makes a float batch from byte images on the fly (the dataset stays bytes in memory), applying
 * normalization and, when given, augmentation. The square image side is `size`.
 */
export function makeBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  size: number,
  normalization: Normalization,
  augment: AugmentConfig | null,
  random: Random
): HostBatch {
  const pixels = size * size * 3
  const x = new Float32Array(indices.length * pixels)
  const labels = new Int32Array(indices.length)
  // (byte / 255 − mean) / std  ==  byte × scale + shift
  const scale = Float32Array.from(normalization.std, (s) => 1 / (255 * s))
  const shift = Float32Array.from(normalization.mean, (m, c) => -m / normalization.std[c])
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]
    augmentInto(set.images, index * pixels, size, x, i * pixels, scale, shift, augment, random)
    labels[i] = set.labels[index]
  }
  return { x, labels, count: indices.length }
}
