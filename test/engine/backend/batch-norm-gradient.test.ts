import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { registerBatchNormGradient } from '../../../src/engine/backend/batch-norm-gradient'
import { createRandom } from '../../../src/engine/random'

/** Gradients of a training-mode batch norm (batch statistics, as in BN layers) w.r.t. x, γ and β. */
function bnGradients(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, upstream: tf.Tensor4D): Float32Array[] {
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(a, [0, 1, 2])
    return tf.mul(tf.batchNorm(a as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5), upstream).sum()
  }
  return tf.tidy(() => tf.grads(f)([x, gamma, beta]).map((t) => t.dataSync() as Float32Array))
}

describe('batch-norm gradient without tile', () => {
  it('gives the same gradients as tfjs-core on random NHWC inputs', async () => {
    await tf.setBackend('cpu')
    const random = createRandom(5)
    const values = (n: number): number[] => Array.from({ length: n }, () => random.next() * 4 - 2)
    const x = tf.tensor4d(values(3 * 5 * 4 * 6), [3, 5, 4, 6])
    const gamma = tf.tensor1d(values(6))
    const beta = tf.tensor1d(values(6))
    const up = tf.tensor4d(values(3 * 5 * 4 * 6), [3, 5, 4, 6])
    const reference = bnGradients(x, gamma, beta, up)
    registerBatchNormGradient()
    const ours = bnGradients(x, gamma, beta, up)
    reference.forEach((ref, i) => {
      const scale = Math.max(...ref.map(Math.abs))
      ref.forEach((v, j) => expect(Math.abs(ours[i][j] - v)).toBeLessThanOrEqual(1e-5 * scale))
    })
  })
})

describe('fused batch-norm gradient kernel on wasm', () => {
  it.each([
    ['NHWC with scale', [3, 5, 4, 6], true],
    // (Without a scale tfjs-core itself cannot differentiate batchNorm: it saves the missing input.)
    ['odd shape', [2, 3, 7, 5], true],
    ['a matrix (dense-style batch norm)', [9, 13], true]
  ])('%s: %j gives the cpu backend’s gradients for x, γ and β', async (_, shape, withScale: boolean) => {
    await import('@tensorflow/tfjs-backend-wasm')
    registerBatchNormGradient()
    const random = createRandom(8)
    const n = (shape as number[]).reduce((a, b) => a * b, 1)
    const channels = (shape as number[]).at(-1) as number
    const values = (k: number): Float32Array => Float32Array.from({ length: k }, () => random.next() * 4 - 2)
    const data = { x: values(n), up: values(n), gamma: values(channels), beta: values(channels) }
    const gradients = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend)
      return tf.tidy(() => {
        const axes = (shape as number[]).slice(0, -1).map((_, i) => i)
        const up = tf.tensor(data.up, shape as number[])
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
          const { mean, variance } = tf.moments(a, axes)
          return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, withScale ? (g as tf.Tensor1D) : undefined, 1e-3), up))
        }
        const inputs = [tf.tensor(data.x, shape as number[]), tf.tensor1d(data.gamma), tf.tensor1d(data.beta)]
        const grads = tf.grads(f)(inputs)
        return (withScale ? grads : [grads[0], grads[2]]).map((t) => t.dataSync() as Float32Array)
      })
    }
    const reference = await gradients('cpu')
    const ours = await gradients('wasm')
    reference.forEach((ref, i) => {
      const scale = Math.max(...ref.map(Math.abs))
      ref.forEach((v, j) => expect(Math.abs(ours[i][j] - v)).toBeLessThanOrEqual(1e-4 * scale))
    })
  })
})
