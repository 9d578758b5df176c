import * as tf from '@tensorflow/tfjs'
import { inputConvWithoutInputGradient } from './input-conv'
import { syncedBatchNormTraining, type ChannelSumReducer } from './synced-batch-norm'
import { trainingDropout } from './training-dropout'

/**
 * Runs a sequential model layer by layer. In training mode only trainable layers run as in training:
 * a frozen batch norm uses its stored statistics (and does not update them), as a frozen layer should.
 * With `batchNormReducer` (data-parallel training, where this call sees one shard of the batch), a
 * training batch norm normalizes with the statistics of the whole batch. A trainable convolution on
 * the input itself skips the input's gradient (see input-conv.ts). Dropout in training draws its
 * mask faster than tfjs (training-dropout.ts).
 */
export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean, batchNormReducer?: ChannelSumReducer): tf.Tensor {
  let out = x
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue
    const train = training && layer.trainable
    const input = out
    const onInput = input === x
    // Each layer in its own tidy, its input freed once it is used (never the caller's x; a layer may
    // hand back its input, as dropout does outside training): so only a layer's input and output are
    // alive at once, not every activation until the caller's tidy ends. Inference at width 1, batch
    // 128 kept ~250 MB of activations; a gradient pass is unaffected (the tape keeps what it saves).
    out = tf.tidy(() => {
      if (train && batchNormReducer && layer.getClassName() === 'BatchNormalization') return syncedBatchNormTraining(layer, input, batchNormReducer)
      const dropped = train ? trainingDropout(layer, input) : undefined
      if (dropped) return dropped
      return (train && onInput ? inputConvWithoutInputGradient(layer, input) : undefined) ?? (layer.apply(input, { training: train }) as tf.Tensor)
    })
    if (!onInput && out !== input) input.dispose()
  }
  return out
}
