/**
 * The ReLU's gradient in one SIMD pass on wasm (src/engine/backend/relu-gradient.ts): the bits of
 * tfjs's mul(dy, cast(step(x))), signed zeros included, and tfjs's own ops where they must be recorded.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await selectBackend('wasm')
})

describe('the ReLU gradient on wasm', () => {
  it.each([[4, 5, 6, 8], [3, 7], [1027]])('gives the bits of tfjs’s expression, in one pass, for shape %j', async (...shape) => {
    const random = createRandom(shape.reduce((a, b) => a * 13 + b, 1))
    const size = shape.reduce((a, b) => a * b, 1)
    // Zeros in x (the kink: gradient 0) and negative dy (where the product is −0).
    const x = tf.tensor(Float32Array.from({ length: size }, (_, i) => (i % 7 === 0 ? 0 : random.next() * 2 - 1)), shape)
    const dy = tf.tensor(Float32Array.from({ length: size }, () => random.next() * 2 - 1), shape)
    let ours: Float32Array = new Float32Array()
    const profile = await tf.profile(() => {
      ours = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy).dataSync() as Float32Array)
    })
    const expected = tf.tidy(() => tf.mul(dy, tf.cast(tf.step(x), 'float32')).dataSync() as Float32Array)
    expect(ours).toEqual(expected)
    expect(Array.from(ours).some((v) => Object.is(v, -0))).toBe(true)
    expect(profile.kernels.map((k) => k.name)).not.toContain('Step')
    tf.dispose([x, dy])
  })

  it('records tfjs’s ops inside a gradient that is differentiated again', () => {
    const x = tf.tensor1d([-2, -0.5, 0.5, 2])
    // d/dx Σ relu′(x)·x² = relu′(x)·2x where the ReLU's gradient is recorded: [0, 0, 1, 4].
    const outer = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.relu(u))(t, tf.square(t)), 1)))(x)
    expect(Array.from(outer.dataSync())).toEqual([0, 0, 1, 4])
    tf.dispose([x, outer])
  })
})
