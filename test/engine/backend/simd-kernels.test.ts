/**
 * The SIMD kernels (kernels.wat) against the JS loops they stand in for, in both builds (with fused
 * multiply-adds, relaxed SIMD, and without): the batch-norm sums give the same bits, the SGD step the
 * same values within float32 rounding; kernels-wasm.ts is what the .wat assembles to; and the FMA build
 * is chosen where the runtime has relaxed SIMD (Node 20 with V8's flag, which the engine sets; Node 24).
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FUSE_MARKER, fuseMultiplyAdds, generate } from '../../../scripts/build-simd-kernels'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { RELAXED_SIMD_PROBE_BASE64 } from '../../../src/engine/backend/simd/kernels-wasm'
import {
  relaxedSimdSupported,
  setFmaKernelsEnabled,
  setSimdKernelsEnabled,
  SimdKernels,
  simdKernelsFor,
  wasmKernelSet
} from '../../../src/engine/backend/simd/simd-kernels'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { createRandom } from '../../../src/engine/random'
import { lossAndGradients } from '../../../src/engine/train/train-step'
import { momentumUpdate, momentumUpdateWasm } from '../../../src/engine/train/parallel/momentum-update'

let backend: BackendWasm
let simd: SimdKernels

beforeAll(async () => {
  await selectBackend('wasm')
  backend = tf.backend() as BackendWasm
  // Node 20 has relaxed SIMD behind a flag the engine sets, Node 22+ by default: the FMA build must run.
  expect(relaxedSimdSupported()).toBe(true)
  expect(wasmKernelSet()).toBe('simd+fma')
  const kernels = simdKernelsFor(backend)
  // The fast path must engage on the wasm build the engine uses; a silent fallback would pass the rest.
  expect(kernels?.set).toBe('simd+fma')
  simd = kernels as SimdKernels
})

const random = createRandom(17)
const values = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (random.next() * 2 - 1) * scale)
const offset = (t: tf.Tensor): number => SimdKernels.offsetOf(backend, t)

/** One VGG11-BN (width ¼) and batch for both builds' training-step test, and its fallback gradients by synced. */
let vgg: { model: tf.LayersModel; variables: tf.Variable[]; batch: { x: Float32Array; labels: Int32Array; count: number } } | undefined
const fallbackGradients = new Map<boolean, Record<string, Float32Array>>()
function vggStep(): NonNullable<typeof vgg> {
  if (!vgg) {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 4, numClasses: 10, seed: 5, dropout: 0 })
    const count = 6
    const batch = { x: values(count * 32 * 32 * 3), labels: Int32Array.from({ length: count }, (_, i) => i % 10), count }
    vgg = { model, variables: model.trainableWeights.map((w) => w.read() as tf.Variable), batch }
  }
  return vgg
}
afterAll(() => vgg?.model.dispose())

describe('the SIMD kernels', () => {
  it('are what kernels.wat assembles to, both builds and the probe', async () => {
    const wat = readFileSync(new URL('../../../src/engine/backend/simd/kernels.wat', import.meta.url), 'utf8')
    const generated = readFileSync(new URL('../../../src/engine/backend/simd/kernels-wasm.ts', import.meta.url), 'utf8')
    expect(generated).toBe(await generate(wat))
    // The FMA build fuses every multiply-add of the multiply-add-bound kernels: 8 per inner step of
    // the two convolution gradients (a 4×8 block), 4 in the SGD step, and batch norm's.
    expect(fuseMultiplyAdds(wat).fused).toEqual({ batch_norm_apply: 1, batch_norm_backward: 1, conv_input_grad: 8, momentum_step: 4, conv_filter_grad: 8 })
  })

  it('fuse c + a·b and c − a·b only, without reordering, in marked functions only', () => {
    const wat = `(module
      (func (export "plain") (param v128 v128 v128) (result v128) (f32x4.add (local.get 0) (f32x4.mul (local.get 1) (local.get 2))))
      ;; ${FUSE_MARKER}
      (func (export "fused") (param v128 v128 v128) (result v128)
        (f32x4.sub (f32x4.add (f32x4.mul (local.get 0) (local.get 1)) (local.get 2)) (f32x4.mul (local.get 1) (local.get 2))))
      ;; ${FUSE_MARKER}
      (func (export "kept") (param v128 v128 v128) (result v128)
        (f32x4.add (f32x4.sub (f32x4.mul (local.get 0) (local.get 1)) (local.get 2)) (f32x4.mul (local.tee 0 (local.get 1)) (local.get 2)))))`
    expect(() => fuseMultiplyAdds(wat)).toThrow(/kept is marked @fuse-multiply-add but has no f32x4 multiply-add to fuse/)
    const { text, fused } = fuseMultiplyAdds(wat.replace(/;; @fuse-multiply-add\s*\(func \(export "kept"\)/, '(func (export "kept")'))
    expect(fused).toEqual({ fused: 2 })
    expect(text).toContain('(f32x4.add (local.get 0) (f32x4.mul (local.get 1) (local.get 2)))')
    expect(text).toContain('(f32x4.relaxed_nmadd (local.get 1) (local.get 2) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))')
    expect(() => fuseMultiplyAdds(`(module ;; ${FUSE_MARKER}\n (memory 1))`)).toThrow(/must stand right before a \(func/)
  })

  it('choose the build without fused multiply-adds when told to (WORKBENCH_WASM_FMA=0), and back', () => {
    setFmaKernelsEnabled(false)
    try {
      expect(wasmKernelSet()).toBe('simd')
      expect(simdKernelsFor(backend)?.set).toBe('simd')
      setSimdKernelsEnabled(false)
      expect(wasmKernelSet()).toBe('off')
    } finally {
      setSimdKernelsEnabled(true)
      setFmaKernelsEnabled(true)
    }
    expect(simdKernelsFor(backend)).toBe(simd)
  })

  it('fuse in the FMA build where this CPU fuses relaxed_madd, and compute the same within rounding', () => {
    // (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ exactly, but 0 when the product is rounded to float32 first.
    // (The node typings in use do not declare WebAssembly's classes.)
    const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: object } } }).WebAssembly
    const probe = new wasm.Instance(new wasm.Module(Buffer.from(RELAXED_SIMD_PROBE_BASE64, 'base64'))).exports as { probe(a: number, b: number, c: number): number }
    const cpuFuses = probe.probe(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11)) !== 0
    const x = tf.randomNormal([2, 6, 6, 8], 0, 1, 'float32', 3)
    const dy = tf.randomNormal([2, 6, 6, 16], 0, 1, 'float32', 4)
    const filterGrad = (): Float32Array =>
      tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array)
    const fused = filterGrad()
    setFmaKernelsEnabled(false)
    let plain: Float32Array
    try {
      plain = filterGrad()
    } finally {
      setFmaKernelsEnabled(true)
    }
    const scale = Math.max(...plain.map(Math.abs))
    plain.forEach((v, i) => expect(Math.abs(v - (fused[i] as number))).toBeLessThan(1e-5 * scale))
    // Where the CPU fuses (x86-64 with FMA3, arm64), the FMA build really ran: its roundings differ.
    expect(plain.some((v, i) => v !== fused[i])).toBe(cpuFuses)
    tf.dispose([x, dy])
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

})

for (const fma of [true, false]) describe(`the SIMD kernels, ${fma ? 'FMA build (relaxed SIMD)' : 'plain SIMD build (WORKBENCH_WASM_FMA=0)'}`, () => {
  beforeAll(() => {
    setFmaKernelsEnabled(fma)
    simd = simdKernelsFor(backend) as SimdKernels
    expect(simd.set).toBe(fma ? 'simd+fma' : 'simd')
  })
  afterAll(() => {
    setFmaKernelsEnabled(true)
    simd = simdKernelsFor(backend) as SimdKernels
  })

  it('leave a VGG11-BN training step’s gradients as their fallbacks compute them, plain and synced batch norm', () => {
    const { model, variables, batch } = vggStep()
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
      // The fallbacks do not depend on the build: computed once for both.
      let slow = fallbackGradients.get(synced)
      if (!slow) fallbackGradients.set(synced, (slow = gradients(false, synced)))
      for (const [name, expected] of Object.entries(slow)) {
        // A convolution's bias before batch norm has a gradient of 0 up to rounding: nothing to compare.
        if (/conv\d+\/bias$/.test(name)) continue
        const actual = fast[name] as Float32Array
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
        const worst = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0)
        expect(worst / scale, `${name}${synced ? ' (synced)' : ''}`).toBeLessThan(1e-4)
      }
    }
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
