import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerWasmMaxPoolGrad } from '../../../src/engine/backend/wasm-max-pool-grad'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmMaxPoolGrad()
  registerWasmMaxPoolGrad() // idempotent
})

type Pad = 'same' | 'valid' | number

/** dx of Σ maxPool(x)·dy on one backend. */
async function poolGrad(backend: string, x: Float32Array, shape: number[], size: [number, number], strides: [number, number], pad: Pad, dy: (outShape: number[]) => Float32Array): Promise<Float32Array> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const xT = tf.tensor4d(x, shape as [number, number, number, number])
    const outShape = tf.maxPool(xT, size, strides, pad).shape
    const up = tf.tensor(dy(outShape), outShape)
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, strides, pad), up)))(xT)
    return g.dataSync() as Float32Array
  })
}

describe('wasm MaxPoolGrad', () => {
  it.each([
    ['VGG 2×2 stride 2', [2, 8, 8, 3], [2, 2], [2, 2], 'valid'],
    ['VGG 2×2 stride 2, non-square, odd channel count', [3, 6, 10, 5], [2, 2], [2, 2], 'valid'],
    // Channels in fours: the SIMD kernel (kernels.wat max_pool_2x2_grad).
    ['VGG 2×2 stride 2, 4 channels (SIMD)', [2, 8, 8, 4], [2, 2], [2, 2], 'valid'],
    ['VGG 2×2 stride 2, non-square, 12 channels (SIMD)', [3, 6, 10, 12], [2, 2], [2, 2], 'valid'],
    ['odd input, 2×2 stride 2 valid (last row unread)', [2, 7, 9, 4], [2, 2], [2, 2], 'valid'],
    ['3×3 stride 2 same (overlapping windows)', [1, 7, 7, 2], [3, 3], [2, 2], 'same'],
    ['3×3 stride 1 same', [2, 5, 6, 3], [3, 3], [1, 1], 'same'],
    ['non-square window and strides', [2, 9, 8, 1], [3, 2], [2, 1], 'valid'],
    ['numeric pad', [1, 6, 6, 2], [3, 3], [2, 2], 1]
  ])('%s: x %j matches cpu', async (_, shape, size, strides, pad) => {
    const random = createRandom(11)
    const n = (shape as number[]).reduce((a, b) => a * b, 1)
    // Rounded values make ties, which must go to the first maximum in row-major window order.
    const x = Float32Array.from({ length: n }, () => Math.round(random.next() * 6) - 3)
    const dy = (s: number[]): Float32Array => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) - 3 + 0.5)
    const args = [x, shape as number[], size as [number, number], strides as [number, number], pad as Pad, dy] as const
    const cpu = await poolGrad('cpu', ...args)
    const wasm = await poolGrad('wasm', ...args)
    expect(Array.from(wasm)).toEqual(Array.from(cpu))
  })
})
