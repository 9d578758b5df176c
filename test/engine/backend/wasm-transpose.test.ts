/**
 * transposeInWasm: the SIMD kernel (kernels.wat, transpose) for sides that are multiples of 4 and
 * the JS blocks otherwise give exactly the transposed matrix, whatever the band and block edges,
 * in both builds of the kernels and with them turned off.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { setFmaKernelsEnabled, setSimdKernelsEnabled, SimdKernels, simdKernelsFor } from '../../../src/engine/backend/simd/simd-kernels'
import { heapF32 } from '../../../src/engine/backend/wasm-kernel-utils'
import { transposeInWasm } from '../../../src/engine/backend/wasm-transpose'

let backend: BackendWasm

beforeAll(async () => {
  await selectBackend('wasm')
  backend = tf.backend() as BackendWasm
})

afterEach(() => {
  setSimdKernelsEnabled(true)
  setFmaKernelsEnabled(true)
})

/** Transposes a rows × cols matrix of distinct values with transposeInWasm; returns the result's values. */
function transposed(rows: number, cols: number): { input: Float32Array; output: Float32Array } {
  const input = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5)
  const x = tf.tensor2d(input, [rows, cols])
  // A guard value after the output: the kernel must not write past it.
  const out = backend.makeOutput([cols * rows + 4], 'float32')
  heapF32(backend, out).fill(-1)
  transposeInWasm(backend, SimdKernels.offsetOf(backend, x), SimdKernels.offsetOf(backend, out), rows, cols)
  const output = heapF32(backend, out).slice()
  backend.disposeData(out.dataId)
  x.dispose()
  return { input, output }
}

function expectTransposed(rows: number, cols: number): void {
  const { input, output } = transposed(rows, cols)
  const expected = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c * rows + r] = input[r * cols + c] as number
  expect(output.subarray(0, rows * cols)).toEqual(expected)
  expect(Array.from(output.subarray(rows * cols))).toEqual([-1, -1, -1, -1])
}

// Square, wide, tall; a band edge (64 columns) crossed and not reached; sides not multiples of 4 (JS).
const SHAPES: [number, number][] = [[4, 4], [8, 4], [4, 200], [132, 68], [1024, 1024], [36, 516], [3, 10], [10, 7], [1, 5]]

describe('transposeInWasm', () => {
  it('transposes with the FMA build of the kernels (the default)', () => {
    expect(simdKernelsFor(backend)?.set).toBe('simd+fma')
    for (const [rows, cols] of SHAPES) expectTransposed(rows, cols)
  })

  it('transposes with the plain SIMD build', () => {
    setFmaKernelsEnabled(false)
    expect(simdKernelsFor(backend)?.set).toBe('simd')
    for (const [rows, cols] of SHAPES) expectTransposed(rows, cols)
  })

  it('transposes in JS with the kernels turned off (WORKBENCH_WASM_SIMD=0)', () => {
    setSimdKernelsEnabled(false)
    expect(simdKernelsFor(backend)).toBeUndefined()
    for (const [rows, cols] of SHAPES) expectTransposed(rows, cols)
  })
})
