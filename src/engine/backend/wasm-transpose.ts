import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { simdKernelsFor } from './simd/simd-kernels'
import { heapF32View } from './wasm-kernel-utils'

/**
 * Transposes a [rows, cols] float32 matrix lying at byte offset `src` of this backend's wasm memory
 * into `dst` ([cols, rows]; the two must not overlap): the SIMD kernel (kernels.wat, transpose) when
 * both sides are multiples of 4 and the kernels run, else blocks in JS. Dense layers' weights
 * (wasm-matmul.ts) and convolution filters (wasm-conv-gradients.ts) go through here every step.
 */
export function transposeInWasm(backend: BackendWasm, src: number, dst: number, rows: number, cols: number): void {
  const simd = rows % 4 === 0 && cols % 4 === 0 ? simdKernelsFor(backend) : undefined
  if (simd) return simd.exports.transpose(src, dst, rows, cols)
  const heap = heapF32View(backend)
  transposeValues(heap, src / 4, heap, dst / 4, rows, cols)
}

/** Side of the blocks transposeValues copies: both blocks' rows stay in the L1 cache. */
const BLOCK = 16

/**
 * Writes the [rows, cols] matrix at src[from…] transposed, [cols, rows], to dst[to…], in square
 * blocks: a plain row-by-row loop writes every value a whole row apart, a cache miss each (a
 * 3×3×512×512 filter's channel swap: 17.6 ms plain, 5.8 ms in blocks of 16).
 */
export function transposeValues(src: Float32Array, from: number, dst: Float32Array, to: number, rows: number, cols: number): void {
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK)
    for (let c0 = 0; c0 < cols; c0 += BLOCK) {
      const c1 = Math.min(cols, c0 + BLOCK)
      for (let r = r0; r < r1; r++) {
        for (let c = c0, s = from + r * cols + c0, d = to + c0 * rows + r; c < c1; c++, s++, d += rows) dst[d] = src[s] as number
      }
    }
  }
}
