/**
 * Saved tensors without a recorded clone each (src/engine/backend/light-saves.ts): the same gradients
 * bit for bit, fewer engine ops, nothing leaked, and gradients of gradients still right.
 */
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { setLightSaves } from '../../../src/engine/backend/light-saves'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { lossAndGradients } from '../../../src/engine/train/train-step'

beforeAll(async () => {
  await selectBackend('wasm')
})

afterEach(() => setLightSaves(true))

describe('light saves of the tensors kept for gradients', () => {
  const model = buildVgg({ arch: 'vgg11_bn', width: 0.125, numClasses: 10, seed: 5, dropout: 0 })
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const count = 8
  const batch = { x: Float32Array.from({ length: count * 3072 }, (_, i) => Math.cos(i * 0.29)), labels: Int32Array.from({ length: count }, (_, i) => (i * 3) % 10), count }

  /** Every weight's gradient of one VGG11-BN batch, and how many Identity kernels ran for it. */
  async function gradients(): Promise<{ values: Float32Array[]; identities: number }> {
    let values: Float32Array[] = []
    const info = await tf.profile(() => {
      const grads = tf.tidy(() => {
        const step = lossAndGradients(model, variables, batch, { size: 32, numClasses: 10 })
        step.correct.dispose()
        return variables.map((v) => step.grads[v.name] as tf.Tensor)
      })
      values = grads.map((g) => g.dataSync().slice() as Float32Array)
      tf.dispose(grads)
    })
    return { values, identities: info.kernels.filter((k) => k.name === 'Identity').length }
  }

  it('gives the same gradients, bit for bit, through fewer engine ops, and leaks nothing', async () => {
    // A first pass, so that both compared passes multiply the dense layers' (unchanged) weights the
    // same way: a weight matrix seen before goes to XNNPACK, a new one to the SIMD kernel (wasm-matmul.ts).
    await gradients()
    const before = tf.memory().numTensors
    setLightSaves(false)
    const cloned = await gradients()
    setLightSaves(true)
    const light = await gradients()
    expect(light.values.length).toBe(variables.length)
    light.values.forEach((g, i) => expect(g, variables[i]!.name).toEqual(cloned.values[i]))
    // The engine's own clones show in the profile as Identity ops; the light saves do not (some
    // remain: tf.customGrad's saves, e.g. the fused convolution's, clone through the engine still).
    expect(light.identities).toBeLessThan(cloned.identities / 2)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('leaves gradients of gradients right, where the clone carries the outer gradient', () => {
    const x = tf.tensor1d([1, 2, -3])
    // d²/dx² (x³ + x·sin x) = 6x + 2cos x − x·sin x: mul and sin save their inputs.
    const f = (u: tf.Tensor): tf.Tensor => tf.add(tf.pow(u, 3), tf.mul(u, tf.sin(u)))
    const second = tf.grad((t: tf.Tensor) => tf.grad(f)(t))(x)
    const expected = [1, 2, -3].map((v) => 6 * v + 2 * Math.cos(v) - v * Math.sin(v))
    Array.from(second.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4))
    tf.dispose([x, second])
  })
})
