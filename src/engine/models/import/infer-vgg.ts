import * as tf from '@tensorflow/tfjs'
import { buildVgg } from '../build-vgg'
import { convLayerName, FC_UNITS, listNetworkElements, listWeightLayers, scaleWidth, VGG_CFGS, type ArchId, type VggDepth } from '../../../shared/vgg'
import { PretrainedImportError, weightRole, type LayerWeights } from './import-error'

/** A VGG as read off a file's layer names and weight shapes. */
export interface InferredVgg {
  arch: ArchId
  width: number
  /** Whether the file has fc1, fc2 and predictions. */
  top: boolean
  /** From fc1's input size when there is a top; otherwise undefined (any multiple of 32 works). */
  inputSize?: number
  numClasses?: number
}

const CONV_NAME = /^block(\d+)_conv(\d+)$/

/** Convs per block of each VGG depth, e.g. vgg16 → [2, 2, 3, 3, 3]. */
function blockCounts(depth: VggDepth): number[] {
  const counts: number[] = []
  for (const layer of listWeightLayers(depth)) if (layer.block) counts[layer.block - 1] = (counts[layer.block - 1] ?? 0) + 1
  return counts
}

/** Output channels of a stored conv kernel ([3, 3, in, out]). */
function convOut(layers: LayerWeights, name: string, file: string): number {
  const kernel = layers.get(name)?.find((w) => weightRole(w.name) === 'kernel') ?? layers.get(name)?.[0]
  if (!kernel || kernel.shape.length !== 4) throw new PretrainedImportError(file, `layer '${name}' has no 4-D conv kernel`)
  return kernel.shape[3]
}

/**
 * Recognizes a VGG (any depth, with or without batch norm, any width, with or without its top)
 * from Keras layer names, so weights-only files such as keras.applications' VGG16 can be imported.
 * Returns undefined when the names are not VGG's at all.
 * @throws PretrainedImportError when the names look like a VGG but the structure or shapes do not fit one
 */
export function inferVgg(layers: LayerWeights, file: string): InferredVgg | undefined {
  const counts: number[] = []
  for (const name of layers.keys()) {
    const match = CONV_NAME.exec(name)
    if (!match) continue
    const block = Number(match[1])
    counts[block - 1] = Math.max(counts[block - 1] ?? 0, Number(match[2]))
  }
  if (counts.length === 0) return undefined
  const found = Array.from(counts, (c) => c ?? 0)
  const depth = (Object.keys(VGG_CFGS) as VggDepth[]).find((d) => blockCounts(d).join() === found.join())
  if (!depth) {
    const known = (Object.keys(VGG_CFGS) as VggDepth[]).map((d) => `${d} [${blockCounts(d).join(', ')}]`).join(', ')
    throw new PretrainedImportError(file, `conv layers per block are [${found.join(', ')}], which is no VGG (${known})`)
  }
  const batchNorm = layers.has(`${convLayerName(1, 1)}_bn`)
  const width = chooseWidth(depth, layers, file)
  const topNames = ['fc1', 'fc2', 'predictions'].filter((n) => layers.has(n))
  if (topNames.length === 0) return { arch: archId(depth, batchNorm), width, top: false }
  if (topNames.length !== 3) throw new PretrainedImportError(file, `the classifier is incomplete: it has ${topNames.join(', ')} but needs fc1, fc2 and predictions`)

  const fc1 = layers.get('fc1')?.find((w) => weightRole(w.name) === 'kernel')
  const predictions = layers.get('predictions')?.find((w) => weightRole(w.name) === 'kernel')
  if (!fc1 || fc1.shape.length !== 2 || !predictions || predictions.shape.length !== 2) throw new PretrainedImportError(file, 'fc1 or predictions has no 2-D kernel')
  const lastConv = convOut(layers, convLayerName(5, found[4]), file)
  const side = Math.sqrt(fc1.shape[0] / lastConv)
  if (!Number.isInteger(side)) throw new PretrainedImportError(file, `fc1 takes ${fc1.shape[0]} inputs, which is no square grid of ${lastConv}-channel features`)
  const fcUnits = scaleWidth(FC_UNITS, width)
  if (fc1.shape[1] !== fcUnits) {
    throw new PretrainedImportError(file, `fc1 has ${fc1.shape[1]} units, but a width-${width} VGG has ${fcUnits} (the workbench scales the classifier with the convs)`)
  }
  return { arch: archId(depth, batchNorm), width, top: true, inputSize: side * 32, numClasses: predictions.shape[1] }
}

function archId(depth: VggDepth, batchNorm: boolean): ArchId {
  return `${depth}${batchNorm ? '_bn' : ''}` as ArchId
}

/** The width multiplier that reproduces every conv's channel count (tried from the first and the last block). */
function chooseWidth(depth: VggDepth, layers: LayerWeights, file: string): number {
  const convs = listWeightLayers(depth).filter((l) => l.kind === 'conv')
  const actual = convs.map((c) => convOut(layers, c.name, file))
  const candidates = [actual[0] / convs[0].units, actual.at(-1)! / convs.at(-1)!.units]
  const width = candidates.find((w) => convs.every((c, i) => scaleWidth(c.units, w) === actual[i]))
  if (width === undefined) {
    const listing = convs.map((c, i) => `${c.name} ${actual[i]}`).join(', ')
    throw new PretrainedImportError(file, `conv channel counts (${listing}) match no single width multiplier of ${depth}`)
  }
  return width
}

/**
 * Builds the VGG the file describes: the workbench's own builder with a top, or only its conv part
 * (input → block5_pool) without one, so a notop file does not allocate a classifier it never fills.
 */
export function buildInferredVgg(vgg: InferredVgg, inputSize: number): tf.LayersModel {
  if (vgg.top) return buildVgg({ arch: vgg.arch, width: vgg.width, numClasses: vgg.numClasses as number, inputSize, seed: 0 })
  const batchNorm = vgg.arch.endsWith('_bn')
  const model = tf.sequential({ name: `${vgg.arch}_features` })
  model.add(tf.layers.inputLayer({ inputShape: [inputSize, inputSize, 3], name: 'input' }))
  for (const element of listNetworkElements(vgg.arch, vgg.width)) {
    if (element.type === 'pool') {
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: element.name }))
      continue
    }
    if (element.kind !== 'conv') break // a notop file: the conv part only
    const name = element.name
    // Same layout as buildVgg (the weights are overwritten at once, so initializers do not matter).
    model.add(tf.layers.conv2d({ name, filters: element.units, kernelSize: 3, padding: 'same', activation: batchNorm ? 'linear' : 'relu' }))
    if (batchNorm) {
      model.add(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-5 }))
      model.add(tf.layers.reLU({ name: `${name}_relu` }))
    }
  }
  return model
}
