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
    [[2, 7, 5], [2, 3, 5], false, true],
    // Shapes where the product is cheaper computed transposed, (op(B)ᵀ·op(A)ᵀ)ᵀ: a dense layer's
    // input gradient (small batch · big weightᵀ), its forward pass, and both operands transposed.
    [[3, 40], [50, 40], false, true],
    [[3, 45], [45, 61], false, false],
    [[45, 3], [61, 45], true, true],
    [[1, 4, 37], [1, 29, 37], false, true],
    // Few rows against a long shared axis: computed as it stands.
    [[64, 5], [64, 7], true, false],
    // A new right operand with a multiple of 8 columns (a dense layer's forward pass in training):
    // the workbench's SIMD kernel, with a short last group of rows, and batched with batch 1.
    [[13, 20], [20, 24], false, false],
    [[3, 45], [45, 64], false, false],
    [[1, 4, 37], [1, 37, 16], false, false],
    // B packed four groups of 8 columns at a time, then one group alone.
    [[5, 12], [12, 40], false, false]
  ])('%j × %j (transposeA %s, transposeB %s) matches cpu', async (sa, sb, ta, tb) => {
    const { cpu, wasm } = await onBoth([sa, sb], (a, b) => tf.matMul(a, b, ta, tb))
    expectClose(wasm, cpu)
  })

  it('keeps matching when the same right operand comes back (inference with fixed weights)', async () => {
    await tf.setBackend('wasm')
    const random = createRandom(3)
    const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.next() * 2 - 1)
    const w = tf.tensor2d(values(45 * 61), [45, 61])
    const xs = [tf.tensor2d(values(3 * 45), [3, 45]), tf.tensor2d(values(3 * 45), [3, 45])]
    const wasm = xs.map((x) => tf.tidy(() => tf.matMul(x, w).dataSync() as Float32Array))
    const data = [w, ...xs].map((t) => t.dataSync() as Float32Array)
    tf.dispose([w, ...xs])
    await tf.setBackend('cpu')
    const wCpu = tf.tensor2d(data[0], [45, 61])
    for (let i = 0; i < 2; i++) {
      const x = tf.tensor2d(data[i + 1], [3, 45])
      expectClose(wasm[i], tf.matMul(x, wCpu).dataSync() as Float32Array)
      x.dispose()
    }
    wCpu.dispose()
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
    for (let i = 0; i < 5; i++) tf.matMul(a, b, false, true).dispose()
    // A new right operand each time, as the dense layers' weights in training.
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.matMul(a, tf.randomNormal([4, 8])).dispose())
    expect([tf.memory().numTensors, backend.numDataIds()]).toEqual(before)
  })
})
