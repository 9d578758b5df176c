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
