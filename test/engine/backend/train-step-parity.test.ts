import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { setFmaKernelsEnabled, simdKernelsFor } from '../../../src/engine/backend/simd/simd-kernels'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { forward } from '../../../src/engine/models/forward'
import { createRandom } from '../../../src/engine/random'

/**
 * The whole training computation of a small VGG11-BN (forward in training mode, loss, gradients of
 * every weight) on wasm with all of the workbench's kernels, against tfjs's cpu backend.
 */
function lossAndGrads(backend: string, weights: Float32Array[], x: Float32Array, labels: Int32Array): Float32Array[] {
  const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: 5, seed: 3, dropout: 0 })
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)))
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const out = tf.tidy(() => {
    const input = tf.tensor4d(x, [labels.length, 32, 32, 3])
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), forward(model, input, true)) as tf.Scalar,
      variables
    )
    return [value, ...variables.map((v) => grads[v.name])].map((t) => t.dataSync() as Float32Array)
  })
  expect(tf.getBackend()).toBe(backend)
  model.dispose()
  return out
}

/** The inputs and the cpu backend's loss and gradients, computed once for both kernel builds. */
let reference: { weights: Float32Array[]; x: Float32Array; labels: Int32Array; expected: Float32Array[] } | undefined
async function cpuReference(): Promise<NonNullable<typeof reference>> {
  if (reference) return reference
  await selectBackend('wasm')
  const random = createRandom(21)
  const template = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: 5, seed: 3, dropout: 0 })
  const weights = template.getWeights().map((w) => w.dataSync() as Float32Array)
  template.dispose()
  const count = 6
  const x = Float32Array.from({ length: count * 32 * 32 * 3 }, () => random.next() * 2 - 1)
  const labels = Int32Array.from({ length: count }, (_, i) => i % 5)
  await tf.setBackend('cpu')
  reference = { weights, x, labels, expected: lossAndGrads('cpu', weights, x, labels) }
  return reference
}

describe('a VGG11-BN training step on wasm with the workbench kernels', () => {
  // Both builds of the SIMD kernels: with fused multiply-adds (relaxed SIMD, the default where it runs) and without.
  for (const fma of [true, false]) {
    it(`gives the loss and every gradient the cpu backend gives (${fma ? 'FMA build' : 'WORKBENCH_WASM_FMA=0'})`, async () => {
      const { weights, x, labels, expected } = await cpuReference()
      await tf.setBackend('wasm')
      setFmaKernelsEnabled(fma)
      let actual: Float32Array[]
      try {
        expect(simdKernelsFor(tf.backend() as BackendWasm)?.set).toBe(fma ? 'simd+fma' : 'simd')
        actual = lossAndGrads('wasm', weights, x, labels)
      } finally {
        setFmaKernelsEnabled(true)
      }
      expect(actual).toHaveLength(expected.length)
      const errors = expected.map((ref, i) => {
        // A conv bias followed by batch norm has a zero gradient in exact arithmetic: both backends
        // give rounding noise there (~1e-7), so the scale has a floor of 0.1, below every real
        // gradient's largest magnitude here (0.07–1.9 for the weights, 1.85 for the loss).
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0.1)
        return ref.reduce((m, v, j) => Math.max(m, Math.abs(actual[i][j] - v)), 0) / scale
      })
      errors.forEach((e, i) => expect(e, `output ${i} (0 = loss, then gradients in weight order)`).toBeLessThan(1e-4))
    }, 120_000)
  }
})
