import * as tf from '@tensorflow/tfjs'

/** The parts of tfjs-layers' Conv2D this needs (its fields are not in its typings). */
interface Conv2DLayer {
  kernel: tf.LayerVariable
  bias: tf.LayerVariable | null
}

/**
 * A training-mode Conv2D on the network's input, without the gradient for that input. tfjs-layers
 * runs every Conv2D as a fused conv + bias + activation, whose gradient computes the input's
 * gradient eagerly, needed or not; for the first layer (the images) it is thrown away. On the wasm
 * backend that is a convolution from 16 channels (at width ¼) back to 3, about as long as the
 * forward pass of the first two layers together (bench/profile-step.ts --worker). tf.conv2d's
 * gradient is lazy: the engine asks only for the filter's. Returns undefined for a configuration
 * it does not cover (the caller then applies the layer as usual).
 */
export function inputConvWithoutInputGradient(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor | undefined {
  if (layer.getClassName() !== 'Conv2D' || x.rank !== 4) return undefined
  const config = layer.getConfig()
  const dilation = config['dilationRate']
  const plain = (v: unknown): boolean => v === undefined || v === 1 || (Array.isArray(v) && v.every((d) => d === 1))
  const activation = config['activation']
  if (config['dataFormat'] !== 'channelsLast' || !plain(dilation) || (activation !== 'linear' && activation !== 'relu')) return undefined
  const { kernel, bias } = layer as unknown as Conv2DLayer
  const strides = config['strides'] as [number, number]
  const padding = config['padding'] as 'same' | 'valid'
  let out: tf.Tensor = tf.conv2d(x as tf.Tensor4D, kernel.read() as tf.Tensor4D, strides, padding)
  if (bias != null) out = tf.add(out, bias.read())
  return activation === 'relu' ? tf.relu(out) : out
}
