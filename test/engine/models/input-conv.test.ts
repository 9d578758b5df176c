/**
 * The first convolution in training mode skips the gradient of the images and changes nothing else:
 * the same output and the same kernel and bias gradients as tfjs-layers' own (fused) Conv2D.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { inputConvWithoutInputGradient } from '../../../src/engine/models/input-conv'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await selectBackend('wasm')
})

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number)
}

describe('inputConvWithoutInputGradient', () => {
  for (const activation of ['linear', 'relu'] as const) {
    it(`gives tfjs-layers' output and weight gradients (${activation}), and runs no input gradient`, () => {
      const random = createRandom(5)
      const layer = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation, biasInitializer: 'randomNormal' })
      const x = tf.tensor4d(Float32Array.from({ length: 5 * 9 * 7 * 3 }, () => random.next() * 2 - 1), [5, 9, 7, 3])
      layer.build(x.shape)
      const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable)
      const upstream = tf.tensor4d(Float32Array.from({ length: 5 * 9 * 7 * 16 }, () => random.next() * 2 - 1), [5, 9, 7, 16])
      const run = (f: () => tf.Tensor) => {
        const kernels: string[] = []
        const result = tf.variableGrads(() => {
          const y = f()
          return tf.sum(tf.mul(y, upstream)) as tf.Scalar
        }, variables)
        return { result, kernels }
      }
      const fused = run(() => layer.apply(x) as tf.Tensor)
      const ours = run(() => inputConvWithoutInputGradient(layer, x) as tf.Tensor)
      expect(Math.abs((ours.result.value.dataSync()[0] as number) - (fused.result.value.dataSync()[0] as number))).toBeLessThan(1e-3)
      for (const v of variables) {
        const scale = tf.max(tf.abs(fused.result.grads[v.name] as tf.Tensor)).dataSync()[0] as number
        expect(scale).toBeGreaterThan(0.1)
        expect(maxDifference(ours.result.grads[v.name] as tf.Tensor, fused.result.grads[v.name] as tf.Tensor) / scale).toBeLessThan(1e-5)
      }
    })
  }

  it('runs no Conv2DBackpropInput on wasm, where the fused layer runs one', async () => {
    const layer = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' })
    const x = tf.randomNormal([2, 8, 8, 3])
    layer.build(x.shape)
    const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable)
    const kernelsOf = async (f: () => tf.Tensor): Promise<string[]> => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, variables)
        tf.dispose([value, ...Object.values(grads)])
      })
      return info.kernels.map((k) => k.name)
    }
    expect(await kernelsOf(() => layer.apply(x) as tf.Tensor)).toContain('Conv2DBackpropInput')
    const ours = await kernelsOf(() => inputConvWithoutInputGradient(layer, x) as tf.Tensor)
    expect(ours).toContain('Conv2DBackpropFilter')
    expect(ours).not.toContain('Conv2DBackpropInput')
  })

  it('declines what it does not cover: other layers, dilations, other activations', () => {
    const x = tf.randomNormal([1, 8, 8, 3])
    expect(inputConvWithoutInputGradient(tf.layers.dense({ units: 2 }), x)).toBeUndefined()
    const dilated = tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2 })
    dilated.build(x.shape)
    expect(inputConvWithoutInputGradient(dilated, x)).toBeUndefined()
    const tanh = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh' })
    tanh.build(x.shape)
    expect(inputConvWithoutInputGradient(tanh, x)).toBeUndefined()
  })
})
