import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
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

describe('a VGG11-BN training step on wasm with the workbench kernels', () => {
  it('gives the loss and every gradient the cpu backend gives', async () => {
    await selectBackend('wasm')
    const random = createRandom(21)
    const template = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: 5, seed: 3, dropout: 0 })
    const weights = template.getWeights().map((w) => w.dataSync() as Float32Array)
    template.dispose()
    const count = 6
    const x = Float32Array.from({ length: count * 32 * 32 * 3 }, () => random.next() * 2 - 1)
    const labels = Int32Array.from({ length: count }, (_, i) => i % 5)
    await tf.setBackend('cpu')
    const expected = lossAndGrads('cpu', weights, x, labels)
    await tf.setBackend('wasm')
    const actual = lossAndGrads('wasm', weights, x, labels)
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
})
