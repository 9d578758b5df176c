import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { replaceKernel } from './wasm-kernel-utils'

/**
 * An Identity that shares its input's buffer (with a reference count, as wasm's Reshape does)
 * instead of copying it. tfjs clones every tensor a kernel saves for the backward pass, through
 * Identity, and wasm's copies: 265 copies, 5 ms of a width-¼ worker's 150 ms step (bench/profile-step.ts
 * --worker). Sharing is safe because no kernel writes its inputs: wasm buffers, like every tfjs
 * tensor, are immutable once made (the cpu backend's Identity shares too).
 */
export function registerWasmIdentity(): void {
  replaceKernel('Identity', identity as unknown as tf.KernelFunc)
}

function identity({ inputs, backend }: { inputs: { x: tf.TensorInfo }; backend: BackendWasm }): tf.TensorInfo {
  const { x } = inputs
  if (x.dtype === 'string') throw new Error('wasm Identity: string tensors are not supported')
  backend.incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}
