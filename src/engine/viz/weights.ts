import type * as tf from '@tensorflow/tfjs'

/** One weight array of a layer, copied out of the backend. */
export interface WeightArray {
  shape: number[]
  values: Float32Array
}

/**
 * Copies a layer's weights (kernel, bias, …) to plain arrays. `getWeights()` hands out the layer's
 * own variables, so nothing here may be disposed; the copies are ours and safe to keep.
 */
export async function readLayerWeights(model: tf.LayersModel, layerName: string): Promise<WeightArray[]> {
  const weights = model.getLayer(layerName).getWeights()
  const values = await Promise.all(weights.map((w) => w.data()))
  return weights.map((w, i) => ({ shape: [...w.shape], values: (values[i] as Float32Array).slice() }))
}

/** A weight layer's kernel: conv [kh, kw, in, out] or dense [in, out]. */
export async function readKernel(model: tf.LayersModel, layerName: string): Promise<WeightArray> {
  const [kernel] = await readLayerWeights(model, layerName)
  if (!kernel) throw new Error(`layer '${layerName}' has no weights`)
  return kernel
}
