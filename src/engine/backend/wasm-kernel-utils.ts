import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'

/** The backend name every workbench wasm kernel registers under. */
export const BACKEND = 'wasm'

type Attrs = tf.NamedAttrMap
type TensorInfo = tf.TensorInfo

/**
 * Calls a wasm kernel's function directly, as wasm's own composite kernels do: tf ops inside a
 * kernel would create engine-tracked tensors and gradient-tape entries.
 */
export function run(backend: BackendWasm, name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs): TensorInfo {
  const config = tf.getKernel(name, BACKEND)
  if (config == null) throw new Error(`wasm kernel ${name} is not registered`)
  return config.kernelFunc({ inputs, backend, attrs }) as TensorInfo
}

/**
 * Runs `body`, then frees every intermediate it marked with `temp` — also when it throws. Kernel
 * outputs that the engine never sees are invisible to tf.tidy, so they must be freed by hand.
 */
export function withScratch(backend: BackendWasm, body: (temp: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const scratch: TensorInfo[] = []
  try {
    return body((t) => {
      scratch.push(t)
      return t
    })
  } finally {
    for (const t of scratch) backend.disposeData(t.dataId)
  }
}

/**
 * A float32 view of a tensor's bytes in wasm memory, for kernels written in JS. Take views only
 * after every `makeOutput` of the kernel: an allocation may grow (and so replace) wasm's memory.
 */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  const offset = backend.dataIdMap.get(t.dataId)?.memoryOffset
  if (offset == null) throw new Error('tensor is not in wasm memory')
  return new Float32Array(currentBuffer(backend), offset, tf.util.sizeFromShape(t.shape))
}

/**
 * Copies an NHWC image [n, h, w, c] at index `src` of `memory` into a [n, hp, wp, c] one at index `dst`
 * with its top-left corner at (top, left) and zeros around it: the border the SIMD convolution kernels
 * read instead of checking bounds. Only the border is zeroed (zeroing the whole image first wrote most
 * values twice). One view of all of wasm memory and indices into it, so that each row moves with
 * copyWithin: a view per row (src.subarray) was ~2,800 objects a width-¼ worker step, 246 KB of garbage.
 */
export function padImage(memory: Float32Array, src: number, dst: number, [n, h, w, c]: [number, number, number, number], hp: number, wp: number, top: number, left: number): void {
  const rowValues = w * c
  const paddedRow = wp * c
  const leftValues = left * c
  const rightStart = leftValues + rowValues
  for (let b = 0; b < n; b++) {
    const image = dst + b * hp * paddedRow
    // The rows above and below the image, then each image row's left and right margins.
    memory.fill(0, image, image + top * paddedRow)
    memory.fill(0, image + Math.min(hp, top + h) * paddedRow, image + hp * paddedRow)
    for (let y = 0; y < h; y++) {
      const row = image + (y + top) * paddedRow
      const from = src + (b * h + y) * rowValues
      if (leftValues > 0) memory.fill(0, row, row + leftValues)
      memory.copyWithin(row + leftValues, from, from + rowValues)
      if (rightStart < paddedRow) memory.fill(0, row + rightStart, row + paddedRow)
    }
  }
}

/** A float32 tensor, tracked by the engine, whose values a kernel is about to write (wasm memory, uninitialised). */
export function newWasmTensor(backend: BackendWasm, shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32'), backend)
}

/** All of wasm memory as floats, as it is now (valid until the next allocation). */
export function heapF32View(backend: BackendWasm): Float32Array {
  return new Float32Array(currentBuffer(backend))
}

/**
 * wasm's memory buffer as it is now. The threaded build's JS views (HEAPU8 …) follow memory growth
 * lazily, so ask the Memory object itself when there is one.
 */
function currentBuffer(backend: BackendWasm): ArrayBufferLike {
  const module = backend.wasm as unknown as { wasmMemory?: { buffer: ArrayBufferLike }; HEAPU8: Uint8Array }
  return module.wasmMemory?.buffer ?? module.HEAPU8.buffer
}

/** Replaces the wasm kernel `name` with `kernelFunc`, keeping its setup; returns the replaced one. Idempotent. */
export function replaceKernel(name: string, kernelFunc: tf.KernelFunc): tf.KernelConfig | undefined {
  const current = tf.getKernel(name, BACKEND)
  if (current?.kernelFunc === kernelFunc) return undefined
  if (current != null) tf.unregisterKernel(name, BACKEND)
  tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc, setupFunc: current?.setupFunc })
  return current
}
