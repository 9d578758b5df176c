import * as tf from '@tensorflow/tfjs'
import { forward } from '../models/forward'
import type { ChannelSumReducer } from '../models/synced-batch-norm'
import { countCorrect } from './evaluate'

/** One batch (or one worker's shard of it) in the trainer's layout: NHWC floats and class labels. */
export interface StepBatch {
  x: Float32Array
  labels: Int32Array
  count: number
}

export interface StepShape {
  /** Square image side in pixels. */
  size: number
  numClasses: number
}

/**
 * The loss and its gradients for a batch, inside the caller's tidy (`correct` outlives it: dispose it). `lossScale` weights this batch's
 * mean loss: a worker holding n of the batch's N images uses n/N, so the workers' gradients add up
 * to the gradient of the whole batch's mean loss. `reducer` makes batch norm use the whole batch's
 * statistics (data-parallel training).
 */
export function lossAndGradients(
  model: tf.LayersModel,
  variables: tf.Variable[],
  batch: StepBatch,
  shape: StepShape,
  options: { lossScale?: number; reducer?: ChannelSumReducer } = {}
): { loss: tf.Scalar; correct: tf.Scalar; grads: tf.NamedTensorMap } {
  const x = tf.tensor4d(batch.x, [batch.count, shape.size, shape.size, 3])
  const labels = tf.tensor1d(batch.labels, 'int32')
  let correct: tf.Scalar | undefined
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward(model, x, true, options.reducer)
    // Kept: variableGrads frees everything but the loss; the caller disposes it.
    correct = tf.keep(countCorrect(logits, labels))
    const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, shape.numClasses), logits) as tf.Scalar
    return options.lossScale === undefined ? loss : tf.mul(loss, options.lossScale)
  }, variables)
  return { loss: value, correct: correct as tf.Scalar, grads }
}

/** L2 decay folded into the gradient (PyTorch SGD's weight_decay), before momentum; then the step. */
export function applyUpdate(optimizer: tf.Optimizer, variables: tf.Variable[], grads: tf.NamedTensorMap, weightDecay: number): void {
  if (weightDecay > 0) {
    for (const v of variables) grads[v.name] = tf.add(grads[v.name] as tf.Tensor, tf.mul(v, weightDecay))
  }
  optimizer.applyGradients(grads)
}
