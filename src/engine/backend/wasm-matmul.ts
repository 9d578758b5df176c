import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { BACKEND, run, withScratch } from './wasm-kernel-utils'
import { transposeInWasm } from './wasm-transpose'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'

const MATMUL = 'BatchMatMul'

/** wasm's own BatchMatMul: fast without transposes (XNNPACK), slow with them. */
let originalMatMul: tf.KernelConfig | undefined

/** Operands (by data id) already multiplied as the right-hand side: XNNPACK keeps them packed. */
let packedRight = new WeakSet<object>()
/** Right-hand operands (by data id) seen before: a reused B (inference weights) is worth packing once. */
let seenRight = new WeakSet<object>()

/**
 * Registers a BatchMatMul for wasm that never takes wasm's transposed path and keeps big operands
 * out of XNNPACK's weight packing. wasm's own kernel has one fast path, a plain A·B with batch 1,
 * where XNNPACK treats B as a dense layer's weights: it packs B (a slow strided copy: ~300 ms for
 * 4096×4096 here) and caches the packing under B's tensor. Everything else is a naive loop,
 * 20–40× slower (measured on 64×1024 · 1024×1024: 4.7 ms plain, 101 ms with transposeB, 174 ms with
 * transposeA). In training, B is a new tensor every step, so every call packs.
 *
 * So each product is computed either as it stands, op(A)·op(B), or as its transpose,
 * (op(B)ᵀ·op(A)ᵀ)ᵀ — whichever moves fewer bytes through transposes (blocked, in JS) and packing.
 * A dense layer's input gradient dy·Wᵀ then becomes (W·dyᵀ)ᵀ: the big weight matrix is read as it
 * lies, and only the batch-sized operands are transposed and packed. A right operand that comes back
 * (a dense layer's weights in inference) is multiplied as it stands, so XNNPACK packs it once. A plain
 * A·B whose B is new (a dense layer's forward pass in training) runs in the workbench's SIMD kernel
 * instead (productInSimdKernel). The two round differently: the same product can differ in its last
 * bits between a weight matrix's first use and the next ones. Idempotent.
 */
export function registerWasmMatMul(): void {
  const current = tf.getKernel(MATMUL, BACKEND)
  if (current == null) throw new Error(`No wasm ${MATMUL} kernel: import '@tensorflow/tfjs-backend-wasm' first`)
  if (current.kernelFunc === batchMatMul) return
  originalMatMul = current
  packedRight = new WeakSet()
  seenRight = new WeakSet()
  tf.unregisterKernel(MATMUL, BACKEND)
  tf.registerKernel({ kernelName: MATMUL, backendName: BACKEND, kernelFunc: batchMatMul, setupFunc: current.setupFunc })
}

/** Relative cost per element of XNNPACK's weight packing and of a JS transpose (measured ~4:2). */
const PACK_COST = 4
const TRANSPOSE_COST = 2

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const original = originalMatMul as tf.KernelConfig
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
  const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs
  const wasm = args.backend as BackendWasm
  const plain = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo => {
    packedRight.add(y.dataId)
    return original.kernelFunc({ ...args, inputs: { a: x, b: y }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo
  }
  const batchOf = (t: tf.TensorInfo): number => t.shape.slice(0, -2).reduce((x, y) => x * y, 1)
  if (batchOf(a) !== 1 || batchOf(b) !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') {
    // wasm multiplies batches only with its naive loop; at least spare it the transposed indexing.
    if (!transposeA && !transposeB) return original.kernelFunc(args) as tf.TensorInfo
    return withScratch(wasm, (temp) => {
      const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
        const perm = t.shape.map((_, i) => i)
        perm.push(...perm.splice(-2).reverse())
        return temp(run(wasm, 'Transpose', { x: t }, { perm }))
      }
      return plain(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b)
    })
  }
  // Single matrices (2D, or with batch dimensions of size 1): views as [1, rows, cols].
  const as3d = (t: tf.TensorInfo): tf.TensorInfo => ({ ...t, shape: [1, ...t.shape.slice(-2)] })
  const a3 = as3d(a)
  const b3 = as3d(b)
  const [m, k] = transposeA ? [a3.shape[2], a3.shape[1]] : [a3.shape[1], a3.shape[2]]
  const n = transposeB ? b3.shape[1] : b3.shape[2]
  const outShape = [...(a.shape.length >= b.shape.length ? a : b).shape.slice(0, -2), m, n]
  // Packing is free when XNNPACK still holds this operand packed, and worth paying once for an
  // operand that comes back (inference with fixed weights): it stays packed from then on.
  const reused = seenRight.has(b.dataId)
  seenRight.add(b.dataId)
  if (!transposeA && !transposeB && !reused && !packedRight.has(b.dataId)) {
    const simd = n % 8 === 0 ? simdKernelsFor(wasm) : undefined
    if (simd) return { ...productInSimdKernel(wasm, simd, a3, b3, m, k, n), shape: outShape }
  }
  const packB = (packedRight.has(b.dataId) || reused) && !transposeB ? 0 : PACK_COST * k * n
  const direct = (transposeA ? TRANSPOSE_COST * m * k : 0) + (transposeB ? TRANSPOSE_COST * k * n : 0) + packB
  const flipped = (transposeB ? 0 : TRANSPOSE_COST * k * n) + (transposeA ? 0 : TRANSPOSE_COST * m * k) + PACK_COST * k * m + TRANSPOSE_COST * m * n
  const result = withScratch(wasm, (temp) => {
    const t = (x: tf.TensorInfo): tf.TensorInfo => temp(transposeMatrix(wasm, x))
    if (direct <= flipped) return plain(transposeA ? t(a3) : a3, transposeB ? t(b3) : b3)
    // Cᵀ = op(B)ᵀ · op(A)ᵀ, where op(B)ᵀ is B itself when transposeB, and op(A)ᵀ is A when transposeA.
    const product = temp(plain(transposeB ? b3 : t(b3), transposeA ? a3 : t(a3)))
    return transposeMatrix(wasm, product)
  })
  return { ...result, shape: outShape }
}

/** [1, rows, cols] → [1, cols, rows] (wasm's Transpose is slow here). */
function transposeMatrix(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  const [, rows, cols] = x.shape as [number, number, number]
  const out = backend.makeOutput([1, cols, rows], 'float32')
  transposeInWasm(backend, SimdKernels.offsetOf(backend, x), SimdKernels.offsetOf(backend, out), rows, cols)
  return out
}

/**
 * A·B for [1, m, k] · [1, k, n], n a multiple of 8, where B is new (training: a dense layer's weights
 * change every step), in the convolution kernel (kernels.wat, conv_input_grad): the product is a
 * 1×1 convolution of A, as an image of m pixels with k channels, with B as its filter. That kernel
 * reads B packed in groups of 8 columns, [n / 8, k, 8]: one pass of 32-byte moves (packPanels8),
 * where XNNPACK packs B in its own layout (or the flipped product transposes it) on every call.
 * VGG11 width ¼, batch 32, fc2's forward (32×1024 · 1024×1024, a new B each call), alternating runs:
 * 6.9 → 2.9 ms (4.1 → 2.3 in a quieter phase of this machine). The other two products of a dense
 * layer's training step (dy·Wᵀ, xᵀ·dy) stay with XNNPACK: in these kernels they measured slower.
 */
function productInSimdKernel(wasm: BackendWasm, simd: SimdKernels, a: tf.TensorInfo, b: tf.TensorInfo, m: number, k: number, n: number): tf.TensorInfo {
  return withScratch(wasm, (temp) => {
    const packed = temp(wasm.makeOutput([n / 8, k, 8], 'float32'))
    const out = wasm.makeOutput([1, m, n], 'float32')
    const offset = (t: tf.TensorInfo): number => SimdKernels.offsetOf(wasm, t)
    simd.packPanels8(offset(b), n, k, n, offset(packed), 32 * k)
    // conv_input_grad's dy is A as one row of m pixels ([1, 1, m, k], no padding), its filter B.
    simd.exports.conv_input_grad(offset(a), offset(packed), offset(out), 1, 1, m, n, 1, m, k, 1, 1, 0, 0)
    return out
  })
}
