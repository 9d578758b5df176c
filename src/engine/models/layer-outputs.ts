import * as tf from '@tensorflow/tfjs'

/**
 * Runs a sequential model in inference mode and returns the outputs of the named layers (in the
 * order asked), stopping after the deepest one — feature caches, probes, activation maps and top
 * images all read intermediate layers this way. The caller owns (and must dispose) the tensors.
 */
export function layerOutputs(model: tf.LayersModel, x: tf.Tensor, layerNames: readonly string[]): tf.Tensor[] {
  const wanted = new Set(layerNames)
  for (const name of layerNames) model.getLayer(name) // throws, naming the layer, if it does not exist
  const found = new Map<string, tf.Tensor>()
  tf.tidy(() => {
    let out = x
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue
      out = layer.apply(out, { training: false }) as tf.Tensor
      if (wanted.has(layer.name)) found.set(layer.name, tf.keep(out))
      if (found.size === wanted.size) break
    }
  })
  return layerNames.map((name) => found.get(name) as tf.Tensor)
}
