import * as tf from '@tensorflow/tfjs'
import { deriveSeed } from '../random'
import { FC_UNITS, listNetworkElements, parseArch, scaleWidth, type ArchId } from '../../shared/vgg'

export interface VggOptions {
  arch: ArchId
  /** Width multiplier for convs and fc layers (1, ½, ¼, ⅛ …). */
  width: number
  numClasses: number
  /** Input side length in pixels; five 2×2 pools need a multiple of 32. */
  inputSize?: number
  /** Dropout after fc1 and fc2 (the seeds' classifier). */
  dropout?: number
  /** Seeds every initializer, so the same seed builds the same weights. */
  seed: number
}

/** PyTorch's BN defaults (momentum 0.1 there is 0.9 here: Keras counts the kept fraction). */
const BN_MOMENTUM = 0.9
const BN_EPSILON = 1e-5

/**
 * Builds a VGG as a tfjs Layers model with Keras layer names. The output is logits (no softmax):
 * losses use softmax cross-entropy from logits, and temperature scaling needs the logits anyway.
 */
export function buildVgg(options: VggOptions): tf.Sequential {
  const { depth, batchNorm } = parseArch(options.arch)
  const inputSize = options.inputSize ?? 32
  if (inputSize % 32 !== 0) throw new Error(`inputSize ${inputSize} must be a multiple of 32 (VGG pools five times)`)
  if (!(options.width > 0)) throw new Error(`width ${options.width} must be positive`)
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2) {
    throw new Error(`numClasses ${options.numClasses} must be an integer ≥ 2`)
  }
  const dropout = options.dropout ?? 0.5
  const seedFor = (name: string): number => deriveSeed(options.seed, name)
  const model = tf.sequential({ name: options.arch })
  model.add(tf.layers.inputLayer({ inputShape: [inputSize, inputSize, 3], name: 'input' }))

  for (const element of listNetworkElements(depth, options.width)) {
    if (element.type === 'pool') {
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: element.name }))
      continue
    }
    if (element.kind !== 'conv') continue // the classifier follows the flatten, below
    const name = element.name
    model.add(
      tf.layers.conv2d({
        name,
        filters: element.units,
        kernelSize: 3,
        padding: 'same',
        // Without BN the ReLU lives in the conv, as in Keras' VGG16, so its weights import by name.
        activation: batchNorm ? 'linear' : 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seedFor(name) }),
        biasInitializer: 'zeros'
      })
    )
    if (batchNorm) {
      model.add(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }))
      model.add(tf.layers.reLU({ name: `${name}_relu` }))
    }
  }

  const fcUnits = scaleWidth(FC_UNITS, options.width)
  model.add(tf.layers.flatten({ name: 'flatten' }))
  for (const name of ['fc1', 'fc2']) {
    model.add(
      tf.layers.dense({
        name,
        units: fcUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seedFor(name) })
      })
    )
    // No seed here: a seeded tfjs dropout draws the same mask on every call.
    model.add(tf.layers.dropout({ name: `${name}_dropout`, rate: dropout }))
  }
  model.add(
    tf.layers.dense({
      name: 'predictions',
      units: options.numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seedFor('predictions') })
    })
  )
  return model
}

/** Counts parameters: trainable (weights, biases, BN scale/shift) and all (plus BN running statistics). */
export function countParameters(model: tf.LayersModel): { trainable: number; total: number } {
  let trainable = 0
  let total = 0
  for (const weight of model.weights) {
    const size = weight.shape.reduce<number>((a, b) => a * (b ?? 1), 1)
    total += size
    if (weight.trainable) trainable += size
  }
  return { trainable, total }
}
