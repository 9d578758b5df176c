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
