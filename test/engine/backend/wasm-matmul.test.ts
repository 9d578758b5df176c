import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerWasmMatMul } from '../../../src/engine/backend/wasm-matmul'
import { createRandom } from '../../../src/engine/random'

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmMatMul()
  registerWasmMatMul() // idempotent
})

/** Runs f on the cpu backend and on wasm with the same inputs; returns both results as arrays. */
async function onBoth(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const random = createRandom(shapes.flat().reduce((a, b) => a * 31 + b, 7))
  const data = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => random.next() * 2 - 1))
  const compute = async (backend: string): Promise<Float32Array> => {
    await tf.setBackend(backend)
    const out = tf.tidy(() => f(...data.map((d, i) => tf.tensor(d, shapes[i]))))
    const values = (await out.data()) as Float32Array
    out.dispose()
    return values
  }
  const cpu = await compute('cpu')
  const wasm = await compute('wasm')
  return { cpu, wasm }
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  const scale = Math.max(...expected.map(Math.abs))
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-4 * scale)
}

describe('wasm BatchMatMul with transposes', () => {
  it.each([
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[2, 5, 7], [2, 5, 3], true, false],
    [[2, 7, 5], [2, 3, 5], false, true]
  ])('%j × %j (transposeA %s, transposeB %s) matches cpu', async (sa, sb, ta, tb) => {
    const { cpu, wasm } = await onBoth([sa, sb], (a, b) => tf.matMul(a, b, ta, tb))
    expectClose(wasm, cpu)
  })

  it('matches cpu for a dense layer gradient and leaks nothing', async () => {
    const { cpu, wasm } = await onBoth([[16, 12], [12, 8]], (x, w) => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).square().sum())([x, w])
      return tf.concat([dx.flatten(), dw.flatten()])
    })
    expectClose(wasm, cpu)
    await tf.setBackend('wasm')
    const a = tf.randomNormal([8, 4])
    const b = tf.randomNormal([8, 4])
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const before = [tf.memory().numTensors, backend.numDataIds()]
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, false).dispose()
    expect([tf.memory().numTensors, backend.numDataIds()]).toEqual(before)
  })
})
