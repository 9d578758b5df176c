import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerWasmReductions } from '../../../src/engine/backend/wasm-reductions'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmReductions()
  registerWasmReductions() // idempotent
})

/** Runs f on the cpu backend and on wasm with the same input; returns both results and shapes. */
async function onBoth(shape: number[], f: (x: tf.Tensor) => tf.Tensor, seed = 3): Promise<{ cpu: Float32Array; wasm: Float32Array; shapes: number[][] }> {
  const random = createRandom(seed)
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.next() * 4 - 1)
  const shapes: number[][] = []
  const compute = async (backend: string): Promise<Float32Array> => {
    await tf.setBackend(backend)
    const out = tf.tidy(() => f(tf.tensor(data, shape)))
    shapes.push(out.shape)
    const values = (await out.data()) as Float32Array
    out.dispose()
    return values
  }
  const cpu = await compute('cpu')
  const wasm = await compute('wasm')
  return { cpu, wasm, shapes }
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  const scale = Math.max(...expected.map(Math.abs), 1e-30)
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-4 * scale)
}

describe('wasm Sum and Mean over leading axes', () => {
  it.each([
    ['NHWC over N, H, W (batch norm)', [4, 5, 3, 7], [0, 1, 2], false],
    ['NHWC over N, H, W, 8 channels (SIMD column sums)', [4, 5, 3, 8], [0, 1, 2], false],
    ['over the first axis, 12 columns (SIMD), keepDims', [9, 12], [0], true],
    ['keepDims', [4, 5, 3, 7], [0, 1, 2], true],
    ['negative and unordered axes', [3, 6, 5, 2], [-2, 0, 1], false],
    ['over the first axis of a matrix (dense bias gradient)', [33, 17], [0], false],
    ['odd shape, one channel', [7, 3, 1, 1], [0, 1], false],
    ['inner axes (wasm’s own path)', [4, 5, 3, 7], [1, 2], false],
    ['last axis (wasm’s own path)', [4, 5, 3, 7], [3], true],
    ['everything (wasm’s own path)', [4, 5, 3, 7], [0, 1, 2, 3], false]
  ])('%s: %j over %j (keepDims %s) matches cpu', async (_, shape, axes, keepDims) => {
    for (const op of [tf.sum, tf.mean]) {
      const { cpu, wasm, shapes } = await onBoth(shape as number[], (x) => op(x, axes as number[], keepDims as boolean))
      expect(shapes[1]).toEqual(shapes[0])
      expectClose(wasm, cpu)
    }
  })

  it('sums 100k rows without losing precision, and leaves int32 to wasm', async () => {
    // 3 columns: the JS loop; 4: the SIMD kernel. Both accumulate in float64.
    for (const columns of [3, 4]) {
      const { cpu, wasm } = await onBoth([100_000, columns], (x) => tf.sum(tf.add(x, 1000), [0]), 9)
      expectClose(wasm, cpu)
    }
    const ints = await onBoth([6, 4], (x) => tf.sum(tf.cast(tf.mul(x, 10), 'int32'), [0]))
    expect(Array.from(ints.wasm)).toEqual(Array.from(ints.cpu))
  })

  it('gives the same batch-norm moments and gradients as cpu, and leaks nothing', async () => {
    const f = (x: tf.Tensor): tf.Tensor => {
      const g = tf.grad((a: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2])
        const scale = tf.linspace(0.5, 2, a.shape[3] as number)
        const offset = tf.linspace(-1, 1, a.shape[3] as number)
        return tf.sum(tf.mul(tf.batchNorm(a as tf.Tensor4D, mean, variance, offset, scale, 1e-5), tf.sin(tf.range(0, a.size).reshape(a.shape))))
      })
      return g(x)
    }
    const { cpu, wasm } = await onBoth([3, 4, 5, 6], f)
    expectClose(wasm, cpu)
    await tf.setBackend('wasm')
    const x = tf.randomNormal([2, 3, 3, 4])
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const before = [tf.memory().numTensors, backend.numDataIds()]
    for (let i = 0; i < 3; i++) tf.dispose([tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2], true)])
    expect([tf.memory().numTensors, backend.numDataIds()]).toEqual(before)
    x.dispose()
  })
})
