/**
 * The sharing Identity: a clone reads the same values without a copy, outlives its source, and the
 * buffer is freed when the last of them is disposed (wasm memory does not leak).
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'

beforeAll(async () => {
  await selectBackend('wasm')
})

describe('wasm Identity', () => {
  it('shares the buffer of its input, which lives until both are disposed', () => {
    const before = tf.memory().numDataBuffers
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3])
    const y = tf.clone(x)
    expect(tf.memory().numDataBuffers).toBe(before + 1)
    x.dispose()
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6])
    y.dispose()
    expect(tf.memory().numDataBuffers).toBe(before)
  })

  it('leaves a gradient computation as it was: tensors saved for the backward pass stay intact', () => {
    const w = tf.variable(tf.tensor1d([0.5, -1, 2]))
    const x = tf.tensor1d([3, 4, 5])
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.square(w), x)) as tf.Scalar, [w])
    // d/dw Σ w²x = 2wx
    expect(Array.from(grads[w.name]!.dataSync())).toEqual([3, -8, 20])
    tf.dispose([w, x, grads[w.name]!])
  })
})
