/**
 * The SIMD kernels (kernels.wat) against the JS loops they stand in for: the batch-norm sums give the
 * same bits, the SGD step the same values within float32 rounding; and kernels-wasm.ts is what the
 * .wat assembles to.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../../../scripts/build-simd-kernels'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { setSimdKernelsEnabled, SimdKernels, simdKernelsFor } from '../../../src/engine/backend/simd/simd-kernels'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { createRandom } from '../../../src/engine/random'
import { lossAndGradients } from '../../../src/engine/train/train-step'
import { momentumUpdate, momentumUpdateWasm } from '../../../src/engine/train/parallel/momentum-update'

let backend: BackendWasm
let simd: SimdKernels

beforeAll(async () => {
  await selectBackend('wasm')
  backend = tf.backend() as BackendWasm
  const kernels = simdKernelsFor(backend)
  // The fast path must engage on the wasm build the engine uses; a silent fallback would pass the rest.
  expect(kernels).toBeDefined()
  simd = kernels as SimdKernels
})

const random = createRandom(17)
const values = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (random.next() * 2 - 1) * scale)
const offset = (t: tf.Tensor): number => SimdKernels.offsetOf(backend, t)

describe('the SIMD kernels', () => {
  it('are what kernels.wat assembles to', async () => {
    const wat = readFileSync(new URL('../../../src/engine/backend/simd/kernels.wat', import.meta.url), 'utf8')
    const generated = readFileSync(new URL('../../../src/engine/backend/simd/kernels-wasm.ts', import.meta.url), 'utf8')
    expect(generated).toBe(await generate(wat))
  })

  it('turn off and on again (WORKBENCH_WASM_SIMD=0, benches), and the fallbacks compute the same', () => {
    const x = tf.randomNormal([2, 6, 6, 8])
    const dy = tf.randomNormal([2, 6, 6, 16])
    const filterGrad = (): Float32Array =>
      tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array)
    const fast = filterGrad()
    setSimdKernelsEnabled(false)
    try {
      expect(simdKernelsFor(backend)).toBeUndefined()
      const slow = filterGrad()
      const scale = Math.max(...fast.map(Math.abs))
      slow.forEach((v, i) => expect(Math.abs(v - (fast[i] as number))).toBeLessThan(1e-5 * scale))
    } finally {
      setSimdKernelsEnabled(true)
    }
    expect(simdKernelsFor(backend)).toBe(simd)
    tf.dispose([x, dy])
  })

  it('leave a VGG11-BN training step’s gradients as their fallbacks compute them, plain and synced batch norm', () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 4, numClasses: 10, seed: 5, dropout: 0 })
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
    const count = 6
    const batch = { x: values(count * 32 * 32 * 3), labels: Int32Array.from({ length: count }, (_, i) => i % 10), count }
    const oneWorker = { allReduceSmall: (v: ArrayLike<number>) => Float64Array.from(v) }
    const gradients = (on: boolean, synced: boolean): Record<string, Float32Array> => {
      setSimdKernelsEnabled(on)
      try {
        return tf.tidy(() => {
          const shard = lossAndGradients(model, variables, batch, { size: 32, numClasses: 10 }, { reducer: synced ? oneWorker : undefined })
          return Object.fromEntries(Object.entries(shard.grads).map(([name, g]) => [name, g.dataSync() as Float32Array]))
        })
      } finally {
        setSimdKernelsEnabled(true)
      }
    }
    for (const synced of [false, true]) {
      const fast = gradients(true, synced)
      const slow = gradients(false, synced)
      for (const [name, expected] of Object.entries(slow)) {
        // A convolution's bias before batch norm has a gradient of 0 up to rounding: nothing to compare.
        if (/conv\d+\/bias$/.test(name)) continue
        const actual = fast[name] as Float32Array
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
        const worst = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0)
        expect(worst / scale, `${name}${synced ? ' (synced)' : ''}`).toBeLessThan(1e-4)
      }
    }
    model.dispose()
  })

  for (const [positions, channels] of [[1, 4], [37, 12], [300, 128]] as const) {
    it(`sum x and x² per channel as the JS loop does, to the bit (${positions} × ${channels})`, () => {
      // An offset mean makes E[x²] large next to the variance, where float32 sums would show.
      const x = tf.tensor2d(values(positions * channels, 3).map((v) => v + 40), [positions, channels])
      const data = x.dataSync() as Float32Array
      const expected = new Float64Array(2 * channels)
      for (let i = 0; i < data.length; i++) {
        const c = i % channels
        expected[c] += data[i] as number
        expected[channels + c] += (data[i] as number) ** 2
      }
      expect(simd.channelSums(offset(x), positions, channels)).toEqual(expected)
      x.dispose()
    })

    it(`sum dy and dy·(x − mean) per channel as the JS loop does, to the bit (${positions} × ${channels})`, () => {
      const x = tf.tensor2d(values(positions * channels), [positions, channels])
      const dy = tf.tensor2d(values(positions * channels), [positions, channels])
      const mean = tf.tensor1d(values(channels))
      const [xs, g, mu] = [x, dy, mean].map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array, Float32Array]
      const expected = new Float64Array(2 * channels)
      for (let i = 0; i < xs.length; i++) {
        const c = i % channels
        expected[c] += g[i] as number
        expected[channels + c] += (g[i] as number) * ((xs[i] as number) - (mu[c] as number))
      }
      expect(simd.batchNormGradSums(offset(x), offset(dy), offset(mean), positions, channels)).toEqual(expected)
      tf.dispose([x, dy, mean])
    })
  }

  // 37: a tail after the 4-wide loop; 65,541: across two chunk boundaries of the update.
  for (const n of [37, 65541]) {
    for (const workers of [1, 2, 3]) {
      it(`take the SGD step the JS update takes, ${workers} worker(s), ${n} values, with and without Nesterov`, () => {
        for (const useNesterov of [false, true]) {
          const settings = { lr: 0.07, momentum: 0.9, useNesterov, weightDecay: 5e-3 }
          const at = 3
          const regions = Array.from({ length: workers }, () => values(at + n + 2))
          const start = values(n)
          const jsWeights = Float32Array.from(start)
          const jsVelocity = values(n, 0.1)
          const wasmVelocity = Float32Array.from(jsVelocity)
          for (let step = 0; step < 2; step++) momentumUpdate(regions, at, jsWeights, jsWeights, jsVelocity, settings)
          const w = tf.tensor1d(start)
          for (let step = 0; step < 2; step++) momentumUpdateWasm(simd, regions, at, offset(w), offset(w), n, wasmVelocity, settings)
          const got = w.dataSync() as Float32Array
          let worst = 0
          for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs((got[j] as number) - (jsWeights[j] as number)), Math.abs((wasmVelocity[j] as number) - (jsVelocity[j] as number)))
          expect(worst).toBeLessThan(1e-5)
          // The weights moved: the comparison is not between two untouched copies.
          expect(Math.abs((got[0] as number) - (start[0] as number))).toBeGreaterThan(1e-3)
          w.dispose()
        }
      })
    }
  }
})
