import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { heapF32, replaceKernel } from './wasm-kernel-utils'

/**
 * Sum and Mean over leading axes for the wasm backend. Batch norm and bias gradients reduce an NHWC
 * tensor over N, H and W, keeping C. wasm's own kernels can reduce only innermost axes, so they
 * first transpose the whole tensor to [C, N·H·W]: on a VGG11-BN training step (width ¼) that made
 * Sum and Mean ~20% of the time. Reducing over leading axes is a column sum that needs no transpose:
 * one pass over the data, accumulated in float64. Other reductions go to wasm's own kernels.
 */

const SUM = 'Sum'
const MEAN = 'Mean'
const originals = new Map<string, tf.KernelConfig>()

type KernelArgs = Parameters<tf.KernelFunc>[0]

/** Registers the column-reducing Sum and Mean for wasm. Idempotent. */
export function registerWasmReductions(): void {
  for (const [name, kernel] of [[SUM, sum], [MEAN, mean]] as const) {
    const replaced = replaceKernel(name, kernel)
    if (replaced) originals.set(name, replaced)
  }
}

function sum(args: KernelArgs): tf.TensorInfo {
  return reduceLeading(args, SUM, false)
}

function mean(args: KernelArgs): tf.TensorInfo {
  return reduceLeading(args, MEAN, true)
}

function reduceLeading(args: KernelArgs, name: string, divide: boolean): tf.TensorInfo {
  const backend = args.backend as BackendWasm
  const { x } = args.inputs as { x: tf.TensorInfo }
  const { axis, keepDims } = (args.attrs ?? {}) as unknown as { axis: number | number[]; keepDims: boolean }
  const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b)
  const leading = axes.every((a, i) => a === i)
  // Reducing innermost axes (or everything) needs no transpose: wasm's own kernel does it well.
  const innermost = axes.length === 0 || axes[axes.length - 1] === x.shape.length - 1
  if (x.dtype !== 'float32' || !leading || innermost) {
    const original = originals.get(name)
    if (original == null) throw new Error(`wasm's own ${name} was never saved`)
    return original.kernelFunc(args) as tf.TensorInfo
  }
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1)
  const kept = x.shape.slice(axes.length)
  const columns = kept.reduce((a, b) => a * b, 1)
  const outShape = keepDims ? [...axes.map(() => 1), ...kept] : kept
  const out = backend.makeOutput(outShape, 'float32')
  const simd = columns % 4 === 0 ? simdKernelsFor(backend) : undefined
  // The same sums in the same order, four columns at a time (kernels.wat).
  const acc = simd ? simd.columnSums(SimdKernels.offsetOf(backend, x), rows, columns) : columnSums(heapF32(backend, x), rows, columns)
  const output = heapF32(backend, out)
  const scale = divide && rows > 0 ? 1 / rows : 1
  for (let c = 0; c < columns; c++) output[c] = divide && rows === 0 ? NaN : acc[c] * scale
  return out
}

/** Σ per column of a row-major [rows, columns] matrix, in float64. */
function columnSums(input: Float32Array, rows: number, columns: number): Float64Array {
  const acc = new Float64Array(columns)
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++, i++) acc[c] += input[i] as number
  }
  return acc
}
