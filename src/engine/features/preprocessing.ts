import * as tf from '@tensorflow/tfjs'
import type { PreprocessingSpec } from '../../shared/features'
import { makeBatch } from '../data/batches'
import type { ImageSet } from '../data/dataset'
import type { Normalization } from '../data/normalize'
import { createRandom } from '../random'

/**
 * makeBatch normalizes the dataset's RGB channels; for a BGR network the per-channel statistics are
 * given in BGR order, so they are reversed here and the channels themselves after the batch is made.
 */
function rgbNormalization(spec: PreprocessingSpec): Normalization {
  const order = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2]
  return {
    mean: order.map((c) => spec.mean[c]) as [number, number, number],
    std: order.map((c) => spec.std[c]) as [number, number, number]
  }
}

const NO_AUGMENT = createRandom(0) // makeBatch never draws from it without augmentation

/**
 * Makes the network input for some images: normalized as the spec says, channels reordered, and
 * resized (bilinear) when the images are not the network's input size. Also returns the labels.
 * @param imageSize side of the stored images; inputSize: side the network expects
 */
export function makeInputBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  imageSize: number,
  inputSize: number,
  spec: PreprocessingSpec
): { x: tf.Tensor4D; labels: Int32Array } {
  const batch = makeBatch(set, indices, imageSize, rgbNormalization(spec), null, NO_AUGMENT)
  const x = tf.tidy(() => {
    let t: tf.Tensor4D = tf.tensor4d(batch.x, [batch.count, imageSize, imageSize, 3])
    if (spec.channelOrder === 'bgr') t = tf.reverse(t, 3)
    if (imageSize !== inputSize) t = tf.image.resizeBilinear(t, [inputSize, inputSize])
    return t
  })
  return { x, labels: batch.labels }
}
