/**
 * The backward pass frees each node's saved tensors and output gradients once the node is done
 * (src/engine/backend/early-tape-release.ts): same gradients bit for bit, a lower peak, and the
 * tensors that must survive (the caller's dy, a gradient handed back for two inputs, nested
 * gradients) survive.
 */
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { setEarlyTapeRelease } from '../../../src/engine/backend/early-tape-release'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { lossAndGradients } from '../../../src/engine/train/train-step'

beforeAll(async () => {
  await selectBackend('wasm')
})

afterEach(() => setEarlyTapeRelease(true))

/** tf.customGrad, typed for a fixed number of tensor inputs (its own typing mixes them with the save function). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function customOp<F extends (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor | tf.Tensor[] }>(f: F): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor
}

/** Runs `fn` with Math.random replaced by a fixed sequence (dropout's masks draw their seeds from it). */
function withFixedRandom<T>(fn: () => T): T {
  const original = Math.random
  let s = 12345
  Math.random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  try {
    return fn()
  } finally {
    Math.random = original
  }
}

describe('early release of the gradient tape', () => {
  const model = buildVgg({ arch: 'vgg11_bn', width: 0.125, numClasses: 10, seed: 3 })
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const count = 8
  const batch = { x: Float32Array.from({ length: count * 3072 }, (_, i) => Math.sin(i * 0.37)), labels: Int32Array.from({ length: count }, (_, i) => i % 10), count }

  /** Every weight's gradient of one VGG11-BN batch, and the peak of tensor bytes while computing them. */
  async function gradients(): Promise<{ values: Float32Array[]; peakBytes: number }> {
    let values: Float32Array[] = []
    const info = await tf.profile(() =>
      withFixedRandom(() => {
        const grads = tf.tidy(() => {
          const step = lossAndGradients(model, variables, batch, { size: 32, numClasses: 10 })
          step.correct.dispose()
          return variables.map((v) => step.grads[v.name] as tf.Tensor)
        })
        values = grads.map((g) => g.dataSync().slice() as Float32Array)
        tf.dispose(grads)
      })
    )
    return { values, peakBytes: info.peakBytes }
  }

  it('gives the same gradients, bit for bit, with a lower peak', async () => {
    // A first pass, so that both compared passes multiply the dense layers' (unchanged) weights the
    // same way: a weight matrix seen before goes to XNNPACK, a new one to the SIMD kernel (wasm-matmul.ts).
    await gradients()
    const before = tf.memory().numTensors
    setEarlyTapeRelease(false)
    const kept = await gradients()
    setEarlyTapeRelease(true)
    const released = await gradients()
    expect(released.values.length).toBe(variables.length)
    released.values.forEach((g, i) => expect(g, variables[i]!.name).toEqual(kept.values[i]))
    // Measured: 17.0 → 11.5 MB (engine bytes, which count a shared buffer once per tensor; at width 1, batch 64 a worker's wasm memory: 665 → 554 MB).
    expect(released.peakBytes).toBeLessThan(0.75 * kept.peakBytes)
    expect(tf.memory().numTensors).toBe(before)
  })

  it("leaves the caller's dy alive", () => {
    const x = tf.tensor1d([1, 2, 3])
    const dy = tf.tensor1d([1, 10, 100])
    const g = tf.grad((t: tf.Tensor) => tf.square(t))(x, dy)
    expect(Array.from(g.dataSync())).toEqual([2, 40, 600])
    expect(dy.isDisposed).toBe(false)
    expect(Array.from(dy.dataSync())).toEqual([1, 10, 100])
    tf.dispose([x, dy, g])
  })

  it('keeps a gradient handed back for two inputs until both have used it', () => {
    // f(a, b) = a + b whose gradient hands the same dy object to both inputs.
    const addSharingDy = customOp((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a])
      return { value: tf.add(a, b), gradFunc: (dy: tf.Tensor) => [dy, dy] }
    })
    // An identity whose gradient refuses a freed dy (wasm's freed memory would still read right).
    const checked = customOp((a: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a])
      return {
        value: tf.clone(a),
        gradFunc: (dy: tf.Tensor) => {
          if (dy.isDisposed) throw new Error('the shared gradient was freed before its second use')
          return tf.mul(dy, 1)
        }
      }
    })
    const x = tf.tensor1d([1, 2, 3])
    // Σ (x² + 3x): the shared gradient reaches both branches.
    const g = tf.grad((t: tf.Tensor) => tf.sum(addSharingDy(checked(tf.square(t)), checked(tf.mul(t, 3)))))(x)
    expect(Array.from(g.dataSync())).toEqual([5, 7, 9])
    tf.dispose([x, g])
  })

  it('leaves nested gradients right (second derivatives)', () => {
    const x = tf.tensor1d([1, 2, -3])
    // d²/dx² x³ = 6x
    const second = tf.grad((t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.pow(u, 3))(t))(x)
    expect(Array.from(second.dataSync())).toEqual([6, 12, -18])
    tf.dispose([x, second])
  })
})
