import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { BACKEND, run, withScratch } from './wasm-kernel-utils'

const MATMUL = 'BatchMatMul'

/** wasm's own BatchMatMul: fast without transposes (XNNPACK), slow with them. */
let originalMatMul: tf.KernelConfig | undefined

/**
 * Registers a BatchMatMul for wasm that transposes operands explicitly before multiplying. wasm's
 * own kernel takes a slow path for transposeA/transposeB — measured on 64×1024 · 1024×1024 here:
 * 4.7 ms plain, 101 ms with transposeB, 174 ms with transposeA (20 ms as transpose + plain) —
 * and every dense layer's backward pass uses both. Idempotent.
 */
export function registerWasmMatMul(): void {
  const current = tf.getKernel(MATMUL, BACKEND)
  if (current == null) throw new Error(`No wasm ${MATMUL} kernel: import '@tensorflow/tfjs-backend-wasm' first`)
  if (current.kernelFunc === batchMatMul) return
  originalMatMul = current
  tf.unregisterKernel(MATMUL, BACKEND)
  tf.registerKernel({ kernelName: MATMUL, backendName: BACKEND, kernelFunc: batchMatMul, setupFunc: current.setupFunc })
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const original = originalMatMul as tf.KernelConfig
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
  const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs
  if (!transposeA && !transposeB) return original.kernelFunc(args) as tf.TensorInfo
  const wasm = args.backend as BackendWasm
  return withScratch(wasm, (temp) => {
    // Swap the last two axes of whichever operand is marked transposed, then multiply plainly.
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i)
      perm.push(...perm.splice(-2).reverse())
      return temp(run(wasm, 'Transpose', { x: t }, { perm }))
    }
    const inputs = { a: transposeA ? swapLast(a) : a, b: transposeB ? swapLast(b) : b }
    return original.kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo
  })
}
