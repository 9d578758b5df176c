import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setFmaKernelsEnabled, simdKernelsFor } from '../../../src/engine/backend/simd/simd-kernels'
import { registerWasmConvGradients } from '../../../src/engine/backend/wasm-conv-gradients'
import { createRandom, type Random } from '../../../src/engine/random'

type Shape4 = [number, number, number, number]
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding

interface Case {
  name: string
  /** [batch, height, width, inChannels] */
  x: Shape4
  /** [fh, fw, inChannels, outChannels] */
  filter: Shape4
  strides?: number | [number, number]
  pad: Pad
  dilations?: number
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

const STRIDE_2: Case = { name: 'stride 2 same', x: [2, 8, 8, 4], filter: [3, 3, 4, 5], strides: 2, pad: 'same' }

const CASES: Case[] = [
  { name: 'VGG 3×3 same, 3→16', x: [4, 8, 8, 3], filter: [3, 3, 3, 16], pad: 'same' },
  { name: 'VGG 3×3 same, 16→32', x: [4, 8, 8, 16], filter: [3, 3, 16, 32], pad: 'same' },
  STRIDE_2,
  { name: 'stride 2 same, odd non-square input', x: [2, 9, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { name: 'stride 2 valid, unread last row', x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: 'strides [2, 1] valid, 2×3 filter', x: [2, 9, 8, 3], filter: [2, 3, 3, 4], strides: [2, 1], pad: 'valid' },
  { name: 'valid', x: [3, 7, 7, 4], filter: [3, 3, 4, 6], pad: 'valid' },
  { name: 'non-square input 7×10', x: [2, 7, 10, 3], filter: [3, 3, 3, 5], pad: 'same' },
  { name: 'non-square filter 3×2 same', x: [2, 7, 10, 3], filter: [3, 2, 3, 5], pad: 'same' },
  { name: 'non-square filter 3×2 valid', x: [2, 7, 10, 3], filter: [3, 2, 3, 5], pad: 'valid' },
  { name: '1×1 filter', x: [2, 6, 6, 8], filter: [1, 1, 8, 4], pad: 'same' },
  { name: '1×1 filter, stride 2', x: [2, 7, 6, 8], filter: [1, 1, 8, 4], strides: 2, pad: 'valid' },
  { name: 'batch 1', x: [1, 8, 8, 3], filter: [3, 3, 3, 4], pad: 'same' },
  { name: 'numeric pad 1', x: [2, 6, 7, 3], filter: [3, 3, 3, 4], pad: 1 },
  { name: 'numeric pad wider than the filter', x: [2, 5, 5, 3], filter: [1, 1, 3, 4], pad: 2 },
  { name: 'numeric pad, stride 2, ceil rounding', x: [2, 8, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 2, dimRoundingMode: 'ceil' },
  { name: 'explicit uneven pads', x: [2, 6, 7, 3], filter: [3, 3, 3, 4], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { name: 'pads reading only zeros', x: [1, 1, 1, 2], filter: [1, 1, 2, 3], strides: 10, pad: 3 },
  { name: 'dilation 2, stride 1, same', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], pad: 'same', dilations: 2 },
  { name: 'dilation 2, stride 1, valid, 3×2 filter', x: [2, 9, 10, 3], filter: [3, 2, 3, 4], pad: 'valid', dilations: 2 },
  // Output channels a multiple of 8 at stride 1: the SIMD filter gradient (kernels.wat conv_filter_grad).
  { name: 'SIMD: 3×3 same, 8→16', x: [3, 8, 8, 8], filter: [3, 3, 8, 16], pad: 'same' },
  { name: 'SIMD: RGB input, padded to 4 channels', x: [2, 9, 7, 3], filter: [3, 3, 3, 8], pad: 'same' },
  { name: 'SIMD: 5 input channels, valid, non-square filter', x: [2, 7, 10, 5], filter: [2, 3, 5, 8], pad: 'valid' },
  { name: 'SIMD: explicit uneven pads, 1 channel', x: [2, 6, 7, 1], filter: [3, 3, 1, 24], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { name: 'SIMD: pad wider than the filter', x: [2, 5, 5, 4], filter: [1, 1, 4, 8], pad: 2 },
  { name: 'SIMD: 1×1 image, batch 1', x: [1, 1, 1, 4], filter: [3, 3, 4, 8], pad: 'same' },
  // 40 × (4 + 8) floats a row: the 32 KB chunks hold 17 rows, so chunks end inside images.
  { name: 'SIMD: chunks that span images', x: [3, 40, 40, 4], filter: [3, 3, 4, 8], pad: 'same' },
  // Input channels a multiple of 8 at stride 1: the SIMD input gradient (kernels.wat conv_input_grad).
  { name: 'SIMD dx: 3×3 same, 16→5, 9 positions (a short last group)', x: [1, 3, 3, 16], filter: [3, 3, 16, 5], pad: 'same' },
  { name: 'SIMD dx: valid, non-square filter and image', x: [2, 7, 10, 8], filter: [2, 3, 8, 3], pad: 'valid' },
  { name: 'SIMD dx: explicit uneven pads', x: [2, 6, 7, 8], filter: [3, 3, 8, 4], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { name: 'SIMD dx: pad wider than the filter', x: [2, 5, 5, 8], filter: [1, 1, 8, 4], pad: 2 },
  { name: 'SIMD dx: 2×2 images, 24 channels', x: [3, 2, 2, 24], filter: [3, 3, 24, 16], pad: 'same' }
]

/** Seeded random shapes, so odd combinations nobody thought of get tried too. */
function randomCases(count: number, random: Random): Case[] {
  const pads: Pad[] = ['same', 'valid', 0, 1, 2]
  return Array.from({ length: count }, (_, i) => {
    const dilations = random.int(4) === 0 ? 2 : 1
    const strides: [number, number] = dilations === 1 ? [1 + random.int(3), 1 + random.int(3)] : [1, 1]
    // Output channels a multiple of 8 (at stride 1) take the SIMD filter gradient: a third of the cases.
    const outChannels = random.int(3) === 0 ? 8 * (1 + random.int(2)) : 1 + random.int(5)
    // Input channels a multiple of 8 take the SIMD input gradient: a third of the cases.
    const inChannels = random.int(3) === 0 ? 8 * (1 + random.int(2)) : 1 + random.int(5)
    const filter: Shape4 = [1 + random.int(4), 1 + random.int(4), inChannels, outChannels]
    const x: Shape4 = [1 + random.int(3), 8 + random.int(6), 8 + random.int(6), filter[2]]
    let pad = pads[random.int(pads.length)]
    // tfjs sizes numeric-pad outputs from the filter height and stride alone (conv_util
    // computeOutputShape2D), so non-square ones get a wrong width, and wasm's forward Conv2D then
    // writes past its output. Explicit pads say the same thing without that bug.
    if (typeof pad === 'number' && (filter[0] !== filter[1] || strides[0] !== strides[1])) {
      pad = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
    }
    return { name: `random ${i}`, x, filter, strides, dilations, pad }
  })
}

interface Grads {
  dx: Float32Array
  dw: Float32Array
}

function randomValues(n: number, random: Random): Float32Array {
  return Float32Array.from({ length: n }, () => random.next() * 2 - 1)
}

function outShape(c: Case): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides ?? 1, c.dilations ?? 1, c.pad, c.dimRoundingMode)
  return info.outShape as Shape4
}

/** The filter with d − 1 zeros between taps: a dilated conv is a plain conv with it. */
function dilateFilter(w: Float32Array, [fh, fw, ci, co]: Shape4, d: number): { values: Float32Array; shape: Shape4 } {
  const shape: Shape4 = [(fh - 1) * d + 1, (fw - 1) * d + 1, ci, co]
  const values = new Float32Array(shape[0] * shape[1] * ci * co)
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = (i * fw + j) * ci * co
      values.set(w.subarray(from, from + ci * co), (i * d * shape[1] + j * d) * ci * co)
    }
  }
  return { values, shape }
}

/** Picks every d-th tap of a gradient for the dilated filter, undoing dilateFilter. */
function undilate(values: Float32Array, [fh, fw, ci, co]: Shape4, d: number): Float32Array {
  const wideW = (fw - 1) * d + 1
  const out = new Float32Array(fh * fw * ci * co)
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = (i * d * wideW + j * d) * ci * co
      out.set(values.subarray(from, from + ci * co), (i * fw + j) * ci * co)
    }
  }
  return out
}

function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): Float32Array {
  return tf.tidy(() => (tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array)
}

/** The cpu backend's own kernels; dilation through a zero-stuffed filter, which cpu does support. */
async function cpuReference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): Promise<Grads> {
  await tf.setBackend('cpu')
  const d = c.dilations ?? 1
  const wide = dilateFilter(w, c.filter, d)
  const attrs = { strides: c.strides ?? 1, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode }
  const xT = tf.tensor4d(x, c.x)
  const dyT = tf.tensor4d(dy, outShape(c))
  const wT = tf.tensor4d(wide.values, wide.shape)
  const dx = runKernel('Conv2DBackpropInput', { dy: dyT, filter: wT }, { ...attrs, inputShape: c.x })
  const dwWide = runKernel('Conv2DBackpropFilter', { x: xT, dy: dyT }, { ...attrs, filterShape: wide.shape })
  tf.dispose([xT, dyT, wT])
  return { dx, dw: undilate(dwWide, c.filter, d) }
}

/** End to end through tf.grads where tf.conv2d can express the case, else the kernels directly. */
async function wasmGrads(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): Promise<Grads> {
  await tf.setBackend('wasm')
  const xT = tf.tensor4d(x, c.x)
  const wT = tf.tensor4d(w, c.filter)
  const dyT = tf.tensor4d(dy, outShape(c))
  let grads: Grads
  if ((c.dilations ?? 1) === 1 && c.dimRoundingMode == null) {
    const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides ?? 1, c.pad)
    const [dx, dw] = tf.grads(conv)([xT, wT], dyT)
    grads = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array }
    tf.dispose([dx, dw])
  } else {
    const attrs = { strides: c.strides ?? 1, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, dilations: c.dilations }
    grads = {
      dx: runKernel('Conv2DBackpropInput', { dy: dyT, filter: wT }, { ...attrs, inputShape: c.x }),
      dw: runKernel('Conv2DBackpropFilter', { x: xT, dy: dyT }, { ...attrs, filterShape: c.filter })
    }
  }
  tf.dispose([xT, wT, dyT])
  return grads
}

function maxAbs(values: Float32Array): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
}

/** Largest difference, relative to the largest magnitude of the reference. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length)
  const diff = actual.map((v, i) => v - expected[i])
  return maxAbs(diff) / Math.max(maxAbs(expected), 1e-30)
}

async function checkCase(c: Case, seed: number): Promise<void> {
  const random = createRandom(seed)
  const x = randomValues(c.x.reduce((a, b) => a * b), random)
  const w = randomValues(c.filter.reduce((a, b) => a * b), random)
  const dy = randomValues(outShape(c).reduce((a, b) => a * b), random)
  const expected = await cpuReference(c, x, w, dy)
  const actual = await wasmGrads(c, x, w, dy)
  expect(relativeError(actual.dx, expected.dx), 'dx').toBeLessThan(1e-4)
  expect(relativeError(actual.dw, expected.dw), 'dW').toBeLessThan(1e-4)
}

function wasmBackend(): BackendWasm {
  return tf.findBackend('wasm') as BackendWasm
}

const INPUT_GRAD = 'Conv2DBackpropInput'
const FILTER_GRAD = 'Conv2DBackpropFilter'
let filterKernelBefore: tf.KernelConfig | undefined
let inputKernelBefore: tf.KernelConfig | undefined
let errorBefore = ''

beforeAll(async () => {
  await tf.setBackend('wasm')
  filterKernelBefore = tf.getKernel(FILTER_GRAD, 'wasm')
  inputKernelBefore = tf.getKernel(INPUT_GRAD, 'wasm')
  try {
    tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))(
      [tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 2])]))
  } catch (e) {
    errorBefore = String(e)
  }
  registerWasmConvGradients()
})

describe('registerWasmConvGradients', () => {
  it('registers a filter gradient that wasm lacked and replaces its input gradient', () => {
    expect(filterKernelBefore).toBeUndefined()
    expect(errorBefore).toContain(FILTER_GRAD)
    expect(tf.getKernel(FILTER_GRAD, 'wasm')).toBeDefined()
    expect(tf.getKernel(INPUT_GRAD, 'wasm')?.kernelFunc).not.toBe(inputKernelBefore?.kernelFunc)
  })

  it('is idempotent and keeps wasm’s own input gradient for stride 2', async () => {
    const filterKernel = tf.getKernel(FILTER_GRAD, 'wasm')
    const inputKernel = tf.getKernel(INPUT_GRAD, 'wasm')
    registerWasmConvGradients()
    expect(tf.getKernel(FILTER_GRAD, 'wasm')).toBe(filterKernel)
    expect(tf.getKernel(INPUT_GRAD, 'wasm')).toBe(inputKernel)
    await checkCase(STRIDE_2, 7)
  })

  for (const [i, c] of CASES.entries()) {
    it(`matches the cpu backend: ${c.name}`, () => checkCase(c, 1000 + i))
  }

  it('has the SIMD kernels here, so the SIMD cases above test them and not a fallback', () => {
    // Their FMA build: Node 20 gets relaxed SIMD from the V8 flag the engine sets, Node 22+ has it.
    expect(simdKernelsFor(wasmBackend())?.set).toBe('simd+fma')
  })

  describe('with the kernels’ build without fused multiply-adds (WORKBENCH_WASM_FMA=0)', () => {
    beforeAll(() => setFmaKernelsEnabled(false))
    afterAll(() => setFmaKernelsEnabled(true))

    it('runs that build', () => {
      expect(simdKernelsFor(wasmBackend())?.set).toBe('simd')
    })

    for (const [i, c] of CASES.entries()) {
      if (c.name.startsWith('SIMD')) it(`matches the cpu backend: ${c.name}`, () => checkCase(c, 1000 + i))
    }
  })

  it('matches the cpu backend on seeded random shapes', async () => {
    const random = createRandom(42)
    for (const [i, c] of randomCases(24, random).entries()) {
      try {
        await checkCase(c, 2000 + i)
      } catch (e) {
        throw new Error(`${JSON.stringify(c)}: ${String(e)}`)
      }
    }
  })

  it('frees every intermediate', async () => {
    await tf.setBackend('wasm')
    const leakCases = CASES.filter((c) => c.dilations == null && c.dimRoundingMode == null)
    const step = (): void => {
      for (const c of leakCases) {
        tf.tidy(() => {
          const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides ?? 1, c.pad)
          tf.grads(conv)([tf.randomNormal(c.x), tf.randomNormal(c.filter)])
        })
      }
    }
    step()
    const tensors = tf.memory().numTensors
    const dataIds = wasmBackend().numDataIds()
    for (let i = 0; i < 3; i++) step()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(wasmBackend().numDataIds()).toBe(dataIds)
  })

  it('rejects NCHW filter gradients with a clear error', async () => {
    await tf.setBackend('wasm')
    const x = tf.ones([1, 2, 4, 4])
    const dy = tf.ones([1, 2, 4, 4])
    expect(() => tf.engine().runKernel(FILTER_GRAD, { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] }))
      .toThrow(/NHWC/)
    tf.dispose([x, dy])
  })
})
