import * as tf from '@tensorflow/tfjs'
import type { FeaturePooling } from '../../shared/features'
import { layerOutputs } from '../models/layer-outputs'

/**
 * Whether every layer takes the previous layer's output and nothing else (VGG, any Sequential):
 * then layers can run one by one and stop early at the deepest layer asked for.
 */
export function isLinearChain(model: tf.LayersModel): boolean {
  if (model instanceof tf.Sequential) return true
  const layers = model.layers
  return layers.every((layer, i) => {
    if (i === 0) return layer.getClassName() === 'InputLayer'
    const nodes = layer.inboundNodes
    return nodes.length === 1 && nodes[0].inboundLayers.length === 1 && nodes[0].inboundLayers[0] === layers[i - 1]
  })
}

/** Sub-models for non-linear topologies, built once per model and set of layers. */
const subModels = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>()

function subModel(model: tf.LayersModel, layerNames: readonly string[]): tf.LayersModel {
  let byKey = subModels.get(model)
  if (!byKey) subModels.set(model, (byKey = new Map()))
  const key = layerNames.join('\n')
  let sub = byKey.get(key)
  if (!sub) {
    const outputs = layerNames.map((name) => model.getLayer(name).output as tf.SymbolicTensor)
    sub = tf.model({ inputs: model.inputs, outputs })
    byKey.set(key, sub)
  }
  return sub
}

/** Reduces one activation tensor to a [batch, dims] matrix. */
export function poolActivation(activation: tf.Tensor, pooling: FeaturePooling): tf.Tensor2D {
  return tf.tidy(() => {
    const n = activation.shape[0]
    if (activation.rank === 2) return activation as tf.Tensor2D
    if (activation.rank === 4 && pooling === 'avg') return tf.mean(activation, [1, 2]) as tf.Tensor2D
    if (activation.rank === 4 && pooling === 'max') return tf.max(activation, [1, 2]) as tf.Tensor2D
    return tf.reshape(activation, [n, -1]) as tf.Tensor2D
  })
}

/**
 * Runs the frozen network in inference mode on a batch and returns one [batch, dims] feature matrix
 * per named layer (in the order asked). Conv activations are pooled as asked; dense ones pass through.
 * The caller disposes the returned tensors.
 */
export function extractFeatures(model: tf.LayersModel, x: tf.Tensor, layerNames: readonly string[], pooling: FeaturePooling): tf.Tensor2D[] {
  const activations = isLinearChain(model)
    ? layerOutputs(model, x, layerNames)
    : tf.tidy(() => {
        const out = subModel(model, layerNames).predict(x)
        return Array.isArray(out) ? out : [out]
      })
  const pooled = activations.map((a) => poolActivation(a, pooling))
  // poolActivation returns a rank-2 input unchanged: dispose only the activations it replaced.
  const returned = new Set<tf.Tensor>(pooled)
  tf.dispose(activations.filter((a) => !returned.has(a)))
  return pooled
}

/** Feature dimensions a layer yields after pooling, from its output shape (no forward pass). */
export function pooledDims(model: tf.LayersModel, layerName: string, pooling: FeaturePooling): number {
  const shape = model.getLayer(layerName).outputShape as (number | null)[]
  const dims = shape.slice(1) as number[]
  if (dims.length === 3 && pooling !== 'flatten') return dims[2]
  return dims.reduce((a, b) => a * b, 1)
}

/** 1-based position of a layer among the model's layers (input layer excluded): the x axis of probe charts. */
export function layerDepth(model: tf.LayersModel, layerName: string): number {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer')
  const index = layers.findIndex((l) => l.name === layerName)
  if (index < 0) throw new Error(`the model has no layer '${layerName}'; its layers are ${layers.map((l) => l.name).join(', ')}`)
  return index + 1
}
