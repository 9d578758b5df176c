import * as tf from '@tensorflow/tfjs'
import { makeBatch } from '../data/batches'
import type { ImageSet } from '../data/dataset'
import type { Normalization } from '../data/normalize'
import { forward } from '../models/forward'
import { createRandom } from '../random'

/** Loss and accuracy of a model over the given images, in batches, without augmentation. */
export async function evaluate(
  model: tf.LayersModel,
  set: ImageSet,
  indices: Int32Array,
  options: { size: number; normalization: Normalization; batchSize: number; numClasses: number }
): Promise<{ loss: number; acc: number }> {
  if (indices.length === 0) return { loss: NaN, acc: NaN }
  const unused = createRandom(0) // no augmentation: never drawn from
  // [loss sum, correct] summed in the backend over every batch and read once: no GPU stall per batch.
  let sums = tf.zeros([2])
  for (let start = 0; start < indices.length; start += options.batchSize) {
    const batch = makeBatch(set, indices.subarray(start, start + options.batchSize), options.size, options.normalization, null, unused)
    const next = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, options.size, options.size, 3])
      const labels = tf.tensor1d(batch.labels, 'int32')
      const logits = forward(model, x, false)
      const perImage = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, options.numClasses), logits, undefined, undefined, tf.Reduction.NONE)
      return tf.add(sums, tf.stack([perImage.sum(), countCorrect(logits, labels)]))
    })
    sums.dispose()
    sums = next
  }
  const [lossSum, correct] = Array.from(await sums.data())
  sums.dispose()
  return { loss: (lossSum as number) / indices.length, acc: (correct as number) / indices.length }
}

/** Number of rows whose highest logit is at the label. */
export function countCorrect(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.equal(tf.argMax(logits, -1), labels.cast('int32')).cast('float32').sum() as tf.Scalar)
}
