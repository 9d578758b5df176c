/**
 * The data-parallel workers' batch norm (one op forward, one backward; SIMD kernels on wasm) gives
 * what tfjs-layers' BatchNormalization gives in training: outputs, gradients of x, γ and β, and the
 * moving averages — on the cpu backend (tf ops) and on wasm (kernels.wat where channels come in
 * fours, tf ops otherwise).
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { movingAverage, syncedBatchNormTraining, type ChannelSumReducer } from '../../../src/engine/models/synced-batch-norm'
import { createRandom } from '../../../src/engine/random'

/** One worker: the sums are this shard's own. */
const oneWorker: ChannelSumReducer = { allReduceSmall: (v) => Float64Array.from(v) }

interface Outcome {
  y: Float32Array
  grads: Float32Array[]
  movingMean: Float32Array
  movingVariance: Float32Array
}

/** A BN layer with random γ, β and moving statistics (the same for every seed-equal call). */
function makeLayer(channels: number, seed: number): tf.layers.Layer {
  const random = createRandom(seed)
  const values = (): Float32Array => Float32Array.from({ length: channels }, () => random.next() * 2 - 0.5)
  const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 })
  layer.build([null, null, null, channels])
  layer.setWeights([tf.tensor1d(values()), tf.tensor1d(values()), tf.tensor1d(values()), tf.tensor1d(values().map(Math.abs))])
  return layer
}

/** A layer's variables (dispose() refuses a layer that apply() never called). */
function disposeWeights(layer: tf.layers.Layer): void {
  for (const w of layer.weights) w.dispose()
}

/** y, and the gradients of Σ y·upstream w.r.t. x, γ and β, through `apply`. */
function run(layer: tf.layers.Layer, x: tf.Tensor, upstream: tf.Tensor, apply: (x: tf.Tensor) => tf.Tensor): Outcome {
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable)
  let y: Float32Array = new Float32Array()
  const { grads } = tf.tidy(() => {
    const f = (): tf.Scalar => {
      const out = apply(x)
      y = out.dataSync() as Float32Array
      return tf.sum(tf.mul(out, upstream))
    }
    const { grads } = tf.variableGrads(f, [gamma as tf.Variable, beta as tf.Variable])
    const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(apply(input), upstream)))(x)
    return { grads: { dx, dGamma: grads[(gamma as tf.Variable).name] as tf.Tensor, dBeta: grads[(beta as tf.Variable).name] as tf.Tensor } }
  })
  const [movingMean, movingVariance] = layer.getWeights().slice(2).map((w) => w.dataSync() as Float32Array)
  const outcome = { y, grads: [grads.dx, grads.dGamma, grads.dBeta].map((g) => g.dataSync() as Float32Array), movingMean, movingVariance }
  tf.dispose([grads.dx, grads.dGamma, grads.dBeta])
  return outcome as Outcome
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length)
  const scale = Math.max(1e-30, ...expected.map(Math.abs))
  const worst = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0)
  expect(worst / scale, what).toBeLessThan(2e-5)
}

beforeAll(async () => {
  // The engine's choice (once per process) registers the workbench's wasm kernels; tests then switch.
  await selectBackend('wasm')
})

afterAll(async () => {
  await tf.setBackend('wasm')
})

const CASES: { name: string; shape: [number, number, number, number]; offset: number }[] = [
  { name: '8 channels (SIMD on wasm)', shape: [4, 5, 6, 8], offset: 0 },
  { name: '5 channels (tf ops)', shape: [3, 4, 4, 5], offset: 0 },
  { name: '12 channels, mean far from 0', shape: [2, 3, 3, 12], offset: 40 }
]

describe('syncedBatchNormTraining', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const c of CASES) {
      it(`matches tfjs-layers' BatchNormalization on ${backend}: ${c.name}`, async () => {
        await tf.setBackend(backend)
        expect(tf.getBackend()).toBe(backend)
        const random = createRandom(c.shape[3] * 7 + c.offset)
        const size = c.shape.reduce((a, b) => a * b)
        const x = tf.tensor4d(Float32Array.from({ length: size }, () => c.offset + random.next() * 6 - 3), c.shape)
        const upstream = tf.tensor4d(Float32Array.from({ length: size }, () => random.next() * 2 - 1), c.shape)
        const reference = makeLayer(c.shape[3], 9)
        const ours = makeLayer(c.shape[3], 9)
        const expected = run(reference, x, upstream, (input) => reference.apply(input, { training: true }) as tf.Tensor)
        const actual = run(ours, x, upstream, (input) => syncedBatchNormTraining(ours, input, oneWorker))
        expectClose(actual.y, expected.y, 'y')
        expectClose(actual.grads[0] as Float32Array, expected.grads[0] as Float32Array, 'dx')
        expectClose(actual.grads[1] as Float32Array, expected.grads[1] as Float32Array, 'dγ')
        expectClose(actual.grads[2] as Float32Array, expected.grads[2] as Float32Array, 'dβ')
        expectClose(actual.movingMean, expected.movingMean, 'moving mean')
        expectClose(actual.movingVariance, expected.movingVariance, 'moving variance')
        tf.dispose([x, upstream])
        for (const layer of [reference, ours]) disposeWeights(layer)
      })
    }
  }

  it('updates the moving averages in JS to the same bits as the tf ops it replaces', async () => {
    await tf.setBackend('wasm')
    const random = createRandom(11)
    const values = (scale: number): Float32Array => Float32Array.from({ length: 37 }, () => (random.next() * 2 - 1) * scale)
    for (const [scale, momentum] of [[1, 0.9], [300, 0.99], [1e-3, 0.1]] as const) {
      const moving = tf.tensor1d(values(scale))
      const batch = values(scale)
      const ours = tf.tidy(() => movingAverage(moving, batch, momentum).dataSync())
      const ops = tf.tidy(() => tf.sub(moving, tf.mul(tf.sub(moving, tf.tensor1d(batch)), 1 - momentum)).dataSync())
      expect(Array.from(ours), `scale ${scale}, momentum ${momentum}`).toEqual(Array.from(ops))
      moving.dispose()
    }
  })

  it('frees its intermediates', async () => {
    await tf.setBackend('wasm')
    const layer = makeLayer(8, 3)
    const x = tf.randomNormal([2, 4, 4, 8])
    const step = (): void =>
      tf.tidy(() => {
        tf.grad((input: tf.Tensor) => tf.sum(syncedBatchNormTraining(layer, input, oneWorker)))(x)
      })
    step()
    const before = tf.memory().numTensors
    step()
    step()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    disposeWeights(layer)
  })
})
