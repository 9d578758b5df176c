/**
 * Dropout in training with the workbench's mask (src/engine/models/training-dropout.ts): tfjs's
 * values (0 or 1/(1 − rate)) at the rate asked for, a new mask per call, the gradient through the
 * same mask, and tfjs's own dropout wherever this one does not apply.
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { dropoutMask, trainingDropout } from '../../../src/engine/models/training-dropout'

beforeAll(async () => {
  await selectBackend('wasm')
})

afterAll(async () => {
  await tf.setBackend('wasm')
})

describe('trainingDropout', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`keeps 1 − rate of the values, scaled as tfjs scales them, on ${backend}`, async () => {
      await tf.setBackend(backend)
      for (const rate of [0.5, 0.1, 0.9]) {
        const values = tf.tidy(() => dropoutMask([100, 1000], rate, 0.123).dataSync() as Float32Array)
        const kept = values.filter((v) => v !== 0)
        // tfjs: floor(u + keep) / keep in float32.
        const scale = tf.tidy(() => tf.div(tf.scalar(1), tf.scalar(1 - rate)).dataSync()[0] as number)
        expect(new Set(kept)).toEqual(new Set([scale]))
        // 100 000 draws: the kept fraction within 1 % of 1 − rate (its standard deviation is ≤ 0.16 %).
        expect(Math.abs(kept.length / values.length - (1 - rate))).toBeLessThan(0.01)
      }
    })
  }

  it('draws a new mask each call, the same for the same seed', () => {
    const draw = (seed?: number): Float32Array => tf.tidy(() => dropoutMask([4096], 0.5, seed).dataSync() as Float32Array)
    expect(draw(0.25)).toEqual(draw(0.25))
    expect(draw(0.25)).not.toEqual(draw(0.75))
    expect(draw()).not.toEqual(draw())
  })

  it('multiplies by the mask, forward and backward, and leaks nothing', () => {
    const layer = tf.layers.dropout({ rate: 0.5 })
    const x = tf.randomNormal([8, 64])
    const w = tf.randomNormal([8, 64])
    const before = tf.memory().numTensors
    const { y, dx } = tf.tidy(() => {
      let out: tf.Tensor | undefined
      const grad = tf.grad((t: tf.Tensor) => {
        out = tf.keep(trainingDropout(layer, t) as tf.Tensor)
        return tf.sum(tf.mul(out, w))
      })(x)
      return { y: out as tf.Tensor, dx: grad }
    })
    const [xs, ws, ys, dxs] = [x, w, y, dx].map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array]
    for (let i = 0; i < xs.length; i++) {
      const mask = ys[i] === 0 ? 0 : 2
      expect(ys[i]).toBe(Math.fround(xs[i]! * mask))
      expect(dxs[i]).toBe(Math.fround(ws[i]! * mask))
    }
    tf.dispose([y, dx])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, w])
  })

  it("leaves tfjs's own dropout where it must run: rate 0 or 1, a noise shape, a fixed seed, other layers", () => {
    const x = tf.ones([2, 3])
    for (const layer of [tf.layers.dropout({ rate: 0 }), tf.layers.dropout({ rate: 1 }), tf.layers.dropout({ rate: 0.5, noiseShape: [1, 3] }), tf.layers.dropout({ rate: 0.5, seed: 7 }), tf.layers.dense({ units: 2 })]) {
      expect(trainingDropout(layer, x), layer.name).toBeUndefined()
    }
    x.dispose()
  })
})
