import type * as tf from '@tensorflow/tfjs'

/** Layers that belong to a weight layer and move with it: its batch norm (statistics included). */
function companionLayers(model: tf.LayersModel, name: string): tf.layers.Layer[] {
  const own = [model.getLayer(name)]
  const bn = model.layers.find((l) => l.name === `${name}_bn`)
  return bn ? [...own, bn] : own
}

/**
 * Transfer surgery, in place on a freshly initialized target model: copies weight layers 1…n (by
 * Keras name, with their batch norms) from the source, and freezes them when asked. Layers n+1…
 * keep their fresh initialization; the output layer is never copied (its class count is the task's).
 * @param weightLayerNames the target's weight layers in input-to-output order.
 */
export function transferLayers(
  source: tf.LayersModel,
  target: tf.LayersModel,
  weightLayerNames: readonly string[],
  n: number,
  freeze: boolean
): void {
  if (!Number.isInteger(n) || n < 0 || n > weightLayerNames.length - 1) {
    throw new Error(`transfer depth n=${n} is outside 0 … ${weightLayerNames.length - 1} for this network`)
  }
  for (const name of weightLayerNames.slice(0, n)) {
    const targets = companionLayers(target, name)
    let sources: tf.layers.Layer[]
    try {
      sources = companionLayers(source, name)
    } catch {
      throw new Error(`the source model has no layer '${name}' to transfer`)
    }
    if (sources.length !== targets.length) throw new Error(`layer '${name}': batch norm on one side only (source and target architectures differ)`)
    targets.forEach((layer, i) => {
      const weights = sources[i].getWeights()
      const expected = layer.getWeights()
      weights.forEach((w, j) => {
        if (w.shape.join('×') !== expected[j].shape.join('×')) {
          throw new Error(`layer '${layer.name}': source weight ${j} is ${w.shape.join('×')}, the target needs ${expected[j].shape.join('×')} (width or input size differ)`)
        }
      })
      layer.setWeights(weights)
      if (freeze) layer.trainable = false
    })
  }
}
