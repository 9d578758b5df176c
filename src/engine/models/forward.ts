import * as tf from '@tensorflow/tfjs'
import { inputConvWithoutInputGradient } from './input-conv'
import { syncedBatchNormTraining, type ChannelSumReducer } from './synced-batch-norm'

/**
 * Runs a sequential model layer by layer. In training mode only trainable layers run as in training:
 * a frozen batch norm uses its stored statistics (and does not update them), as a frozen layer should.
 * With `batchNormReducer` (data-parallel training, where this call sees one shard of the batch), a
 * training batch norm normalizes with the statistics of the whole batch. A trainable convolution on
 * the input itself skips the input's gradient (see input-conv.ts).
 */
export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean, batchNormReducer?: ChannelSumReducer): tf.Tensor {
  let out = x
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue
    const train = training && layer.trainable
    const onInput = out === x
    if (train && batchNormReducer && layer.getClassName() === 'BatchNormalization') out = syncedBatchNormTraining(layer, out, batchNormReducer)
    else out = (train && onInput ? inputConvWithoutInputGradient(layer, out) : undefined) ?? (layer.apply(out, { training: train }) as tf.Tensor)
  }
  return out
}
