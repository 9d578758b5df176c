import * as tf from '@tensorflow/tfjs'

/**
 * Runs a sequential model layer by layer. In training mode only trainable layers run as in training:
 * a frozen batch norm uses its stored statistics (and does not update them), as a frozen layer should.
 */
export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  let out = x
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue
    out = layer.apply(out, { training: training && layer.trainable }) as tf.Tensor
  }
  return out
}
